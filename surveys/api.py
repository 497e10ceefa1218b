"""The rating API (FastAPI): `create_app()` builds it; `egov serve` runs it with uvicorn.

Public: the questions, rating submission (authorised by the single-use token) and the
widget. Everything else needs an API key (`Authorization: Bearer egk_…`) of the right role:
department keys issue tokens and handle their own cases; assessor keys read everything,
review held ratings and decide appeals; admin keys manage keys.
Abuse resistance: strict schemas (unknown fields → 422), a body size limit (413), token
buckets per client address and per token issuer (429 + Retry-After; per worker), CORS only
for EGOV_ALLOWED_ORIGINS, burst detection holding ratings for review.
"""

from __future__ import annotations

import contextlib
import gc
import json
import math
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import date
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, FastAPI, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response, StreamingResponse
from sqlalchemy import select
from sqlmodel import Session, col

from egov import __version__
from egov.auth import Principal, TokenBucket, create_key, revoke_key
from egov.clock import local_day
from egov.db import get_engine
from egov.deps import AdminKey, AnyKey, AssessorKey, AuditKey, DepartmentKey, ReaderKey, SessionDep
from egov.errors import EgovError, ServiceError
from egov.models import ApiKey, AssessedObject, AuditLog, Department
from egov.settings import get_settings
from surveys import schemas as S
from surveys.questions import questions
from surveys.service import (
    body_hash,
    held_ratings,
    issue_tokens,
    review_rating,
    submit_one_fast,
    submit_ratings,
    verify_claims,
)

API = "/api/v1"
Scope = dict[str, Any]
Message = dict[str, Any]
ASGIApp = Callable[
    [Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]
]


# --- middleware -----------------------------------------------------------------------------------
class GuardMiddleware:
    """Body size limit (413) and a token bucket per client address (429 + Retry-After), as a
    plain ASGI middleware (no per-request task overhead)."""

    def __init__(self, app: ASGIApp, max_body: int, max_batch_body: int, client_rate: int) -> None:
        self.app = app
        self.max_body = max_body
        self.max_batch_body = max_batch_body
        self.clients = TokenBucket(client_rate)

    async def __call__(
        self,
        scope: Scope,
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith(API) or path.startswith("/widget"):
            client = (scope.get("client") or ("?", 0))[0]
            wait = self.clients.take(client)
            if wait:
                await _json(send, 429, {"detail": "too many requests from this client"}, retry_after=wait)
                return
        if scope["method"] in ("POST", "PUT", "PATCH"):
            limit = self.max_batch_body if path.endswith("/batch") else self.max_body
            for name, value in scope.get("headers", []):
                if name == b"content-length" and value.isdigit() and int(value) > limit:
                    await _json(send, 413, {"detail": f"request body larger than {limit} bytes"})
                    return
            chunks: list[bytes] = []
            size = 0
            more = True
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                body = message.get("body", b"")
                size += len(body)
                if size > limit:
                    await _json(send, 413, {"detail": f"request body larger than {limit} bytes"})
                    return
                chunks.append(body)
                more = message.get("more_body", False)
            whole = b"".join(chunks)
            sent = False

            async def replay() -> Message:
                nonlocal sent
                if not sent:
                    sent = True
                    return {"type": "http.request", "body": whole, "more_body": False}
                return await receive()

            await self.app(scope, replay, send)
            return
        await self.app(scope, receive, send)


async def _json(
    send: Callable[[Message], Awaitable[None]], status: int, body: dict[str, Any], retry_after: float = 0
) -> None:
    data = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    if retry_after:
        headers.append((b"retry-after", str(max(1, math.ceil(retry_after))).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


_sqlite_writer = threading.Lock()


@contextlib.contextmanager
def write_lock(session: Session) -> Iterator[None]:
    """SQLite allows one writer: serialise this worker's rating transactions in-process
    rather than let threads collide on the database lock and sleep in its busy handler
    (which shows as long tail latencies). PostgreSQL needs no lock."""
    if session.get_bind().dialect.name != "sqlite":
        yield
        return
    with _sqlite_writer:
        yield


def _limited(wait: float) -> JSONResponse:
    return JSONResponse(
        {"detail": "too many requests for this token issuer"},
        status_code=429,
        headers={"Retry-After": str(max(1, math.ceil(wait)))},
    )


# --- OpenAPI helpers ----------------------------------------------------------------------------------
def doc(
    summary: str, description: str, example: Any, *errors: int, media: str = "application/json"
) -> dict[str, Any]:
    """Route keyword arguments: summary, description, an example answer, the refusals (each
    with its `{"detail": …}` model, so the documented schema is what the API answers)."""
    responses: dict[int | str, Any] = {200: {"content": {media: {"example": example}}}}
    for code in sorted(set(errors)):
        responses[code] = {
            "description": _ERROR_TEXT.get(code, "refused"),
            "model": S.ValidationProblem if code == 422 else S.Problem,
            "content": {"application/json": {"example": {"detail": "explanation of the refusal"}}},
        }
    return {"summary": summary, "description": description, "responses": responses}


_ERROR_TEXT = {
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
RECEIPT = {
    "receipt": "9f1c2e0b5a7d4c3e8f6a1b2c3d4e5f60",
    "status": "accepted",
    "amended": False,
    "question_version": "2026.1",
}
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
}


RowId = Annotated[int, Path(ge=1, le=S.MAX_ID, description="Row id (1 … 2³¹−1).")]


def _period(start: date | None, end: date | None) -> tuple[date, date]:
    today = local_day()
    return start or date(today.year, 1, 1), end or today


# --- routes ------------------------------------------------------------------------------------------
def build_router() -> APIRouter:
    r = APIRouter(prefix=API)

    @r.get(
        "/health",
        tags=["service"],
        **doc(
            "Health check",
            "Liveness and database reachability; public.",
            {"status": "ok", "version": "0.1.0"},
            *PUBLIC,
        ),
    )
    def health(session: SessionDep) -> dict[str, str]:
        session.execute(select(1))
        return {"status": "ok", "version": __version__}

    @r.get(
        "/questions",
        tags=["ratings"],
        **doc(
            "Question texts",
            "The current, versioned question texts in Traditional Chinese, Portuguese and English: the question, "
            "the five levels (5 非常滿意 … 1 非常不滿意; 1–2 are bad ratings), the drivers and prompts. Public.",
            {"version": "2026.1", "question": {"zh-Hant": "您對這次服務滿意嗎？", "pt": "…", "en": "…"}},
            429,
        ),
    )
    def get_questions() -> dict[str, Any]:
        return questions()

    @r.get(
        "/me",
        tags=["keys"],
        **doc(
            "Who am I",
            "The role and department of the presented key.",
            {"key_id": 3, "role": "department", "department": "SAFP"},
            *AUTH,
        ),
    )
    def me(principal: AnyKey) -> S.Principal:
        return S.Principal(key_id=principal.key_id, role=principal.role, department=principal.department_code)

    token_example = {
        "token": S.EXAMPLE_TOKEN,
        "object": "ONE_ACCOUNT",
        "transaction_ref": "SAFP-2026-000123",
        "expires_at": "2026-03-16T08:00:00Z",
        "widget_path": "/widget/ONE_ACCOUNT?token=v1…",
    }

    def _issued(t: Any) -> S.TokenIssued:
        return S.TokenIssued(
            token=t.token,
            object=t.object,
            transaction_ref=t.transaction_ref,
            expires_at=t.expires_at,
            widget_path=f"/widget/{t.object}?token={t.token}",
        )

    @r.post(
        "/tokens",
        tags=["tokens"],
        response_model=S.TokenIssued,
        **doc(
            "Issue a rating token",
            "A department's back end asks for a single-use signed rating token for a completed transaction of "
            "one of its application objects. Asking again for the same transaction returns the same token. "
            "A new token counts one offered rating (the response-rate denominator). Department keys only.",
            token_example,
            *KEYED,
            404,
            *BODY,
        ),
    )
    def post_token(
        body: S.TokenRequest, request: Request, session: SessionDep, principal: DepartmentKey
    ) -> Any:
        wait = request.app.state.issuers.take(principal.key_id)
        if wait:
            return _limited(wait)
        issued = issue_tokens(session, principal, [body])
        session.commit()
        return _issued(issued[0])

    @r.post(
        "/tokens/batch",
        tags=["tokens"],
        response_model=S.TokenBatchResult,
        **doc(
            "Issue rating tokens in a batch",
            f"Up to {S.MAX_BATCH} transactions in one request, all or nothing. Department keys only.",
            {"items": [token_example]},
            *KEYED,
            404,
            *BODY,
        ),
    )
    def post_tokens(
        body: S.TokenBatch, request: Request, session: SessionDep, principal: DepartmentKey
    ) -> Any:
        wait = request.app.state.issuers.take(principal.key_id, len(body.items))
        if wait:
            return _limited(wait)
        issued = issue_tokens(session, principal, body.items)
        session.commit()
        return S.TokenBatchResult(items=[_issued(t) for t in issued])

    def _client_ip(request: Request) -> str | None:
        return request.client.host if request.client else None

    def _take_issuers(request: Request, claims: list[Any]) -> float:
        per: dict[int, int] = {}
        for c in claims:
            k = getattr(c, "issuer_key_id", None)
            if k is not None:
                per[k] = per.get(k, 0) + 1
        return max((request.app.state.issuers.take(k, n) for k, n in per.items()), default=0.0)

    @r.post(
        "/ratings",
        tags=["ratings"],
        response_model=S.RatingReceipt,
        **doc(
            "Submit a rating",
            "The citizen's app (or the widget) submits a rating with the token of the transaction. The first "
            "submission is stored and counted in the daily roll-ups (or held for review when burst detection "
            "flags it). Repeating the identical submission returns the same receipt and stores nothing "
            "(header Idempotent-Replay: true). One follow-up with `follow_up: true` may amend the rating; "
            "any other reuse of the token is refused (409). Levels 1–2 need at least one `better` driver. "
            "Public: the token is the authorisation.",
            RECEIPT,
            401,
            409,
            410,
            *BODY,
            *PUBLIC,
        ),
    )
    async def post_rating(body: S.RatingCreate, request: Request) -> Any:
        # one worker-thread hop for the database work (no session dependency: its setup and
        # teardown would be two more hops); committed before the answer is sent
        return await run_in_threadpool(_rate_one, request, body, _client_ip(request))

    def _rate_one(request: Request, body: S.RatingCreate, ip: str | None) -> Any:
        with Session(get_engine(), expire_on_commit=False) as session:
            claims = verify_claims(session, [body])
            wait = _take_issuers(request, claims)
            if wait:
                return _limited(wait)
            with write_lock(session):
                engine = get_engine()
                raw = engine.raw_connection()  # the usual case: straight on the driver
                try:
                    fast = submit_one_fast(raw, engine.dialect.name, body, claims[0], client_ip=ip)
                    if fast is not None:
                        raw.commit()
                finally:
                    raw.close()  # back to the pool (rolled back if not committed)
                if fast is not None:
                    return JSONResponse(fast.receipt)
                result = submit_ratings(session, [body], claims, client_ip=ip)[0]
                if not result.ok:
                    session.rollback()
                    return JSONResponse({"detail": result.error}, status_code=result.status_code)
                session.commit()
        headers = {"Idempotent-Replay": "true"} if result.replay else {}
        return JSONResponse(result.receipt, headers=headers)

    @r.post(
        "/ratings/batch",
        tags=["ratings"],
        response_model=S.RatingBatchResult,
        **doc(
            "Submit ratings in a batch",
            f"Up to {S.MAX_BATCH} ratings queued offline by an app, each with its own token; every item gets its "
            "own result (same rules as a single rating: idempotent repeats, one follow-up). Items with a "
            "token problem are refused individually; the rest are stored. Public: the tokens authorise.",
            {
                "accepted": 1,
                "items": [{"index": 0, "ok": True, "receipt": RECEIPT, "error": None, "code": 200}],
            },
            409,
            *BODY,
            *PUBLIC,
        ),
    )
    async def post_ratings(body: S.RatingBatch, request: Request) -> Any:
        return await run_in_threadpool(_rate_batch, request, body, _client_ip(request))

    def _rate_batch(request: Request, body: S.RatingBatch, ip: str | None) -> Any:
        with Session(get_engine(), expire_on_commit=False) as session:
            claims = verify_claims(session, body.items)
            wait = _take_issuers(request, claims)
            if wait:
                return _limited(wait)
            hashes = [body_hash(x) for x in body.items]  # pure computation: before the lock
            with write_lock(session):
                results = submit_ratings(session, body.items, claims, client_ip=ip, hashes=hashes)
                session.commit()
        # the answer is built as plain data (S.RatingBatchResult documents its shape)
        items = [
            {"index": i, "ok": x.ok, "receipt": x.receipt, "error": x.error, "code": x.status_code}
            for i, x in enumerate(results)
        ]
        accepted = sum(1 for x in results if x.ok and not x.replay)
        return Response(orjson.dumps({"accepted": accepted, "items": items}), media_type="application/json")

    @r.get(
        "/ratings/held",
        tags=["review"],
        **doc(
            "Ratings held for review",
            "Ratings that burst detection held back (they do not count until an assessor accepts them). Assessor keys.",
            [
                {
                    "id": 812,
                    "object": "ONE_ACCOUNT",
                    "day": "2026-03-02",
                    "level": 5,
                    "flags": "burst",
                    "created_at": "2026-03-02T02:11:09Z",
                }
            ],
            *KEYED,
        ),
    )
    def get_held(session: SessionDep, principal: AssessorKey) -> list[S.FlaggedRating]:
        return [S.FlaggedRating(**r) for r in held_ratings(session)]

    @r.post(
        "/ratings/{rating_id}/review",
        tags=["review"],
        response_model=S.ReviewResult,
        **doc(
            "Review a held rating",
            "Accept (it counts from now on, in the roll-up of its day) or reject a rating held by burst detection; "
            "the decision is in the audit trail. Assessor keys.",
            {"id": 812, "flags": ""},
            *KEYED,
            404,
            409,
            *BODY,
        ),
    )
    def post_review(
        rating_id: RowId, body: S.ReviewRequest, session: SessionDep, principal: AssessorKey
    ) -> S.ReviewResult:
        rating = review_rating(session, principal, rating_id, body.decision, body.note)
        session.commit()
        return S.ReviewResult(id=int(rating.id or rating_id), flags=rating.flags)

    @r.get(
        "/ratings/export",
        tags=["review"],
        response_class=StreamingResponse,
        **doc(
            "Export ratings (CSV)",
            "Ratings of days [start, end] as CSV with comments scrubbed of identity-card numbers, phone numbers "
            "and e-mail addresses; no pseudonym, IP or transaction reference. Assessor keys.",
            "object,day,level,drivers,comment,channel,language,question_version,counted\nONE_ACCOUNT,2026-03-02,2,-efficiency,call me on [phone],app,en,2026.1,yes\n",
            *KEYED,
            422,
            media="text/csv",
        ),
    )
    def get_export(
        session: SessionDep, principal: AssessorKey, start: date | None = None, end: date | None = None
    ) -> StreamingResponse:
        from surveys.privacy import export_csv

        s, e = _period(start, end)
        return StreamingResponse(export_csv(session, s, e), media_type="text/csv")

    @r.get(
        "/measures",
        tags=["indicators"],
        **doc(
            "Rating measures",
            "Per object for days [start, end], from the SQL roll-ups: counts per level, share satisfied with its "
            "Wilson 95 % interval, mean level, bad share, empirical-Bayes shrunk satisfaction, response and "
            "no-rating rates. Below EGOV_MIN_RATINGS ratings the values are null (insufficient, not ranked). "
            "Department keys see their own objects; assessor keys all.",
            {
                "ONE_ACCOUNT": {
                    "count": 412,
                    "share_satisfied": 71.4,
                    "share_satisfied_low": 66.9,
                    "share_satisfied_high": 75.5,
                    "satisfaction_eb": 70.9,
                }
            },
            *KEYED,
            422,
        ),
    )
    def get_measures(
        session: SessionDep, principal: ReaderKey, start: date | None = None, end: date | None = None
    ) -> dict[str, Any]:
        from surveys.rollup import rating_measures

        s, e = _period(start, end)
        measures, _notes = rating_measures(session, s, e, min_ratings=get_settings().min_ratings)
        if principal.role == "department":
            measures = measures[measures.index.isin(_own_objects(session, principal))]
        return json.loads(measures.to_json(orient="index"))

    @r.get(
        "/cases",
        tags=["cases"],
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
        from surveys.cases import list_cases

        return [S.CasePublic(**c) for c in list_cases(session, principal, state)]

    @r.get(
        "/cases/{case_id}",
        tags=["cases"],
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
        from surveys.cases import get_case as fetch

        return S.CasePublic(**fetch(session, principal, case_id))

    @r.post(
        "/cases/{case_id}/transition",
        tags=["cases"],
        **doc(
            "Move a case",
            "open → verified → rectifying → rectified → return_visit_done → closed, or open|verified → appealed; "
            "the department moves its own cases; an assessor decides an appeal: upheld (the rating stands, the "
            "department goes on to rectify) or removed (the rating no longer counts; logged). Deadlines are "
            "working days after the Macau holiday calendar.",
            {**CASE, "state": "verified"},
            *KEYED,
            404,
            409,
            *BODY,
        ),
    )
    def post_transition(
        case_id: RowId, body: S.CaseTransition, session: SessionDep, principal: ReaderKey
    ) -> S.CasePublic:
        from surveys.cases import get_case as fetch
        from surveys.cases import transition_case

        transition_case(session, principal, case_id, body.to, body.note)
        session.commit()
        return S.CasePublic(**fetch(session, principal, case_id))

    @r.get(
        "/case-metrics",
        tags=["cases"],
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
        from surveys.cases import case_metrics

        s, e = _period(start, end)
        df = case_metrics(session, s, e, by)
        if principal.role == "department":
            if by == "department":
                df = df[df.index == principal.department_code]
            else:
                df = df[df.index.isin(_own_objects(session, principal))]
        return json.loads(df.to_json(orient="index"))

    @r.get(
        "/audit",
        tags=["review"],
        **doc(
            "Audit trail",
            "Who did what, newest first: held-rating reviews, rating removals, case moves, keys, purges. Assessor and admin keys.",
            [
                {
                    "id": 1,
                    "at": "2026-03-02T02:11:09Z",
                    "actor": "key 2 (assessor)",
                    "action": "rating.remove",
                    "target_type": "rating",
                    "target_id": "812",
                    "detail": "appeal of case 12",
                }
            ],
            *KEYED,
            422,
        ),
    )
    def get_audit(
        session: SessionDep, principal: AuditKey, limit: Annotated[int, Query(ge=1, le=5000)] = 500
    ) -> list[S.AuditEntry]:
        rows = session.execute(select(AuditLog).order_by(col(AuditLog.id).desc()).limit(limit)).scalars()
        return [S.AuditEntry(**r.model_dump()) for r in rows]

    key_example = {
        "id": 4,
        "prefix": "egk_Xa81bQ2",
        "role": "department",
        "department": "SAFP",
        "label": "SAFP back end",
        "created_at": "2026-03-02T02:11:09Z",
        "revoked_at": None,
    }

    def _key_public(row: ApiKey, session: Session) -> dict[str, Any]:
        dept = session.get(Department, row.department_id) if row.department_id else None
        return {
            "id": row.id,
            "prefix": row.prefix,
            "role": row.role,
            "department": dept.code if dept else None,
            "label": row.label,
            "created_at": row.created_at,
            "revoked_at": row.revoked_at,
        }

    @r.get(
        "/keys",
        tags=["keys"],
        **doc(
            "List API keys",
            "Every key with its prefix, role and department (never the key). Admin keys.",
            [key_example],
            *KEYED,
        ),
    )
    def get_keys(session: SessionDep, principal: AdminKey) -> list[S.KeyPublic]:
        rows = session.execute(select(ApiKey).order_by(col(ApiKey.id))).scalars().all()
        return [S.KeyPublic(**_key_public(k, session)) for k in rows]

    @r.post(
        "/keys",
        tags=["keys"],
        **doc(
            "Create an API key",
            "The key is in the answer once; only its SHA-256 is stored. Admin keys.",
            {**key_example, "key": "egk_…"},
            *KEYED,
            *BODY,
        ),
    )
    def post_key(body: S.KeyCreate, session: SessionDep, principal: AdminKey) -> S.KeyCreated:
        key, row = create_key(session, body.role, body.department, body.label)
        session.commit()
        return S.KeyCreated(key=key, **_key_public(row, session))

    @r.post(
        "/keys/{key_id}/revoke",
        tags=["keys"],
        **doc(
            "Revoke an API key",
            "The key stops working at once. Admin keys.",
            {**key_example, "revoked_at": "2026-03-03T01:00:00Z"},
            *KEYED,
            404,
            *POSTED,
            422,
        ),
    )
    def post_revoke(key_id: RowId, session: SessionDep, principal: AdminKey) -> S.KeyPublic:
        try:
            row = revoke_key(session, key_id, principal.actor)
        except EgovError as exc:
            raise ServiceError(404, str(exc)) from exc
        session.commit()
        return S.KeyPublic(**_key_public(row, session))

    return r


def _own_objects(session: Session, principal: Principal) -> set[str]:
    """Codes of the objects of a department key's own department."""
    stmt = select(col(AssessedObject.code)).where(
        col(AssessedObject.department_id) == principal.department_id
    )
    return set(session.execute(stmt).scalars())


def create_app() -> FastAPI:
    """The rating API, the widget and the OpenAPI documentation (/docs, /openapi.json)."""
    settings = get_settings()

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # everything loaded at start-up (SQLAlchemy, pandas, the app) stays for the process'
        # life: keep it out of the garbage collector's full passes, which otherwise rescan it
        # every few thousand allocations of a request
        gc.collect()
        gc.freeze()
        yield

    app = FastAPI(
        lifespan=lifespan,
        title="egov-eval citizen ratings",
        version=__version__,
        description=(
            "Citizen ratings of e-government application services (Macau): single-use rating tokens per "
            "completed transaction, ratings and batches, the embeddable widget, bad-rating cases, measures. "
            "Keys: `Authorization: Bearer egk_…` (department, assessor, admin)."
        ),
    )
    app.state.issuers = TokenBucket(settings.rate_limit_issuer)

    @app.exception_handler(ServiceError)
    async def _service_error(_request: Request, exc: ServiceError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse({"detail": exc.message}, status_code=exc.status, headers=headers)

    # The database cannot be used right now (PostgreSQL down or restarting, a connection lost,
    # the pool exhausted, SQLite locked past its timeout): 503 with Retry-After, never a 500 or a
    # traceback; the client sends the request again (tokens and ratings are idempotent). Any
    # other database error is a fault of the program: re-raised, a plain 500, logged.
    import sqlite3

    from fastapi.responses import HTMLResponse
    from sqlalchemy.exc import SQLAlchemyError

    from egov.db import is_unavailable

    unavailable = "the rating database is unavailable; please try again shortly"
    unavailable_page = (  # the report pages (HTML, outside the OpenAPI schema)
        '<!doctype html><html lang="zh-Hant"><head><meta charset="utf-8"><title>503</title></head><body>'
        "<p>評分資料庫暫時無法使用，請稍後再試。</p>"
        '<p lang="pt">A base de dados das avaliações está indisponível; tente de novo dentro de momentos.</p>'
        f'<p lang="en">The {unavailable}.</p></body></html>'
    )

    def _unavailable(request: Request) -> Response:
        headers = {"Retry-After": "5"}
        if request.url.path.startswith("/reports"):
            return HTMLResponse(unavailable_page, status_code=503, headers=headers)
        return JSONResponse({"detail": unavailable}, status_code=503, headers=headers)

    async def _database_error(request: Request, exc: Exception) -> Response:
        if is_unavailable(exc):
            return _unavailable(request)
        raise exc

    database_errors: list[type[Exception]] = [SQLAlchemyError, sqlite3.Error]
    with contextlib.suppress(ImportError):
        import psycopg  # raised as is by the single-rating fast path (raw driver connection)

        database_errors.append(psycopg.Error)
    for error_class in database_errors:
        app.add_exception_handler(error_class, _database_error)

    @app.exception_handler(EgovError)
    async def _egov_error(request: Request, exc: EgovError) -> Response:
        if is_unavailable(exc):  # session_scope's "database error: …" made from an outage
            return _unavailable(request)
        return JSONResponse({"detail": str(exc)}, status_code=422)

    app.include_router(build_router())
    from surveys.widget import build_widget_router

    app.include_router(build_widget_router())
    from reports.web import build_reports_router  # the role-protected report pages (/reports/)

    app.include_router(build_reports_router())

    origins = [o.strip() for o in settings.allowed_origins.split(",") if o.strip()]
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
            max_age=600,
        )
    app.add_middleware(
        GuardMiddleware,
        max_body=settings.max_body_bytes,
        max_batch_body=settings.max_batch_body_bytes,
        client_rate=settings.rate_limit_client,
    )

    return app
