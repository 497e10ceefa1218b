"""A department's values submitted as data (the JSON API, `POST /api/v1/values`): the same
checks as a metrics file (indicator, applicability, range; every problem with its item), all
or nothing, only for the caller's own department's objects, only while the period's cycle is
collecting (or the period has no cycle), stored as `submitted` with the provenance `api`."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from egov.errors import EgovError
from egov.evidence import Caller, check_objects
from egov.imports.values import Catalogue, check_indicator_code, check_value, value_row
from egov.models import AssessedObject, MetricValue
from egov.reader import Problems
from egov.store import add_metric_values, check_period_code, find_period, period_for_import
from egov.template import SUBMITTED
from egov.values import check_collecting
from indicators.framework import Framework

MAX_ITEMS = 5000


@dataclass(frozen=True)
class Submitted:
    """What a submission stored: the period, the values' ids in the order given, and the hash
    of the submitted data (its provenance)."""

    period: str
    ids: list[int]
    sha256: str


def submit_values(
    session: Session, period: str, items: list[dict[str, Any]], caller: Caller, framework: Framework
) -> Submitted:
    """Check every item ({object, indicator, value}) and store them all, or raise an EgovError
    listing every problem (`items[i]`)."""
    if not items:
        raise EgovError("no values submitted")
    if len(items) > MAX_ITEMS:
        raise EgovError(f"at most {MAX_ITEMS} values in one submission, not {len(items)}")
    check_period_code(session, period)
    existing = find_period(session, period)
    check_collecting(session, existing.id if existing is not None else None)
    objects = {
        code: (kind, sub)
        for code, kind, sub in session.exec(
            select(AssessedObject.code, AssessedObject.kind, AssessedObject.subkind)
        ).all()
    }
    cat = Catalogue(framework, objects)
    problems = Problems()
    rows = [_item(cat, i, item, problems) for i, item in enumerate(items)]
    problems.raise_if_any("submission")
    values = [r for r in rows if r is not None]
    _check_department(session, caller, [r["object"] for r in values])
    digest = hashlib.sha256(json.dumps(items, sort_keys=True, default=str).encode()).hexdigest()
    period_row = period_for_import(session, period)
    add_metric_values(
        session, period_row, values, source_file="api", source_hash=digest, imported_by=caller.name
    )
    current = {
        (int(m.object_id), m.indicator): int(m.id or 0)
        for m in session.exec(
            select(MetricValue).where(
                MetricValue.period_id == period_row.id,
                MetricValue.source_hash == digest,
                col(MetricValue.superseded_at).is_(None),
            )
        ).all()
    }
    ids = dict(session.exec(select(AssessedObject.code, AssessedObject.id)).all())
    return Submitted(period, [current[(int(ids[r["object"]] or 0), r["indicator"])] for r in values], digest)


def _item(cat: Catalogue, i: int, item: dict[str, Any], problems: Problems) -> dict[str, Any] | None:
    where = f"items[{i}]"
    obj, code = str(item.get("object", "")), str(item.get("indicator", ""))
    if obj not in cat.objects:
        problems.add(where, f"unknown object {obj!r}")
        return None
    problem = check_indicator_code(cat, code)
    node = cat.indicator(code)
    if problem or node is None:
        problems.add(where, problem or f"unknown indicator {code!r}")
        return None
    if item.get("value") is None:
        problems.add(where, "no value (a number is expected)")
        return None
    value = check_value(cat, obj, node, item.get("value"), where, problems)
    return None if value is None else value_row(obj, code, value, SUBMITTED, "api", where)


def _check_department(session: Session, caller: Caller, objects: list[str]) -> None:
    ids = session.exec(select(AssessedObject.id).where(col(AssessedObject.code).in_(objects))).all()
    check_objects(session, caller, {int(i or 0) for i in ids})
