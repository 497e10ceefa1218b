"""Reading and writing the stored domain: frameworks, the register of departments and
objects, periods, metric values and evaluation runs."""

from __future__ import annotations

import getpass
import hashlib
import json
import re
import uuid
from collections.abc import Iterable
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import insert, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from egov import __version__
from egov.context import context_figures, context_problems
from egov.errors import EgovError
from egov.models import (
    ApiKey,
    AssessedObject,
    Department,
    EvaluationRun,
    FrameworkVersion,
    MetricValue,
    PeerGroup,
    Period,
    RunScore,
    utcnow,
)
from egov.notices import DEMO_SOURCE
from egov.settings import get_settings
from evaluation.engine import EvaluationResult
from indicators.framework import OBJECT_KINDS, SUBKINDS, Framework, parse_framework

# Values loaded by `egov demo` carry this source prefix; anything scored from them is
# marked illustrative.


def operator_name() -> str:
    """Who is importing or running: the EGOV_OPERATOR setting, else the OS user."""
    name = get_settings().operator
    if name:
        return name
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


# --- frameworks ------------------------------------------------------------------------
def store_framework(session: Session, framework: Framework, toml_text: str) -> FrameworkVersion:
    """Store a framework version (once per distinct content) and return its row."""
    row = session.exec(
        select(FrameworkVersion).where(
            FrameworkVersion.code == framework.code, FrameworkVersion.content_hash == framework.content_hash
        )
    ).first()
    if row is None:
        row = FrameworkVersion(
            code=framework.code,
            version=framework.version,
            name_en=framework.name.get("en", ""),
            content_hash=framework.content_hash,
            toml_text=toml_text,
        )
        session.add(row)
        session.flush()
    return row


def latest_framework(session: Session, code: str | None = None) -> tuple[FrameworkVersion, Framework]:
    """The most recently stored framework (of `code`, if given)."""
    stmt = select(FrameworkVersion)
    if code:
        stmt = stmt.where(FrameworkVersion.code == code)
    row = session.exec(stmt.order_by(col(FrameworkVersion.id).desc())).first()
    if row is None:
        raise EgovError("no framework stored yet; run `egov demo` or pass --framework FILE")
    return row, parse_framework(row.toml_text, origin=f"stored framework {row.code} {row.version}")


def framework_of_run(session: Session, run: EvaluationRun) -> Framework:
    """The framework a stored run was evaluated on."""
    row = session.get(FrameworkVersion, run.framework_id)
    if row is None:
        raise EgovError(f"run {run.run_key}: its framework is not stored")
    return parse_framework(row.toml_text, origin=f"stored framework {row.code} {row.version}")


# --- register ----------------------------------------------------------------------------
def load_register(session: Session, register: dict[str, Any], origin: str = "register") -> dict[str, int]:
    """Insert or update peer groups, departments and objects from register data
    (the shape of egov/data/macau_register.toml). Validates everything first."""
    problems: list[str] = []
    groups = register.get("peer_groups", {}) or {}
    depts = register.get("departments", {}) or {}
    objects = register.get("objects", {}) or {}
    for code, d in depts.items():
        pg = d.get("peer_group")
        if (
            pg is not None
            and pg not in groups
            and session.exec(select(PeerGroup).where(PeerGroup.code == pg)).first() is None
        ):
            problems.append(f"departments.{code}.peer_group: unknown peer group '{pg}'")
    for code, o in objects.items():
        if (
            o.get("department") not in depts
            and session.exec(select(Department).where(Department.code == o.get("department"))).first() is None
        ):
            problems.append(f"objects.{code}.department: unknown department '{o.get('department')}'")
        kind, sub = o.get("kind"), o.get("subkind")
        if kind not in OBJECT_KINDS:
            problems.append(f"objects.{code}.kind: must be one of {', '.join(OBJECT_KINDS)}")
        elif sub is not None and sub not in SUBKINDS.get(kind, ()):
            problems.append(f"objects.{code}.subkind: '{sub}' is not a subkind of {kind}")
        problems += [f"objects.{code}.{where}: {what}" for where, what in context_problems(o.get("context"))]
    if problems:
        raise EgovError(f"{origin}: invalid register", problems)

    def names(d: dict[str, Any]) -> dict[str, str]:
        n = d.get("name", {}) or {}
        return {"name_zh": n.get("zh-Hant", ""), "name_pt": n.get("pt", ""), "name_en": n.get("en", "")}

    counts = {"peer_groups": 0, "departments": 0, "objects": 0}
    group_ids: dict[str, int] = {}
    for code, g in groups.items():
        row = session.exec(select(PeerGroup).where(PeerGroup.code == code)).first() or PeerGroup(code=code)
        for k, v in names(g).items():
            setattr(row, k, v)
        session.add(row)
        session.flush()
        group_ids[code] = int(row.id or 0)
        counts["peer_groups"] += 1
    dept_ids: dict[str, int] = {}
    for code, d in depts.items():
        drow = session.exec(select(Department).where(Department.code == code)).first() or Department(
            code=code
        )
        for k, v in names(d).items():
            setattr(drow, k, v)
        pg = d.get("peer_group")
        if pg is not None:
            drow.peer_group_id = (
                group_ids.get(pg) or session.exec(select(PeerGroup.id).where(PeerGroup.code == pg)).one()
            )
        session.add(drow)
        session.flush()
        dept_ids[code] = int(drow.id or 0)
        counts["departments"] += 1
    for code, o in objects.items():
        orow = session.exec(select(AssessedObject).where(AssessedObject.code == code)).first()
        dep = (
            dept_ids.get(o["department"])
            or session.exec(select(Department.id).where(Department.code == o["department"])).one()
        )
        if orow is None:
            orow = AssessedObject(code=code, department_id=int(dep or 0), kind=o["kind"])
        orow.department_id = int(dep or 0)
        orow.kind = o["kind"]
        orow.subkind = o.get("subkind")
        orow.note = str(o.get("paper", ""))[:300]
        orow.citizen_facing = bool(o.get("citizen_facing", True))
        orow.context = context_figures(o.get("context"))
        for k, v in names(o).items():
            setattr(orow, k, v)
        session.add(orow)
        counts["objects"] += 1
    session.flush()
    return counts


def units_table(session: Session) -> pd.DataFrame:
    """Every assessed object with kind, subkind, department and peer group (index = code)."""
    rows = session.execute(
        sa_select(
            col(AssessedObject.code),
            col(AssessedObject.kind),
            col(AssessedObject.subkind),
            col(Department.code),
            col(PeerGroup.code),
        )
        .join(Department, col(Department.id) == col(AssessedObject.department_id))
        .join(PeerGroup, col(PeerGroup.id) == col(Department.peer_group_id), isouter=True)
    ).all()
    df = pd.DataFrame(rows, columns=["unit", "kind", "subkind", "department", "peer_group"]).set_index("unit")
    return df.sort_index()


def department_names(session: Session) -> pd.DataFrame:
    rows = session.exec(
        select(Department.code, Department.name_zh, Department.name_pt, Department.name_en)
    ).all()
    return pd.DataFrame(rows, columns=["department", "zh-Hant", "pt", "en"]).set_index("department")


# --- periods -----------------------------------------------------------------------------
def ensure_period(session: Session, code: str, start: date, end: date) -> Period:
    row = session.exec(select(Period).where(Period.code == code)).first()
    if row is None:
        row = Period(code=code, start=start, end=end)
        session.add(row)
        session.flush()
    return row


def get_period(session: Session, code: str) -> Period:
    row = session.exec(select(Period).where(Period.code == code)).first()
    if row is None:
        known = ", ".join(session.exec(select(Period.code)).all()) or "none"
        raise EgovError(f"unknown period '{code}' (stored periods: {known})")
    return row


# --- metric values -------------------------------------------------------------------------
def add_metric_values(
    session: Session,
    period: Period,
    values: Iterable[dict[str, Any]],
    *,
    source_file: str,
    source_hash: str = "",
    imported_by: str | None = None,
) -> int:
    """Store metric values (dicts with object, indicator, value and optional sheet, cell,
    status). The current value of the same (object, indicator, period) is superseded, not
    deleted, so the history keeps it."""
    obj_ids = dict(session.exec(select(AssessedObject.code, AssessedObject.id)).all())
    now = utcnow()
    who = imported_by or operator_name()
    rows = list(values)
    unknown = sorted({str(r["object"]) for r in rows if r["object"] not in obj_ids})
    if unknown:
        raise EgovError(f"unknown objects: {', '.join(unknown[:10])}")
    keys = {(obj_ids[r["object"]], r["indicator"]) for r in rows}
    if keys:
        objs = {k[0] for k in keys}
        current = session.exec(
            select(MetricValue).where(
                MetricValue.period_id == period.id,
                col(MetricValue.superseded_at).is_(None),
                col(MetricValue.object_id).in_(objs),
            )
        ).all()
        stale = [m.id for m in current if (m.object_id, m.indicator) in keys]
        if stale:
            session.execute(
                update(MetricValue).where(col(MetricValue.id).in_(stale)).values(superseded_at=now)
            )
    if rows:
        session.execute(
            insert(MetricValue),
            [
                {
                    "object_id": obj_ids[r["object"]],
                    "indicator": r["indicator"],
                    "period_id": period.id,
                    "value": _float_or_none(r["value"]),
                    "status": r.get("status", "submitted"),
                    "source_file": source_file,
                    "source_hash": source_hash,
                    "sheet": r.get("sheet", ""),
                    "cell": r.get("cell", ""),
                    "imported_by": who,
                    "imported_at": now,
                }
                for r in rows
            ],
        )
    session.flush()
    return len(rows)


def has_demo_values(session: Session, period: Period) -> bool:
    """Whether the period's current values include the built-in demo's (illustrative) ones."""
    stmt = select(MetricValue.id).where(
        MetricValue.period_id == period.id,
        col(MetricValue.superseded_at).is_(None),
        col(MetricValue.source_file).startswith(DEMO_SOURCE),
    )
    return session.exec(stmt.limit(1)).first() is not None


def current_metrics(session: Session, period: Period) -> pd.DataFrame:
    """Current (not superseded) metric values of a period: columns unit, indicator, value."""
    rows = session.exec(
        select(AssessedObject.code, MetricValue.indicator, MetricValue.value)
        .join(AssessedObject, col(AssessedObject.id) == col(MetricValue.object_id))
        .where(MetricValue.period_id == period.id, col(MetricValue.superseded_at).is_(None))
    ).all()
    return pd.DataFrame(rows, columns=["unit", "indicator", "value"])


# --- runs ----------------------------------------------------------------------------------
def frame_hash(*frames: pd.DataFrame) -> str:
    """A stable hash of DataFrames (values, index and columns), for inputs and results."""
    h = hashlib.sha256()
    for df in frames:
        h.update(df.to_csv(float_format="%.17g", lineterminator="\n").encode("utf-8"))
    return h.hexdigest()


def results_hash(result: EvaluationResult) -> str:
    """The results hash of an evaluation: what a stored run records (`store_run`) and what
    recomputing a run or a bundle must give again (`egov.record`)."""
    return frame_hash(result.long().reset_index(drop=True))


def _float_or_none(v: Any) -> float | None:
    return None if v is None or (isinstance(v, float) and np.isnan(v)) else float(v)


def _int_or_none(v: Any) -> int | None:
    return None if v is None or (isinstance(v, float) and np.isnan(v)) else int(v)


def store_run(
    session: Session,
    *,
    framework_row: FrameworkVersion,
    period: Period,
    result: EvaluationResult,
    inputs_hash: str,
    note: str = "",
) -> EvaluationRun:
    """Store an immutable evaluation run with every score and rank it produced."""
    long = result.long()
    run = EvaluationRun(
        run_key=uuid.uuid4().hex[:12],
        framework_id=int(framework_row.id or 0),
        period_id=int(period.id or 0),
        spec=result.spec,
        inputs_hash=inputs_hash,
        results_hash=results_hash(result),
        software_version=__version__,
        created_by=operator_name(),
        note=note,
        warnings=list(result.warnings),
        stages={
            "screened_out": dict(result.screened_out),
            "treatment": json.loads(result.treatment.to_json(orient="index"))
            if not result.treatment.empty
            else {},
        },
    )
    session.add(run)
    session.flush()
    session.execute(
        insert(RunScore),
        [
            {
                "run_id": run.id,
                "entity_type": r.entity_type,
                "entity": r.entity,
                "node": r.node,
                "level": int(r.level),  # type: ignore[arg-type]
                "score": float(r.score),  # type: ignore[arg-type]
                "rank": _int_or_none(r.rank),
                "peer_rank": _int_or_none(r.peer_rank),
            }
            for r in long.itertuples(index=False)
        ],
    )
    session.flush()
    return run


def get_run(session: Session, key: str | None = None) -> EvaluationRun:
    """A run by key, or the latest run."""
    stmt = select(EvaluationRun)
    stmt = stmt.where(EvaluationRun.run_key == key) if key else stmt.order_by(col(EvaluationRun.id).desc())
    run = session.exec(stmt).first()
    if run is None:
        raise EgovError(
            f"no evaluation run '{key}'"
            if key
            else "no evaluation run stored yet; run `egov score` or `egov demo`"
        )
    return run


def previous_run(session: Session, run: EvaluationRun) -> EvaluationRun | None:
    """The run a run is compared with (`egov change`, the department report's change section):
    the latest run of the same framework code for the latest period that ends before this
    run's period starts. A quarter inside a year is not earlier than the year, nor the year
    than the quarter; overlapping periods are never "previous"."""
    framework = session.get(FrameworkVersion, run.framework_id)
    period = session.get(Period, run.period_id)
    if framework is None or period is None:
        return None
    return session.exec(
        select(EvaluationRun)
        .join(FrameworkVersion, col(FrameworkVersion.id) == col(EvaluationRun.framework_id))
        .join(Period, col(Period.id) == col(EvaluationRun.period_id))
        .where(col(FrameworkVersion.code) == framework.code, col(Period.end) < period.start)
        .order_by(col(Period.start).desc(), col(EvaluationRun.id).desc())
    ).first()


def run_scores(session: Session, run: EvaluationRun, entity_type: str = "department") -> pd.DataFrame:
    rows = session.execute(
        sa_select(
            col(RunScore.entity),
            col(RunScore.node),
            col(RunScore.level),
            col(RunScore.score),
            col(RunScore.rank),
            col(RunScore.peer_rank),
        ).where(col(RunScore.run_id) == run.id, col(RunScore.entity_type) == entity_type)
    ).all()
    return pd.DataFrame(rows, columns=["entity", "node", "level", "score", "rank", "peer_rank"])


# --- periods by code and metric history (imports) -------------------------------------------
_PERIOD_RE = re.compile(r"^(\d{4})(?:([QH])([1-4]))?$")


def period_bounds(code: str) -> tuple[date, date] | None:
    """Start and end of a period code: `2024` (a year), `2024Q1`…`2024Q4`, `2024H1`/`2024H2`;
    None for any other code."""
    m = _PERIOD_RE.match(code)
    if not m:
        return None
    year, part, n = int(m.group(1)), m.group(2), int(m.group(3) or 0)
    if part is None:
        return date(year, 1, 1), date(year, 12, 31)
    months = 3 if part == "Q" else 6
    if n < 1 or n > 12 // months:
        return None
    first = (n - 1) * months + 1
    last = first + months - 1
    end = date(year + 1, 1, 1) if last == 12 else date(year, last + 1, 1)
    return date(year, first, 1), date.fromordinal(end.toordinal() - 1)


def find_period(session: Session, code: str) -> Period | None:
    """The stored period `code`, or None."""
    return session.exec(select(Period).where(Period.code == code)).first()


def check_period_code(session: Session, code: str) -> None:
    """Raise unless `code` is a stored period or a code whose dates follow from it."""
    if find_period(session, code) is None and period_bounds(code) is None:
        known = ", ".join(session.exec(select(Period.code)).all()) or "none"
        raise EgovError(
            f"period '{code}' is not stored and is not a year (2024), quarter (2024Q1) or half "
            f"(2024H1) (stored periods: {known})"
        )


def period_for_import(session: Session, code: str) -> Period:
    """The period `code`, created from its code (year, quarter, half) when it is new."""
    row = find_period(session, code)
    if row is not None:
        return row
    check_period_code(session, code)
    bounds = period_bounds(code)
    assert bounds is not None
    return ensure_period(session, code, *bounds)


def check_indicator_code(session: Session, indicator: str) -> None:
    """An error unless `indicator` is an indicator of a stored framework or has stored values."""
    frameworks = session.exec(select(FrameworkVersion).order_by(col(FrameworkVersion.id).desc())).all()
    for row in frameworks:
        fw = parse_framework(row.toml_text, origin=f"stored framework {row.code} {row.version}")
        if indicator in {n.code for n in fw.indicators}:
            return
    stored = select(MetricValue.id).where(MetricValue.indicator == indicator).limit(1)
    if session.exec(stored).first() is not None:
        return
    known = ""
    if frameworks:
        latest = parse_framework(frameworks[0].toml_text, origin="stored framework")
        codes = [n.code for n in latest.indicators]
        more = ", …" if len(codes) > 12 else ""
        known = f" (indicators of framework {latest.code}: {', '.join(codes[:12])}{more})"
    raise EgovError(f"unknown indicator '{indicator}'{known}")


def metric_history(
    session: Session, object_code: str, indicator: str, period: str | None = None
) -> pd.DataFrame:
    """Every stored value of (object, indicator) — current and superseded — with provenance,
    oldest first per period."""
    obj = session.exec(select(AssessedObject).where(AssessedObject.code == object_code)).first()
    if obj is None:
        raise EgovError(f"unknown object '{object_code}'")
    check_indicator_code(session, indicator)
    stmt = (
        select(Period.code, MetricValue)
        .join(Period, col(Period.id) == col(MetricValue.period_id))
        .where(MetricValue.object_id == obj.id, MetricValue.indicator == indicator)
    )
    if period is not None:
        if find_period(session, period) is None:
            raise EgovError(f"unknown period '{period}'")
        stmt = stmt.where(Period.code == period)
    rows = session.exec(
        stmt.order_by(col(Period.start), col(MetricValue.imported_at), col(MetricValue.id))
    ).all()
    columns = [
        "period",
        "value",
        "status",
        "current",
        "source_file",
        "source_hash",
        "sheet",
        "cell",
        "imported_by",
        "imported_at",
        "superseded_at",
    ]
    records = [
        (
            pcode,
            m.value,
            m.status,
            m.superseded_at is None,
            m.source_file,
            m.source_hash,
            m.sheet,
            m.cell,
            m.imported_by,
            m.imported_at,
            m.superseded_at,
        )
        for pcode, m in rows
    ]
    return pd.DataFrame(records, columns=columns)


# --- listings of the command line (egov runs list, egov keys list) --------------------------
def list_runs(session: Session) -> list[tuple[EvaluationRun, str, str, str]]:
    """Every stored run, newest first: (run, framework code, framework version, period code)."""
    rows = session.exec(
        select(EvaluationRun, FrameworkVersion.code, FrameworkVersion.version, Period.code)
        .join(FrameworkVersion, col(FrameworkVersion.id) == col(EvaluationRun.framework_id))
        .join(Period, col(Period.id) == col(EvaluationRun.period_id))
        .order_by(col(EvaluationRun.id).desc())
    ).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]


def list_keys(session: Session) -> list[tuple[ApiKey, str | None]]:
    """Every API key in id order with its department code (None for assessor and admin keys);
    never the keys themselves, only what is stored of them."""
    rows = session.exec(
        select(ApiKey, Department.code)
        .join(Department, col(Department.id) == col(ApiKey.department_id), isouter=True)
        .order_by(col(ApiKey.id))
    ).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]
