"""The department review of a draft (issue 16 point 5; docs/assessment.md, "Objections").

While a period's cycle is in `review` and its deadline (Macau working days, egov.cycle) has not
passed, a department raises objections to its own draft: to a value (one of its objects and a
metric indicator) or to a result (its score or rank at a node of the draft run), with a text and
evidence (a reference text or URL; `evidence_ref` names a stored evidence file when there is
one). The assessor answers each one while the review lasts: `accepted` — for a value, with the
new value, recorded as the assessor's adjustment of the current value (egov.values: status
`adjusted`, the original kept and named, a `value_review` row whose reason names the objection;
a value the department had not given is stored `verified` with the source `objection:ID`), so
a new run scores it — or `rejected`, always with a reason. A department sees only its own objections and only its own draft; every raise
and answer goes to the audit trail (`objection.raise`, `objection.accept`, `objection.reject`).

When the cycle reaches its final run (`finalise`, or `egov cycle advance --to final`, recorded
the first time the review is read), the `egov runs diff` of the draft and the final run and the
objection log are stored with the cycle (`review_record`); `review_summary` is what the public
site shows of it: counts by state and, for each objection, department, what, answer and
reason, and no name of anyone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from egov.auth import Principal, audit
from egov.clock import local_day
from egov.cycle import Actor, find_cycle, get_cycle, run_access
from egov.errors import EgovError
from egov.models import (
    AssessedObject,
    AssessmentCycle,
    Department,
    EvaluationRun,
    MetricValue,
    Period,
    RunScore,
    compare_and_set,
    utcnow,
)
from egov.models_objections import Objection
from egov.settings import get_settings
from egov.store import add_metric_values, framework_of_run, operator_name
from egov.values import review as review_value

TARGETS = ("value", "result")
ASPECTS = ("score", "rank")
OBJECTION_STATES = ("open", "accepted", "rejected")
ANSWERS = ("accepted", "rejected")
RECORDED = ("final", "published")  # the states whose cycle has its review record
MAX_TEXT = 4000
MAX_EVIDENCE = 1000
MAX_EVIDENCE_REF = 200
SOURCE = "objection:"  # the source of a value set by an accepted objection: objection:ID


class NotFound(EgovError):
    """No such objection, or one the caller may not see (another department's)."""


class Refused(EgovError):
    """The caller's role may not do this."""


class Conflict(EgovError):
    """Not now: outside the review, after its deadline, or already answered."""


@dataclass(frozen=True)
class Caller:
    """Who acts on objections: a name for the record, a role and, for a department, its code."""

    name: str
    role: str
    department: str | None = None

    @classmethod
    def of_key(cls, principal: Principal) -> Caller:
        return cls(principal.actor, principal.role, principal.department_code)

    @classmethod
    def of_cli(cls, role: str | None, department: str | None = None) -> Caller:
        """The command line in a declared role (`--as`, else EGOV_ROLE): the assessor, or an
        operator acting for department `department` (`--as department --department CODE`).
        Declared, not proven, as for `egov cycle`: whoever runs it holds the database."""
        chosen = role or get_settings().role
        if chosen == "department":
            if not department:
                raise EgovError("acting for a department needs --department CODE")
            return cls(f"cli:{operator_name()} for {department}"[:100], "department", department)
        if chosen not in ("assessor", "lead"):
            shown = f"{chosen!r}" if chosen else "no role"
            raise EgovError(f"{shown}: act as assessor or department (--as ROLE or EGOV_ROLE)")
        return cls(Actor.of_cli(chosen).name, chosen)


@dataclass(frozen=True)
class ObjectionView:
    """An objection as shown to its department and the assessor."""

    id: int
    period: str
    department: str
    target: str
    object: str | None
    indicator: str
    node: str
    aspect: str
    draft_value: float | None
    text: str
    evidence: str
    evidence_ref: str
    raised_by: str
    raised_at: datetime
    state: str
    reason: str
    answered_by: str
    answered_at: datetime | None
    new_value: float | None
    value_object: str | None
    value_indicator: str
    unit: str = ""  # the indicator's unit (a value objection); "" for a result

    @property
    def what(self) -> str:
        """`OBJECT · INDICATOR` for a value, `NODE · score|rank` for a result."""
        if self.target == "value":
            return f"{self.object} · {self.indicator}"
        return f"{self.node} · {self.aspect}"


# --- the window and the caller ---------------------------------------------------------------------
def _open_review(session: Session, period: str, today: date | None = None) -> AssessmentCycle:
    """The cycle of `period` while objections may be raised: in review, on or before its deadline."""
    cycle = find_cycle(session, period)
    if cycle is None:
        raise Conflict(f"period {period} has no assessment cycle: no review, no objection")
    if cycle.state != "review":
        raise Conflict(
            f"the cycle of {period} is {cycle.state}: objections are raised only during the department review"
        )
    day = today or local_day()
    if cycle.review_deadline is not None and day > cycle.review_deadline:
        raise Conflict(
            f"the department review of {period} ended on {cycle.review_deadline.isoformat()} "
            f"(Macau working days): no objection after the deadline"
        )
    return cycle


def _department(session: Session, caller: Caller) -> Department:
    if caller.role != "department" or not caller.department:
        raise Refused("objections are raised by a department (a department key, or --as department)")
    row = session.exec(select(Department).where(col(Department.code) == caller.department)).first()
    if row is None:
        raise EgovError(f"unknown department '{caller.department}'")
    return row


def _text(value: str, what: str, limit: int, required: bool = True) -> str:
    text = value.strip()
    if required and not text:
        raise EgovError(f"give the {what}")
    if len(text) > limit:
        raise EgovError(f"the {what} is longer than {limit} characters")
    return text


def _draft(session: Session, cycle: AssessmentCycle, period: str) -> EvaluationRun:
    run = session.get(EvaluationRun, cycle.draft_run_id or cycle.run_id)
    if run is None:
        raise EgovError(f"the cycle of {period} names no draft run")
    return run


# --- raising ------------------------------------------------------------------------------------------
def raise_objection(
    session: Session,
    period: str,
    caller: Caller,
    text: str,
    *,
    object_code: str | None = None,
    indicator: str | None = None,
    node: str | None = None,
    aspect: str | None = None,
    evidence: str = "",
    evidence_ref: str = "",
    today: date | None = None,
) -> ObjectionView:
    """A department's objection to a value of its own (`object_code` + `indicator`) or to its
    own result (`node` + `aspect`: score or rank) in the draft of `period`, during the review
    and on or before its deadline (`today`: default the local day)."""
    dept = _department(session, caller)
    cycle = _open_review(session, period, today)
    draft = _draft(session, cycle, period)
    principal = Principal(0, "department", dept.id, dept.code, "")
    if not run_access(session, principal).may_read(draft.id, dept.code):
        raise Conflict(f"the draft of {period} is not open to {dept.code}")
    row = Objection(
        cycle_id=int(cycle.id or 0),
        department_id=int(dept.id or 0),
        target="value" if object_code or indicator else "result",
        text=_text(text, "text of the objection", MAX_TEXT),
        evidence=_text(evidence, "evidence reference", MAX_EVIDENCE, required=False),
        evidence_ref=_text(evidence_ref, "evidence file reference", MAX_EVIDENCE_REF, required=False),
        raised_by=caller.name[:100],
    )
    if row.target == "value":
        if node or aspect:
            raise EgovError("object a value (--object and --indicator) or a result (--node), not both")
        _value_target(session, row, dept, draft, object_code or "", indicator or "")
    else:
        _result_target(session, row, dept, draft, node or "", aspect or "score")
    session.add(row)
    session.flush()
    audit(
        session, caller.name, "objection.raise", "objection", str(row.id), f"{period} {_what(session, row)}"
    )
    return _views(session, [row])[0]


def _value_target(
    session: Session, row: Objection, dept: Department, draft: EvaluationRun, code: str, indicator: str
) -> None:
    if not code or not indicator:
        raise EgovError("an objection to a value names its object and indicator (--object, --indicator)")
    obj = _own_object(session, dept, code)
    _metric_indicator(session, draft, indicator)
    row.object_id, row.indicator = obj.id, indicator
    row.draft_value = _current_value(session, draft.period_id, int(obj.id or 0), indicator)


def _result_target(
    session: Session, row: Objection, dept: Department, draft: EvaluationRun, node: str, aspect: str
) -> None:
    if not node:
        raise EgovError("an objection names a value (--object, --indicator) or a result (--node)")
    if aspect not in ASPECTS:
        raise EgovError(f"aspect {aspect!r}: object to the {' or the '.join(ASPECTS)}")
    score = session.exec(
        select(RunScore).where(
            col(RunScore.run_id) == draft.id,
            col(RunScore.entity_type) == "department",
            col(RunScore.entity) == dept.code,
            col(RunScore.node) == node,
        )
    ).first()
    if score is None:
        raise EgovError(f"the draft has no result of {dept.code} at node '{node}'")
    row.node, row.aspect = node, aspect
    row.draft_value = score.score if aspect == "score" else _number(score.rank)


def _own_object(session: Session, dept: Department, code: str) -> AssessedObject:
    obj = session.exec(select(AssessedObject).where(col(AssessedObject.code) == code)).first()
    if obj is None or obj.department_id != dept.id:  # another department's: as if unknown
        raise EgovError(f"{dept.code} has no object '{code}'")
    return obj


def _metric_indicator(session: Session, run: EvaluationRun, indicator: str) -> tuple[float, float] | None:
    """The valid range of a metric indicator of the run's framework; an error for another code."""
    nodes = {n.code: n for n in framework_of_run(session, run).indicators}
    node = nodes.get(indicator)
    if node is None:
        raise EgovError(f"the draft's framework has no indicator '{indicator}'")
    if node.source != "metric":
        raise EgovError(
            f"indicator {indicator} is derived from {node.source}, not a value: object to the result (--node)"
        )
    return node.valid_range


def _current_value(session: Session, period_id: int, object_id: int, indicator: str) -> float | None:
    return session.execute(
        select(col(MetricValue.value)).where(
            col(MetricValue.period_id) == period_id,
            col(MetricValue.object_id) == object_id,
            col(MetricValue.indicator) == indicator,
            col(MetricValue.superseded_at).is_(None),
        )
    ).scalar()


def _number(value: Any) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def _what(session: Session, row: Objection) -> str:
    """What an objection is about, for the audit trail."""
    if row.target == "value":
        obj = session.get(AssessedObject, row.object_id) if row.object_id else None
        return f"value {obj.code if obj else '?'} · {row.indicator}"
    return f"result node={row.node} {row.aspect}"


# --- answering ----------------------------------------------------------------------------------------
def answer_objection(
    session: Session,
    objection_id: int,
    caller: Caller,
    accept: bool,
    reason: str,
    value: float | None = None,
    object_code: str | None = None,
    indicator: str | None = None,
) -> ObjectionView:
    """The assessor's answer to an open objection during the review: accepted (a value
    objection with the new value `value`; a result objection with or without a value of one of
    the department's objects, `object_code` + `indicator`) or rejected, with a reason."""
    if caller.role != "assessor":
        row = session.get(Objection, objection_id)
        if row is None or caller.role == "department":  # a department never learns of another's
            raise NotFound(f"no objection {objection_id}")
        raise Refused("objections are answered by the assessor")
    row = session.get(Objection, objection_id)
    if row is None:
        raise NotFound(f"no objection {objection_id}")
    cycle = session.get(AssessmentCycle, row.cycle_id)
    period = session.get(Period, cycle.period_id) if cycle else None
    assert cycle is not None and period is not None
    if cycle.state != "review":
        raise Conflict(
            f"the cycle of {period.code} is {cycle.state}: objections are answered during the review"
        )
    if row.state != "open":
        raise Conflict(f"objection {objection_id} is {row.state} already")
    text = _text(reason, "reason of the answer (--reason)", MAX_TEXT)
    more: dict[str, Any] = {"answer_reason": text, "answered_by": caller.name[:100], "answered_at": utcnow()}
    if accept:
        more.update(_accepted_value(session, row, period, caller, text, value, object_code, indicator))
    elif value is not None:
        raise EgovError("a rejected objection changes no value: no --value with --reject")
    state = "accepted" if accept else "rejected"
    if not compare_and_set(session, Objection, objection_id, "state", "open", state, **more):
        raise Conflict(f"objection {objection_id} was answered by someone else meanwhile")
    detail = f"{period.code} {_what(session, row)} reason={text}"
    if more.get("new_value") is not None:
        detail += f" value={more['new_value']!r}"
    audit(
        session,
        caller.name,
        f"objection.{'accept' if accept else 'reject'}",
        "objection",
        str(objection_id),
        detail,
    )
    session.refresh(row)
    return _views(session, [row])[0]


def _accepted_value(
    session: Session,
    row: Objection,
    period: Period,
    caller: Caller,
    reason: str,
    value: float | None,
    object_code: str | None,
    indicator: str | None,
) -> dict[str, Any]:
    """The new value of an accepted objection: the assessor's adjustment of the current value
    (`egov.values.review`: status `adjusted`, the original kept and named by `replaces_id`, a
    `value_review` row whose reason names the objection), or, where the department gave no
    value, a new `verified` value whose source names the objection."""
    if row.target == "value":
        if value is None:
            raise EgovError("an accepted objection to a value gives the new value (--value V)")
        if object_code or indicator:
            raise EgovError("the value objected to is the one changed: no --object or --indicator")
        object_id, code = row.object_id, row.indicator
    else:
        if value is None:
            if object_code or indicator:
                raise EgovError("--object and --indicator come with the new value (--value V)")
            return {}
        dept = session.get(Department, row.department_id)
        assert dept is not None
        object_id, code = _own_object(session, dept, object_code or "").id, indicator or ""
    if not math.isfinite(value):
        raise EgovError("the new value must be a finite number")
    draft = session.get(EvaluationRun, session.get(AssessmentCycle, row.cycle_id).draft_run_id)  # type: ignore[union-attr]
    assert draft is not None
    valid = _metric_indicator(session, draft, code)
    if valid is not None and not valid[0] <= value <= valid[1]:
        raise EgovError(f"{value:g} is outside the valid range of {code} ({valid[0]:g} to {valid[1]:g})")
    obj = session.get(AssessedObject, object_id)
    assert obj is not None
    current = session.exec(
        select(MetricValue).where(
            col(MetricValue.period_id) == period.id,
            col(MetricValue.object_id) == object_id,
            col(MetricValue.indicator) == code,
            col(MetricValue.superseded_at).is_(None),
        )
    ).first()
    if current is not None:  # the assessor's adjustment, as `egov values adjust` records it
        why = f"objection {row.id} accepted: {reason}"
        new_id = review_value(session, current, "adjust", Actor(caller.name, "assessor"), why, value).id
    else:  # a value the department had not given
        add_metric_values(
            session,
            period,
            [
                {
                    "object": obj.code,
                    "indicator": code,
                    "value": value,
                    "status": "verified",
                    "sheet": "objection",
                }
            ],
            source_file=f"{SOURCE}{row.id}",
            imported_by=caller.name,
        )
        new_id = session.execute(
            select(col(MetricValue.id)).where(
                col(MetricValue.period_id) == period.id,
                col(MetricValue.object_id) == object_id,
                col(MetricValue.indicator) == code,
                col(MetricValue.superseded_at).is_(None),
            )
        ).scalar()
    return {
        "new_value": value,
        "value_object_id": object_id,
        "value_indicator": code,
        "metric_value_id": new_id,
    }


# --- what is shown ------------------------------------------------------------------------------------
def list_objections(
    session: Session, caller: Caller, period: str | None = None, state: str | None = None
) -> list[ObjectionView]:
    """The objections `caller` may see, oldest first: a department its own, the assessor and
    the administrator all, the lead all of a cycle that has reached its final run. `period`,
    `state` (open, accepted, rejected): filters."""
    if state is not None and state not in OBJECTION_STATES:
        raise EgovError(f"state {state!r}: use one of {', '.join(OBJECTION_STATES)}")
    stmt = (
        select(Objection)
        .join(AssessmentCycle, col(AssessmentCycle.id) == col(Objection.cycle_id))
        .join(Period, col(Period.id) == col(AssessmentCycle.period_id))
    )
    if period is not None:
        get_cycle(session, period)
        stmt = stmt.where(col(Period.code) == period)
    if state is not None:
        stmt = stmt.where(col(Objection.state) == state)
    if caller.role == "department":
        stmt = stmt.where(col(Objection.department_id) == _department(session, caller).id)
    elif caller.role == "lead":
        stmt = stmt.where(col(AssessmentCycle.state).in_(RECORDED))
    elif caller.role not in ("assessor", "admin"):
        raise Refused(f"a {caller.role} does not read objections")
    return _views(session, list(session.exec(stmt.order_by(col(Objection.id))).all()))


def get_objection(session: Session, objection_id: int, caller: Caller) -> ObjectionView:
    """One objection, if `caller` may see it (NotFound otherwise, as for one that does not exist)."""
    for view in list_objections(session, caller):
        if view.id == objection_id:
            return view
    raise NotFound(f"no objection {objection_id}")


def _views(session: Session, rows: list[Objection]) -> list[ObjectionView]:
    if not rows:
        return []
    periods = dict(
        session.execute(
            select(col(AssessmentCycle.id), col(Period.code)).join(
                Period, col(Period.id) == col(AssessmentCycle.period_id)
            )
        ).all()
    )
    departments = dict(session.execute(select(col(Department.id), col(Department.code))).all())
    ids = {i for r in rows for i in (r.object_id, r.value_object_id) if i is not None}
    objects = dict(
        session.execute(
            select(col(AssessedObject.id), col(AssessedObject.code)).where(col(AssessedObject.id).in_(ids))
        ).all()
    )
    units = _units(session, {r.cycle_id for r in rows})
    return [
        ObjectionView(
            id=int(r.id or 0),
            period=str(periods.get(r.cycle_id, "?")),
            department=str(departments.get(r.department_id, "?")),
            target=r.target,
            object=objects.get(r.object_id or -1),
            indicator=r.indicator,
            node=r.node,
            aspect=r.aspect,
            draft_value=r.draft_value,
            text=r.text,
            evidence=r.evidence,
            evidence_ref=r.evidence_ref,
            raised_by=r.raised_by,
            raised_at=r.raised_at,
            state=r.state,
            reason=r.answer_reason,
            answered_by=r.answered_by,
            answered_at=r.answered_at,
            new_value=r.new_value,
            value_object=objects.get(r.value_object_id or -1),
            value_indicator=r.value_indicator,
            unit=units.get((r.cycle_id, r.indicator), "") if r.target == "value" else "",
        )
        for r in rows
    ]


def _units(session: Session, cycle_ids: set[int]) -> dict[tuple[int, str], str]:
    """(cycle id, indicator) → unit, from the framework of each cycle's draft run."""
    units: dict[tuple[int, str], str] = {}
    for cycle_id in cycle_ids:
        cycle = session.get(AssessmentCycle, cycle_id)
        run = session.get(EvaluationRun, cycle.draft_run_id) if cycle and cycle.draft_run_id else None
        if run is not None:
            for node in framework_of_run(session, run).indicators:
                units[(cycle_id, node.code)] = node.unit
    return units
