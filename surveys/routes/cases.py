"""Bad-rating cases: the list, one case, its moves, and the case metrics (department keys
their own, assessor keys all)."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query

from egov.deps import ReaderKey, SessionDep
from surveys import schemas as S
from surveys.cases import case_metrics, list_cases, transition_case
from surveys.cases import get_case as fetch
from surveys.casework import CaseDetails
from surveys.routes.common import API, BODY, KEYED, RowId, doc, own_objects, period

router = APIRouter(prefix=API, tags=["cases"])

CASE = {
    "id": 12,
    "object": "ONE_ACCOUNT",
    "department": "SAFP",
    "state": "open",
    "level": 2,
    "reason": ["efficiency"],
    "opened_day": "2026-03-02",
    "rectify_due": "2026-03-23",
    "rectified_day": None,
    "return_visit_due": None,
    "return_visit_day": None,
    "appeal_outcome": "",
    "tier": "",
    "handler": "",
    "answer": "",
    "internal_note": "",
    "visit_outcome": "",
}


@router.get(
    "/cases",
    **doc(
        "List bad-rating cases",
        "Department keys see their department's cases; assessor keys all. Filter by state.",
        [CASE],
        *KEYED,
        422,
    ),
)
def get_cases(
    session: SessionDep, principal: ReaderKey, state: S.CaseState | None = None
) -> list[S.CasePublic]:
    return [S.CasePublic(**c) for c in list_cases(session, principal, state)]


@router.get(
    "/cases/{case_id}",
    **doc(
        "One bad-rating case",
        "A case of the key's department (department keys) or any case (assessor keys).",
        CASE,
        *KEYED,
        404,
        422,
    ),
)
def get_case(case_id: RowId, session: SessionDep, principal: ReaderKey) -> S.CasePublic:
    return S.CasePublic(**fetch(session, principal, case_id))


@router.post(
    "/cases/{case_id}/transition",
    **doc(
        "Move a case",
        "open → verified (`handler`: who takes it) → rectifying (`tier`: immediate or deadline) → rectified "
        "(`answer`: the rectification, for the public) → return_visit_done (`outcome`: satisfied, unsatisfied or "
        "unreachable) → closed; or verified → explained (tier explain; `answer`: the explanation, required) → "
        "return_visit_done; or open|verified → appealed. The department moves its own cases; an assessor "
        "decides an appeal: upheld (the rating stands, the department goes on to rectify or explain) or removed "
        "(the rating no longer counts; logged). `note` is internal. Deadlines are working days after the Macau "
        "holiday calendar. The answer is shown on the citizen's public status page (/status/{receipt}).",
        {**CASE, "state": "verified", "handler": "counter team A"},
        *KEYED,
        404,
        409,
        *BODY,
    ),
)
def post_transition(
    case_id: RowId, body: S.CaseTransition, session: SessionDep, principal: ReaderKey
) -> S.CasePublic:
    details = CaseDetails(body.handler, body.tier, body.answer, body.outcome, body.note)
    transition_case(session, principal, case_id, body.to, body.note, details=details)
    session.commit()
    return S.CasePublic(**fetch(session, principal, case_id))


@router.get(
    "/case-metrics",
    **doc(
        "Case metrics",
        "Per department (by=department) or object (by=object), for cases opened in [start, end]: rectified on "
        "time %, return-visit rate %, appeals upheld and removed — the inputs of the management indicators "
        "mgmt_rectify_on_time and mgmt_return_visit. Department keys see their own; assessor keys all.",
        {
            "SAFP": {
                "cases": 14,
                "rectified_on_time": 85.7,
                "return_visit_rate": 100.0,
                "appeals": 2,
                "appeals_upheld": 1,
                "appeals_removed": 1,
            }
        },
        *KEYED,
        422,
    ),
)
def get_case_metrics(
    session: SessionDep,
    principal: ReaderKey,
    start: date | None = None,
    end: date | None = None,
    by: Annotated[str, Query(pattern="^(department|object)$")] = "department",
) -> dict[str, Any]:
    s, e = period(start, end)
    df = case_metrics(session, s, e, by)
    if principal.role == "department":
        if by == "department":
            df = df[df.index == principal.department_code]
        else:
            df = df[df.index.isin(own_objects(session, principal))]
    return json.loads(df.to_json(orient="index"))
