"""Values with evidence (issue 16, point 3): the status of a metric value and the assessor's
decisions on it, the values as listed, and the framework's rule applied where scoring loads them.

A department submits a value (`submitted`; the template, a CSV file or the JSON API); it cannot
mark its own value verified. Only the assessor decides, each decision appended to
`value_review` and to the audit trail with who, when and why:

- verify: `submitted`/`disputed` → `verified`;
- adjust: a new value with a reason. The original row is superseded (kept, as every superseded
  value is) and a new current row holds the assessor's value with status `adjusted` and
  `replaces_id` naming the original;
- reject (with a reason): → `rejected`; a rejected value is never scored;
- dispute (with a reason): → `disputed`, scored as the framework's `[assessment] disputed` says.

Scoring (`scoring_values`) applies the framework's rule (indicators.assessment): `use` keeps the
value, `flag` keeps it and returns it among the flags, `exclude` leaves it out (missing); the run
stores its flags (`store_flags`, table `run_value_flag`) so that reports show them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy import insert, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from egov.auth import audit
from egov.cycle import Actor, find_cycle, refuse_published
from egov.errors import EgovError
from egov.evidence import evidence_counts
from egov.models import AssessedObject, AuditLog, Department, MetricValue, Period, compare_and_set, utcnow
from egov.models_values import RunValueFlag, ValueReview
from egov.store import find_period, latest_framework
from egov.template import SUBMITTED
from indicators.framework import Framework

UNVERIFIED = (SUBMITTED, "reported")  # "reported": a department's value in an older database
STATUSES = (SUBMITTED, "verified", "adjusted", "rejected", "disputed")
# action → (the statuses it applies to, the status it sets, whether a reason is required)
ACTIONS: dict[str, tuple[tuple[str, ...], str, bool]] = {
    "verify": ((*UNVERIFIED, "disputed"), "verified", False),
    "reject": ((*UNVERIFIED, "disputed", "verified", "adjusted"), "rejected", True),
    "dispute": ((*UNVERIFIED, "verified", "adjusted"), "disputed", True),
    "adjust": ((*UNVERIFIED, "disputed", "verified", "adjusted", "rejected"), "adjusted", True),
}
PAST = {"verify": "verified", "reject": "rejected", "dispute": "disputed", "adjust": "adjusted"}
MAX_REASON = 2000


@dataclass(frozen=True)
class ValueRow:
    """A metric value as listed: where it belongs, its value, status and evidence."""

    id: int
    period: str
    object: str
    department: str
    indicator: str
    value: float | None
    unit: str  # the indicator's unit in the latest stored framework ("" when unknown)
    status: str
    evidence: int
    source: str
    imported_by: str
    imported_at: datetime
    replaces_id: int | None


def shown_status(status: str) -> str:
    """The status as shown: an older database's `reported` is `submitted`."""
    return SUBMITTED if status in UNVERIFIED else status


# --- finding a value ---------------------------------------------------------------------------
def get_period(session: Session, code: str) -> Period:
    row = find_period(session, code)
    if row is None:
        raise EgovError(f"unknown period '{code}'")
    return row


def find_value(
    session: Session,
    value_id: int | None = None,
    period: str | None = None,
    obj: str | None = None,
    indicator: str | None = None,
) -> MetricValue:
    """A metric value by its id, or the current value of (period, object, indicator)."""
    if value_id is not None:
        row = session.get(MetricValue, value_id)
        if row is None:
            raise EgovError(f"no metric value {value_id}")
        return row
    if not (period and obj and indicator):
        raise EgovError("name the value: its id (--id), or PERIOD with --object and --indicator")
    period_row = get_period(session, period)
    found = session.exec(
        select(MetricValue)
        .join(AssessedObject, col(AssessedObject.id) == col(MetricValue.object_id))
        .where(
            col(MetricValue.period_id) == period_row.id,
            col(AssessedObject.code) == obj,
            col(MetricValue.indicator) == indicator,
            col(MetricValue.superseded_at).is_(None),
        )
    ).first()
    if found is None:
        raise EgovError(f"no current value of {obj} / {indicator} in period {period}")
    return found


def check_collecting(session: Session, period_id: int | None) -> None:
    """An error unless values of the period may be submitted: no cycle, or its cycle is
    `collecting` (a published period: egov.cycle.refuse_published)."""
    refuse_published(session, period_id)
    if period_id is None:
        return
    period = session.get(Period, period_id)
    if period is None:
        return
    cycle = find_cycle(session, period.code)
    if cycle is not None and cycle.state != "collecting":
        raise EgovError(
            f"the cycle of period {period.code} is {cycle.state}: departments submit "
            "values only while it is collecting; the assessor adjusts values now (egov values adjust)"
        )


# --- the assessor's decisions --------------------------------------------------------------------
def review(
    session: Session,
    value: MetricValue,
    action: str,
    actor: Actor,
    reason: str = "",
    new_value: float | None = None,
) -> MetricValue:
    """The assessor's decision `action` (verify, adjust, reject, dispute) on a current value;
    returns the value as it now stands (for adjust: the new row)."""
    if actor.role != "assessor":
        raise EgovError(f"{action} is the assessor's to do, not the {actor.role}'s")
    if action not in ACTIONS:
        raise EgovError(f"action {action!r}: use one of {', '.join(ACTIONS)}")
    allowed, to, needs_reason = ACTIONS[action]
    text = reason.strip()
    if needs_reason and not text:
        raise EgovError(f"give the reason to {action} the value (--reason TEXT)")
    if len(text) > MAX_REASON:
        raise EgovError(f"the reason is longer than {MAX_REASON} characters")
    if value.superseded_at is not None:
        raise EgovError(
            f"value {value.id} is not current (superseded {value.superseded_at:%Y-%m-%d}); act on the current one"
        )
    refuse_published(session, value.period_id)
    frm = value.status
    if frm not in allowed:
        raise EgovError(f"value {value.id} is {shown_status(frm)}; it cannot be {PAST[action]}")
    if action == "adjust":
        result = _adjust(session, value, new_value, actor)
    elif compare_and_set(session, MetricValue, value.id, "status", frm, to):
        session.refresh(value)
        result = value
    else:
        raise EgovError(f"value {value.id} was changed by someone else meanwhile; look again")
    _record(session, value, action, frm, to, result, actor, text)
    return result


def verify_values(session: Session, values: list[MetricValue], actor: Actor, reason: str = "") -> int:
    """The assessor verifies many current values at once, as `review(…, "verify")` does one by
    one (each a `value_review` row and an audit line, the status changed only from what it
    was), in set-wise statements; all or nothing: an error, and nothing verified, when a value
    is not current, not verifiable, in a published period, or changed meanwhile. The count."""
    if actor.role != "assessor":
        raise EgovError(f"verify is the assessor's to do, not the {actor.role}'s")
    text = reason.strip()
    if len(text) > MAX_REASON:
        raise EgovError(f"the reason is longer than {MAX_REASON} characters")
    allowed, to, _ = ACTIONS["verify"]
    for value in values:
        if value.superseded_at is not None or value.status not in allowed:
            raise EgovError(f"value {value.id} is {shown_status(value.status)}; it cannot be verified")
    for period_id in sorted({v.period_id for v in values}):
        refuse_published(session, period_id)
    before = [(int(v.id or 0), v.status, v.indicator) for v in values]
    for frm in sorted({status for _, status, _ in before}):
        ids = [i for i, status, _ in before if status == frm]
        for chunk in range(0, len(ids), 500):
            part = ids[chunk : chunk + 500]
            done = session.execute(
                update(MetricValue)
                .where(
                    col(MetricValue.id).in_(part),
                    col(MetricValue.status) == frm,
                    col(MetricValue.superseded_at).is_(None),
                )
                .values(status=to)
                .execution_options(synchronize_session=False)
            )
            if int(getattr(done, "rowcount", 0) or 0) != len(part):
                raise EgovError("a value was changed by someone else meanwhile; look again")
    for value in values:
        session.expire(value)
    if not before:
        return 0
    now, who = utcnow(), actor.name[:100]
    session.execute(
        insert(ValueReview),
        [
            {
                "value_id": i,
                "action": "verify",
                "from_status": frm,
                "to_status": to,
                "new_value_id": None,
                "actor": who,
                "role": actor.role,
                "at": now,
                "reason": text,
            }
            for i, frm, _ in before
        ],
    )
    session.execute(
        insert(AuditLog),
        [
            {
                "at": now,
                "actor": who,
                "action": "value.verify",
                "target_type": "metric_value",
                "target_id": str(i),
                "detail": f"{indicator} {frm} -> {to} reason={text}",
            }
            for i, frm, indicator in before
        ],
    )
    return len(before)


def _adjust(session: Session, value: MetricValue, new_value: float | None, actor: Actor) -> MetricValue:
    if new_value is None:
        raise EgovError("an adjustment gives the new value (--value NUMBER)")
    now = utcnow()
    if not compare_and_set(session, MetricValue, value.id, "superseded_at", None, now):
        raise EgovError(f"value {value.id} was changed by someone else meanwhile; look again")
    row = MetricValue(
        object_id=value.object_id,
        indicator=value.indicator,
        period_id=value.period_id,
        value=float(new_value),
        status="adjusted",
        source_file=f"adjusted:{value.id}",
        imported_by=actor.name[:100],
        imported_at=now,
        replaces_id=value.id,
    )
    session.add(row)
    session.flush()
    return row


def _record(
    session: Session,
    value: MetricValue,
    action: str,
    frm: str,
    to: str,
    result: MetricValue,
    actor: Actor,
    reason: str,
) -> None:
    new_id = result.id if result.id != value.id else None
    session.execute(
        insert(ValueReview).values(
            value_id=value.id,
            action=action,
            from_status=frm,
            to_status=to,
            new_value_id=new_id,
            actor=actor.name[:100],
            role=actor.role,
            at=utcnow(),
            reason=reason,
        )
    )
    detail = f"{value.indicator} {frm} -> {to}" + (f" new={new_id} value={result.value}" if new_id else "")
    audit(session, actor.name, f"value.{action}", "metric_value", str(value.id), f"{detail} reason={reason}")


def reviews_of(session: Session, value_id: int) -> list[ValueReview]:
    """The assessor's decisions on a value, oldest first."""
    return list(
        session.exec(
            select(ValueReview).where(col(ValueReview.value_id) == value_id).order_by(col(ValueReview.id))
        ).all()
    )


# --- listing ---------------------------------------------------------------------------------------
def list_values(
    session: Session,
    period: str,
    status: str | None = None,
    department: str | None = None,
    include_superseded: bool = False,
) -> list[ValueRow]:
    """The values of a period (current ones unless `include_superseded`), by object and
    indicator, with their status and evidence count; `status` and `department` filter."""
    if status is not None and status not in STATUSES:
        raise EgovError(f"status {status!r}: use one of {', '.join(STATUSES)}")
    period_row = get_period(session, period)
    stmt = (
        select(MetricValue, AssessedObject.code, Department.code)
        .join(AssessedObject, col(AssessedObject.id) == col(MetricValue.object_id))
        .join(Department, col(Department.id) == col(AssessedObject.department_id))
        .where(col(MetricValue.period_id) == period_row.id)
    )
    if not include_superseded:
        stmt = stmt.where(col(MetricValue.superseded_at).is_(None))
    if status is not None:
        stmt = stmt.where(col(MetricValue.status).in_(UNVERIFIED if status == SUBMITTED else (status,)))
    if department is not None:
        stmt = stmt.where(col(Department.code) == department)
    rows = session.exec(
        stmt.order_by(col(AssessedObject.code), col(MetricValue.indicator), col(MetricValue.id))
    ).all()
    ids = [int(m.id or 0) for m, _, _ in rows]
    originals = [int(m.replaces_id) for m, _, _ in rows if m.replaces_id is not None]
    counts = evidence_counts(session, ids + originals)
    units = indicator_units(session)
    return [
        ValueRow(
            id=int(m.id or 0),
            period=period,
            object=str(obj),
            department=str(dept),
            indicator=m.indicator,
            value=m.value,
            unit=units.get(m.indicator, ""),
            status=shown_status(m.status),
            evidence=counts.get(int(m.id or 0), 0) + counts.get(m.replaces_id or -1, 0),
            source=m.source_file,
            imported_by=m.imported_by,
            imported_at=m.imported_at,
            replaces_id=m.replaces_id,
        )
        for m, obj, dept in rows
    ]


def indicator_units(session: Session) -> dict[str, str]:
    """indicator → unit in the latest stored framework (empty when none is stored)."""
    try:
        return {n.code: n.unit for n in latest_framework(session)[1].indicators}
    except EgovError:
        return {}


# --- the rule, where scoring loads the values -------------------------------------------------------
FLAG_COLUMNS = ["value_id", "unit", "department", "indicator", "value", "status", "rule"]


def scoring_values(
    session: Session, framework: Framework, period: Period
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The current metric values of a period as the engine takes them (unit, indicator, value),
    with the framework's `[assessment]` rule applied: `exclude` leaves a value out, `flag`
    keeps it; and the flags (FLAG_COLUMNS), one row per value flagged or excluded."""
    rows = session.execute(
        sa_select(
            col(MetricValue.id),
            col(AssessedObject.code),
            col(Department.code),
            col(MetricValue.indicator),
            col(MetricValue.value),
            col(MetricValue.status),
        )
        .join(AssessedObject, col(AssessedObject.id) == col(MetricValue.object_id))
        .join(Department, col(Department.id) == col(AssessedObject.department_id))
        .where(col(MetricValue.period_id) == period.id, col(MetricValue.superseded_at).is_(None))
        .order_by(col(MetricValue.id))
    ).all()
    table = pd.DataFrame(rows, columns=["value_id", "unit", "department", "indicator", "value", "status"])
    rules = {s: framework.value_rule(s) for s in table["status"].unique()}
    table["rule"] = table["status"].map(rules).astype(object)
    table["status"] = table["status"].map(shown_status)
    flags = table[table["rule"] != "use"].reset_index(drop=True)
    kept = table[table["rule"] != "exclude"]
    data = kept[["unit", "indicator", "value"]].reset_index(drop=True)
    return data, flags[FLAG_COLUMNS]


def store_flags(session: Session, run_id: int, flags: pd.DataFrame) -> None:
    """Store with run `run_id` the values its rule flagged or left out."""
    if flags.empty:
        return
    records = [
        {
            "run_id": run_id,
            "value_id": int(r["value_id"]),
            "unit": str(r["unit"]),
            "department": str(r["department"]),
            "indicator": str(r["indicator"]),
            "value": None if pd.isna(r["value"]) else float(r["value"]),
            "status": str(r["status"]),
            "rule": str(r["rule"]),
        }
        for r in flags.to_dict("records")
    ]
    session.execute(insert(RunValueFlag), records)


def run_flags(session: Session, run_id: int | None, department: str | None = None) -> pd.DataFrame:
    """The values a run flagged or left out under its framework's rule (FLAG_COLUMNS), by unit
    and indicator; `department`: that department's only."""
    stmt = sa_select(
        col(RunValueFlag.value_id),
        col(RunValueFlag.unit),
        col(RunValueFlag.department),
        col(RunValueFlag.indicator),
        col(RunValueFlag.value),
        col(RunValueFlag.status),
        col(RunValueFlag.rule),
    ).where(col(RunValueFlag.run_id) == run_id)
    if department is not None:
        stmt = stmt.where(col(RunValueFlag.department) == department)
    rows = session.execute(stmt.order_by(col(RunValueFlag.unit), col(RunValueFlag.indicator))).all()
    return pd.DataFrame(rows, columns=FLAG_COLUMNS)


def flag_counts(flags: pd.DataFrame) -> dict[str, int]:
    """How many values a run's rule flagged (used) and excluded (left out)."""
    return {
        "flagged": int((flags["rule"] == "flag").sum()) if len(flags) else 0,
        "excluded": int((flags["rule"] == "exclude").sum()) if len(flags) else 0,
    }
