"""What the rating API's route modules share: the prefix, the OpenAPI documentation of a route
(`doc`: summary, description, example, refusals), the id path parameter, the default period,
a department's own objects and the per-issuer rate limit's answer."""

from __future__ import annotations

import math
from datetime import date
from typing import Annotated, Any

from fastapi import Path, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlmodel import Session, col

from egov.auth import Principal
from egov.clock import local_day
from egov.models import AssessedObject
from surveys import schemas as S

API = "/api/v1"


def doc(
    summary: str, description: str, example: Any, *errors: int, media: str = "application/json"
) -> dict[str, Any]:
    """Route keyword arguments: summary, description, an example answer, the refusals (each
    with its `{"detail": …}` model, so the documented schema is what the API answers)."""
    responses: dict[int | str, Any] = {200: {"content": {media: {"example": example}}}}
    for code in sorted(set(errors)):
        responses[code] = {
            "description": ERROR_TEXT.get(code, "refused"),
            "model": S.ValidationProblem if code == 422 else S.Problem,
            "content": {"application/json": {"example": {"detail": "explanation of the refusal"}}},
        }
    return {"summary": summary, "description": description, "responses": responses}


ERROR_TEXT = {
    400: "the body is not readable as JSON text (e.g. not UTF-8)",
    401: "no key, an unknown or revoked key, or an invalid rating token",
    403: "the key's role or department may not do this",
    404: "not found (or another department's)",
    409: "conflict: a used token, a finished case, a wrong state",
    410: "the rating token has expired",
    413: "request body too large",
    422: "invalid request: unknown fields, wrong values, a bad rating without a reason",
    429: "rate limit: retry after the Retry-After seconds",
    503: "the database is unavailable; retry later",
}
PUBLIC = (429, 503)  # every operation: the per-client rate limit, and the database (all but /questions)
AUTH = (401, *PUBLIC)  # any valid key
KEYED = (*AUTH, 403)  # a key of the right role
BODY = (400, 413, 422)  # a JSON body: unreadable, too large, invalid
POSTED = (413,)  # the size limit applies to every POST, even one without a body schema

RowId = Annotated[int, Path(ge=1, le=S.MAX_ID, description="Row id (1 … 2³¹−1).")]


def period(start: date | None, end: date | None) -> tuple[date, date]:
    """[start, end] of a query, by default from 1 January of this year to today."""
    today = local_day()
    return start or date(today.year, 1, 1), end or today


def own_objects(session: Session, principal: Principal) -> set[str]:
    """Codes of the objects of a department key's own department."""
    stmt = select(col(AssessedObject.code)).where(
        col(AssessedObject.department_id) == principal.department_id
    )
    return set(session.execute(stmt).scalars())


def take_issuers(request: Request, key_id: int, n: int = 1) -> float:
    """Take `n` from the token bucket of the department key making a token request (the
    sender, never a key named inside a rating token; the app's per-worker buckets,
    `app.state.issuers`, made by egov.app.create_app); the seconds to wait, 0 if allowed."""
    return float(request.app.state.issuers.take(key_id, n))


def limited(wait: float) -> JSONResponse:
    """429 with Retry-After: the issuing key's rate limit."""
    return JSONResponse(
        {"detail": "too many requests for this token issuer"},
        status_code=429,
        headers={"Retry-After": str(max(1, math.ceil(wait)))},
    )
