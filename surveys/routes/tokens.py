"""Rating tokens: a department's back end asks for the single-use token of a completed
transaction (one, or a batch), subject to the per-issuer rate limit."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from egov.deps import DepartmentKey, SessionDep
from surveys import schemas as S
from surveys.routes.common import API, BODY, KEYED, doc, limited, take_issuers
from surveys.tokens import IssuedToken, issue_tokens

router = APIRouter(prefix=API, tags=["tokens"])

TOKEN_EXAMPLE = {
    "token": S.EXAMPLE_TOKEN,
    "object": "ONE_ACCOUNT",
    "transaction_ref": "SAFP-2026-000123",
    "service": "DSF_VEHICLE_TAX",
    "expires_at": "2026-03-16T08:00:00Z",
    "widget_path": "/widget/ONE_ACCOUNT?token=v1…",
}


def _issued(t: IssuedToken) -> S.TokenIssued:
    return S.TokenIssued(
        token=t.token,
        object=t.object,
        transaction_ref=t.transaction_ref,
        service=t.service,
        window=t.window,
        kiosk=t.kiosk,
        expires_at=t.expires_at,
        widget_path=f"/widget/{t.object}?token={t.token}",
    )


@router.post(
    "/tokens",
    response_model=S.TokenIssued,
    **doc(
        "Issue a rating token",
        "A department's back end asks for a single-use signed rating token for a completed transaction of "
        "one of its application objects, optionally naming the service item (事項) the transaction was "
        "(known, active, offered through the object: else 422 naming `service`). Asking again for the same "
        "transaction returns the same token. A counter's queue system may name the rated subjects — the `window` "
        "and the `staff` member (the department's staff code, never a name) — and the `kiosk` that shows the "
        'rating form for the served ticket (docs/ratings.md, "Channels: counter kiosk and hotline"). '
        "A new token counts one offered rating (the response-rate denominator). Department keys only.",
        TOKEN_EXAMPLE,
        *KEYED,
        404,
        *BODY,
    ),
)
def post_token(body: S.TokenRequest, request: Request, session: SessionDep, principal: DepartmentKey) -> Any:
    wait = take_issuers(request, principal.key_id)
    if wait:
        return limited(wait)
    issued = issue_tokens(session, principal, [body])
    session.commit()
    return _issued(issued[0])


@router.post(
    "/tokens/batch",
    response_model=S.TokenBatchResult,
    **doc(
        "Issue rating tokens in a batch",
        f"Up to {S.MAX_BATCH} transactions in one request, all or nothing. Department keys only.",
        {"items": [TOKEN_EXAMPLE]},
        *KEYED,
        404,
        *BODY,
    ),
)
def post_tokens(body: S.TokenBatch, request: Request, session: SessionDep, principal: DepartmentKey) -> Any:
    wait = take_issuers(request, principal.key_id, len(body.items))
    if wait:
        return limited(wait)
    issued = issue_tokens(session, principal, body.items, batch=True)
    session.commit()
    return S.TokenBatchResult(items=[_issued(t) for t in issued])
