"""`egov import metrics`: validated, all-or-nothing import of metric values — the filled `egov
template` workbook (egov.imports.workbook) or a plain CSV file, long or wide
(egov.imports.csvtable).

Every import runs in three steps: (1) the file itself is checked by the hardened reader
(egov.reader: size, type, zip directory, sheet extent); (2) the content is validated
completely, collecting **every** problem with its sheet and cell, or line and column; (3) only
when there is no problem at all are the values written, in the caller's single transaction.
`dry_run` stops after (2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from egov.cycle import refuse_published
from egov.errors import EgovError
from egov.imports.csvtable import read_metric_csv
from egov.imports.values import Catalogue
from egov.imports.workbook import read_template
from egov.models import AssessedObject, MetricValue
from egov.reader import Problems, open_workbook, read_source
from egov.store import (
    add_metric_values,
    check_period_code,
    find_period,
    latest_framework,
    operator_name,
    period_for_import,
)
from indicators.framework import Framework, resolve_framework


@dataclass
class MetricImport:
    """The outcome of a metrics import (or of a dry run)."""

    file: str
    sha256: str
    layout: str  # template | csv-long | csv-wide
    period: str
    values: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)
    dry_run: bool = False
    written: int = 0
    superseded: int = 0


def framework_for_import(session: Session, spec: str | None) -> Framework:
    """--framework FILE|name, else the latest stored framework, else the built-in Macau one."""
    if spec:
        return resolve_framework(spec)
    try:
        return latest_framework(session)[1]
    except EgovError:
        return resolve_framework("macau")


def import_metrics(
    session: Session,
    path: Path,
    period: str,
    framework: Framework,
    *,
    dry_run: bool = False,
    operator: str | None = None,
) -> MetricImport:
    """Validate a metrics file completely, then (unless `dry_run`) store every value with its
    provenance in the caller's transaction; raise EgovError listing every problem otherwise."""
    src = read_source(path, ("xlsx", "csv"))
    check_period_code(session, period)
    objects = {
        code: (kind, sub)
        for code, kind, sub in session.exec(
            select(AssessedObject.code, AssessedObject.kind, AssessedObject.subkind)
        ).all()
    }
    if not objects:
        raise EgovError("no assessed objects registered; run `egov import departments FILE` first")
    cat = Catalogue(framework, objects)
    problems = Problems()
    if src.kind == "xlsx":
        wb = open_workbook(src)
        values, notes = read_template(wb, src.name, period, cat, problems)
        layout = "template"
    else:
        values, notes, layout = read_metric_csv(src, cat, problems)
    problems.raise_if_any(src.name)
    if not values:
        raise EgovError(f"{src.name}: no values found; nothing was imported")
    report = MetricImport(
        file=src.name,
        sha256=src.sha256,
        layout=layout,
        period=period,
        values=values,
        notes=notes,
        dry_run=dry_run,
    )
    period_row = find_period(session, period)
    if period_row is not None:
        refuse_published(session, period_row.id)
        report.superseded = _count_current(session, period_row.id, values)
    if dry_run:
        return report
    period_row = period_for_import(session, period)
    report.written = add_metric_values(
        session,
        period_row,
        values,
        source_file=src.name,
        source_hash=src.sha256,
        imported_by=operator or operator_name(),
    )
    return report


def _count_current(session: Session, period_id: int | None, values: list[dict[str, Any]]) -> int:
    keys = {(v["object"], v["indicator"]) for v in values}
    rows = session.exec(
        select(AssessedObject.code, MetricValue.indicator)
        .join(AssessedObject, col(AssessedObject.id) == col(MetricValue.object_id))
        .where(MetricValue.period_id == period_id, col(MetricValue.superseded_at).is_(None))
    ).all()
    return sum((o, i) in keys for o, i in rows)
