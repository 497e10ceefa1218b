"""What a department reads of its draft during the review, and what the review changed
(issue 16 point 5; docs/assessment.md, "Objections").

`draft_view`: a department's own results (score and rank at every node) and own input values
in the draft of a period, during the review only (egov.cycle.RunAccess). `finalise`: the
assessor's move review → final (egov.cycle.advance, optionally with a new run) once every
objection is answered, recording at once what changed. `record_review`: the `egov runs diff` of
the draft and the final run (egov.record.diff_runs) and the objection log, stored once with
the cycle (`review_record`); a cycle moved to final by `egov cycle advance` gets it the first
time it is read, from the same immutable runs and the same closed log. `review_summary`: what
the public site and `egov objections summary` show: counts by state and each objection's
department, what, answer and reason, without anyone's name.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlmodel import Session, col, select

from egov.auth import Principal, audit
from egov.cycle import Actor, advance, get_cycle, run_access
from egov.models import AssessmentCycle, Department, EvaluationRun
from egov.models_objections import Objection, ReviewRecord
from egov.objections import (
    OBJECTION_STATES,
    RECORDED,
    Caller,
    Conflict,
    ObjectionView,
    Refused,
    list_objections,
)
from egov.record import diff_runs, load_inputs
from egov.store import run_scores


@dataclass(frozen=True)
class DraftResult:
    """The department's score (0–100) and rank at one node of the draft."""

    node: str
    level: int
    score: float
    rank: int | None
    peer_rank: int | None


@dataclass
class DraftView:
    """A department's own part of the draft: its results at every node (the index first) and
    the input values (object, indicator, value) of its objects."""

    period: str
    department: str
    run_key: str
    review_deadline: str | None
    results: list[DraftResult]
    values: list[tuple[str, str, float | None]]


@dataclass(frozen=True)
class SummaryItem:
    """One objection as published: no name, no free text of the department."""

    department: str
    target: str
    what: str
    aspect: str
    state: str
    reason: str
    new_value: float | None


@dataclass
class ReviewSummary:
    """The review of a period as published: runs, counts by state, the objections, and how
    many input values and department results the final run changed since the draft."""

    period: str
    state: str
    draft_run: str | None
    final_run: str | None
    counts: dict[str, int]
    items: list[SummaryItem] = field(default_factory=list)
    inputs_changed: int = 0
    results_changed: int = 0
    same_results: bool = True


def draft_view(session: Session, period: str, caller: Caller) -> DraftView:
    """The department's own results and values in the draft of `period`, during the review."""
    if caller.role != "department" or not caller.department:
        raise Refused("the draft view is a department's (a department key)")
    cycle = get_cycle(session, period)
    dept = session.exec(select(Department).where(col(Department.code) == caller.department)).first()
    run = session.get(EvaluationRun, cycle.run_id) if cycle.run_id else None
    principal = Principal(0, "department", dept.id if dept else None, caller.department, "")
    if dept is None or run is None or not run_access(session, principal).may_read(run.id, dept.code):
        raise Conflict(f"no draft of {period} is open to {caller.department} for review")
    scores = run_scores(session, run, "department")
    own_scores = scores[scores["entity"] == dept.code].sort_values(
        ["level", "node"], ascending=[False, True], kind="mergesort"
    )
    results = [
        DraftResult(str(node), int(level), float(score), _int(rank), _int(peer))
        for node, level, score, rank, peer in own_scores[
            ["node", "level", "score", "rank", "peer_rank"]
        ].itertuples(index=False)
    ]
    inputs = load_inputs(session, run)
    own = set(inputs.units.index[inputs.units["department"] == dept.code])
    data = inputs.data[inputs.data["unit"].isin(own)]
    values = [
        (str(u), str(i), _float(v))
        for u, i, v in data[["unit", "indicator", "value"]].itertuples(index=False)
    ]
    deadline = cycle.review_deadline.isoformat() if cycle.review_deadline else None
    return DraftView(period, dept.code, run.run_key, deadline, results, values)


def _int(value: Any) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def _float(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def finalise(
    session: Session, period: str, actor: Actor, reason: str, run: str | None = None
) -> ReviewRecord:
    """The assessor closes the review: review → final (with `run`, a new final run), refused
    while an objection is open; the review record is stored in the same transaction."""
    cycle = get_cycle(session, period)
    open_ = session.exec(
        select(Objection.id).where(col(Objection.cycle_id) == cycle.id, col(Objection.state) == "open")
    ).all()
    if cycle.state == "review" and open_:
        shown = ", ".join(str(i) for i in open_[:10])
        raise Conflict(
            f"objections still open in {period}: {shown}; answer each first (egov objections answer)"
        )
    advance(session, period, "final", actor, reason, run)
    return record_review(session, period, actor.name)


def record_review(session: Session, period: str, recorded_by: str = "") -> ReviewRecord:
    """The cycle's review record (stored once, when the cycle is final or published)."""
    cycle = get_cycle(session, period)
    if cycle.state not in RECORDED:
        raise Conflict(f"the cycle of {period} is {cycle.state}: the review is recorded with the final run")
    row = session.exec(select(ReviewRecord).where(col(ReviewRecord.cycle_id) == cycle.id)).first()
    if row is not None:
        return row
    draft = session.get(EvaluationRun, cycle.draft_run_id)
    final = session.get(EvaluationRun, cycle.run_id)
    diff = diff_to_json(diff_runs(session, draft, final)) if draft and final else {}
    log = [_log_entry(v) for v in list_objections(session, Caller("record", "assessor"), period)]
    row = ReviewRecord(
        cycle_id=int(cycle.id or 0),
        draft_run_id=cycle.draft_run_id,
        final_run_id=cycle.run_id,
        recorded_by=recorded_by[:100],
        diff=diff,
        log=log,
    )
    session.add(row)
    session.flush()
    detail = f"draft={cycle.draft_run_id} final={cycle.run_id} objections={len(log)}"
    audit(session, recorded_by or "system", "objection.record", "cycle", period, detail)
    return row


def diff_to_json(diff: Any) -> dict[str, Any]:
    """A `egov.record.RunDiff` as plain JSON: the identity fields that differ, the framework
    diff lines, the spec, input and result changes as records, the notes."""

    def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
        return list(json.loads(frame.to_json(orient="records", double_precision=15)))

    identity = diff.identity[diff.identity["differs"]].drop(columns="differs")
    return {
        "draft_run": diff.a.run_key,
        "final_run": diff.b.run_key,
        "same_results": bool(diff.same_results),
        "identity": records(identity),
        "framework": list(diff.framework_text),
        "spec": records(diff.spec.astype(str)),
        "inputs": records(diff.inputs),
        "results": records(diff.results),
        "notes": list(diff.notes),
    }


def _log_entry(view: ObjectionView) -> dict[str, Any]:
    return {
        "id": view.id,
        "department": view.department,
        "target": view.target,
        "what": view.what,
        "object": view.object,
        "indicator": view.indicator,
        "node": view.node,
        "aspect": view.aspect,
        "draft_value": view.draft_value,
        "text": view.text,
        "evidence": view.evidence,
        "evidence_ref": view.evidence_ref,
        "raised_at": view.raised_at.isoformat(),
        "state": view.state,
        "reason": view.reason,
        "answered_at": view.answered_at.isoformat() if view.answered_at else None,
        "new_value": view.new_value,
        "value_object": view.value_object,
        "value_indicator": view.value_indicator,
    }


def review_summary(session: Session, period: str) -> ReviewSummary:
    """The published summary of the review of `period` (final or published cycles only): counts
    by state, each objection's department, what, answer and reason, and the changes counted."""
    record = record_review(session, period)
    cycle = session.get(AssessmentCycle, record.cycle_id)
    assert cycle is not None
    items = [
        SummaryItem(
            e["department"], e["target"], e["what"], e["aspect"], e["state"], e["reason"], e["new_value"]
        )
        for e in record.log
    ]
    counts = Counter(item.state for item in items)
    return ReviewSummary(
        period=period,
        state=cycle.state,
        draft_run=record.diff.get("draft_run"),
        final_run=record.diff.get("final_run"),
        counts={state: counts.get(state, 0) for state in OBJECTION_STATES},
        items=items,
        inputs_changed=len(record.diff.get("inputs", [])),
        results_changed=len(record.diff.get("results", [])),
        same_results=bool(record.diff.get("same_results", True)),
    )
