"""The objections API of the department review (/api/v1/objections; egov.objections): a
department key raises objections to its own draft values or results and lists its own; an
assessor key lists all and answers each (accepted with the new value, or rejected, with a
reason). Included by `create_app`. Refusals: 403 the wrong role, 404 an objection the key may
not see (another department's is not disclosed), 409 outside the review, after its deadline or
answered already, 422 an invalid objection (unknown object, another department's object, a
node without its result)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Literal, TypeVar

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from egov.deps import AssessorKey, DepartmentKey, ReaderKey, SessionDep
from egov.errors import ServiceError
from egov.inputs import Code, FreeText
from egov.objections import (
    Caller,
    Conflict,
    NotFound,
    ObjectionView,
    Refused,
    answer_objection,
    list_objections,
    raise_objection,
)
from surveys.routes.common import API, BODY, KEYED, RowId, doc
from surveys.schemas import Strict

router = APIRouter(prefix=API, tags=["objections"])
T = TypeVar("T")

OBJECTION = {
    "id": 3,
    "period": "2025",
    "department": "SAFP",
    "target": "value",
    "object": "ONE_ACCOUNT",
    "indicator": "app_takeup",
    "node": "",
    "aspect": "",
    "draft_value": 41.0,
    "unit": "%",
    "text": "the take-up excludes the counter transactions",
    "evidence": "https://example.org/stats-2025",
    "evidence_ref": "",
    "state": "accepted",
    "reason": "counter transactions counted",
    "raised_at": "2026-03-02T02:11:09Z",
    "answered_at": "2026-03-04T08:40:00Z",
    "new_value": 61.5,
    "value_object": "ONE_ACCOUNT",
    "value_indicator": "app_takeup",
}


class ObjectionCreate(Strict):
    """An objection to a value (object + indicator) or to a result (node + aspect)."""

    period: Code = Field(max_length=20)
    text: FreeText = Field(min_length=1, max_length=4000)
    object: Code | None = Field(default=None, max_length=80)
    indicator: Code | None = Field(default=None, max_length=80)
    node: Code | None = Field(default=None, max_length=80)
    aspect: Literal["score", "rank"] = "score"
    evidence: FreeText = Field(default="", max_length=1000)
    evidence_ref: Code = Field(default="", max_length=200)

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "period": "2025",
                    "object": "ONE_ACCOUNT",
                    "indicator": "app_takeup",
                    "text": "the take-up excludes the counter transactions",
                    "evidence": "https://example.org/stats-2025",
                }
            ]
        },
    )


class ObjectionAnswer(Strict):
    """The assessor's answer: accept (a value objection with the new value) or reject."""

    decision: Literal["accept", "reject"]
    reason: FreeText = Field(min_length=1, max_length=4000)
    value: float | None = None
    object: Code | None = Field(default=None, max_length=80)
    indicator: Code | None = Field(default=None, max_length=80)

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"decision": "accept", "value": 61.5, "reason": "counter transactions counted"}]
        },
    )


class ObjectionPublic(BaseModel):
    id: int
    period: str
    department: str
    target: str
    object: str | None
    indicator: str
    node: str
    aspect: str
    draft_value: float | None
    unit: str
    text: str
    evidence: str
    evidence_ref: str
    state: str
    reason: str
    raised_at: datetime
    answered_at: datetime | None
    new_value: float | None
    value_object: str | None
    value_indicator: str


def _public(v: ObjectionView) -> ObjectionPublic:
    fields = {name: getattr(v, name) for name in ObjectionPublic.model_fields}
    return ObjectionPublic(**fields)


def _refusals(call: Callable[[], T]) -> T:
    """The library's refusals as their HTTP status (other EgovErrors stay 422)."""
    try:
        return call()
    except NotFound as exc:
        raise ServiceError(404, str(exc)) from None
    except Refused as exc:
        raise ServiceError(403, str(exc)) from None
    except Conflict as exc:
        raise ServiceError(409, str(exc)) from None


@router.get(
    "/objections",
    **doc(
        "List objections",
        "Department keys see their own department's objections; assessor keys all. Filter by period and state.",
        [OBJECTION],
        *KEYED,
        422,
    ),
)
def get_objections(
    session: SessionDep,
    principal: ReaderKey,
    period: Annotated[Code | None, Query(max_length=20)] = None,
    state: Literal["open", "accepted", "rejected"] | None = None,
) -> list[ObjectionPublic]:
    views = _refusals(lambda: list_objections(session, Caller.of_key(principal), period, state))
    return [_public(v) for v in views]


@router.post(
    "/objections",
    **doc(
        "Raise an objection",
        "A department key objects to a value of its own draft (object + indicator, a metric indicator) or to "
        "its own result (node + aspect: score or rank), with a text and evidence (a reference or URL), while "
        "the period's cycle is in department review and on or before its deadline (Macau working days).",
        {**OBJECTION, "state": "open", "reason": "", "answered_at": None, "new_value": None},
        *KEYED,
        409,
        *BODY,
    ),
)
def post_objection(body: ObjectionCreate, session: SessionDep, principal: DepartmentKey) -> ObjectionPublic:
    view = _refusals(
        lambda: raise_objection(
            session,
            body.period,
            Caller.of_key(principal),
            body.text,
            object_code=body.object,
            indicator=body.indicator,
            node=body.node,
            aspect=body.aspect if body.node else None,
            evidence=body.evidence,
            evidence_ref=body.evidence_ref,
        )
    )
    session.commit()
    return _public(view)


@router.post(
    "/objections/{objection_id}/answer",
    **doc(
        "Answer an objection",
        "An assessor key answers an open objection during the review: accept (a value objection with the new "
        "value, which supersedes the old one; the old one stays in the history) or reject, with a reason.",
        OBJECTION,
        *KEYED,
        404,
        409,
        *BODY,
    ),
)
def post_answer(
    objection_id: RowId, body: ObjectionAnswer, session: SessionDep, principal: AssessorKey
) -> ObjectionPublic:
    view = _refusals(
        lambda: answer_objection(
            session,
            objection_id,
            Caller.of_key(principal),
            body.decision == "accept",
            body.reason,
            body.value,
            body.object,
            body.indicator,
        )
    )
    session.commit()
    return _public(view)
