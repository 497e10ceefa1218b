"""How a department handles a bad-rating case (issue 17, point 3; 國辦發〔2019〕51號 and
GB/T 39735-2020 §7): who took it, the handling tier, the answer for the public, the internal
note, the return visit's outcome — what a move of `surveys.cases.transition_case` records
besides its state, checked here — and whether a case is on time.

Tiers and states (the state machine of surveys.cases is kept; a tier is chosen by a move):

    open → verified (taken: the handler's label)
    verified | upheld → rectifying (tier immediate 立行立改 or deadline 限期整改)
                      → rectified (the rectification, told to the public)
    verified | upheld → explained (tier explain 解釋說明: the explanation, told to the public)
    rectified | explained → return_visit_done (回訪: satisfied | unsatisfied | unreachable) → closed

The day of the rectification or of the explanation is the case's `rectified_day` (the
department's answer), so the case metrics count an explanation given in time as an answer on
time; the return visit is due `EGOV_CASE_RETURN_VISIT_DAYS` working days after it either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from egov.errors import ServiceError
from surveys.schemas import CASE_TIERS, VISIT_OUTCOMES

ANSWERED_STATES = ("rectified", "explained")  # the department has answered (rectification or explanation)
MAX_ANSWER = 2000
MAX_HANDLER = 100
MAX_NOTE = 500
# on time / overdue of a case, one definition (the desk, the ledger, the status page)
ON_TIME, LATE, OVERDUE, PENDING, NOT_DUE = "on_time", "late", "overdue", "pending", "not_due"
TIMELINESS = (ON_TIME, LATE, OVERDUE, PENDING, NOT_DUE)


@dataclass(frozen=True)
class CaseDetails:
    """What a move may record besides its state (each only on its own move): the handler (to
    verified), the tier (to rectifying), the answer for the public (to rectified or explained),
    the return visit's outcome (to return_visit_done); `note` (internal) on any move."""

    handler: str = ""
    tier: str | None = None
    answer: str = ""
    outcome: str | None = None
    note: str = ""


def detail_fields(case_id: int, to: str, details: CaseDetails) -> dict[str, Any]:
    """The columns a move to `to` writes from `details` (with the state, in the same
    compare-and-set); a 422 ServiceError naming the field when a detail is wrong or missing."""
    d = details
    _check_length("handler", d.handler, MAX_HANDLER)
    _check_length("answer", d.answer, MAX_ANSWER)
    _check_length("note", d.note, MAX_NOTE)
    misplaced = [
        name
        for name, given, move in (
            ("handler", bool(d.handler), ("verified",)),
            ("tier", d.tier is not None, ("rectifying",)),
            ("answer", bool(d.answer), ANSWERED_STATES),
            ("outcome", d.outcome is not None, ("return_visit_done",)),
        )
        if given and to not in move
    ]
    if misplaced:
        raise ServiceError(422, f"case {case_id}: {', '.join(misplaced)} does not belong to a move to {to}")
    fields: dict[str, Any] = {"internal_note": d.note} if d.note else {}
    if to == "verified" and d.handler:
        fields["handler"] = d.handler
    elif to == "rectifying":
        tier = d.tier or "deadline"
        if tier not in CASE_TIERS or tier == "explain":
            raise ServiceError(
                422, f"case {case_id}: tier: rectifying is immediate or deadline; explain with 'explained'"
            )
        fields["tier"] = tier
    elif to == "explained":
        if not d.answer.strip():
            raise ServiceError(422, f"case {case_id}: answer: an explanation needs its text for the public")
        fields.update(tier="explain", answer=d.answer)
    elif to == "rectified" and d.answer:
        fields["answer"] = d.answer
    elif to == "return_visit_done" and d.outcome is not None:
        if d.outcome not in VISIT_OUTCOMES:
            raise ServiceError(422, f"case {case_id}: outcome: one of {', '.join(VISIT_OUTCOMES)}")
        fields["visit_outcome"] = d.outcome
    return fields


def _check_length(name: str, text: str, limit: int) -> None:
    if len(text) > limit:
        raise ServiceError(422, f"{name}: at most {limit} characters")


def timeliness(state: str, rectify_due: date, rectified_day: date | None, today: date) -> str:
    """Whether the department answered in time: `on_time` / `late` (answered by / after the
    deadline), `overdue` (not answered and the deadline has passed), `pending` (not answered,
    still in time), `not_due` (no answer owed: the rating was removed on appeal, or the case was
    withdrawn because the citizen amended the rating)."""
    if rectified_day is not None:
        return ON_TIME if rectified_day <= rectify_due else LATE
    if state in ("removed", "closed"):
        return NOT_DUE
    return OVERDUE if today > rectify_due else PENDING


def visit_overdue(
    rectified_day: date | None, visit_due: date | None, visit_day: date | None, today: date
) -> bool:
    """The return visit is owed and its deadline has passed."""
    return rectified_day is not None and visit_day is None and visit_due is not None and today > visit_due
