"""Ratings: the citizen's app (or the widget) submits one rating or a batch, authorised by
the tokens. The database work runs in one worker-thread hop without a session dependency;
a single rating takes the fast path (surveys.ratings_fast) and falls back to the general
one (surveys.ratings).

Rate limits are the sender's: the per-client bucket of egov.limits (one unit a request,
whatever the batch holds). Nothing here is charged to the issuer named inside a token, so a
citizen replaying tokens cannot spend a department's issuing budget (issue 13, point 6)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from sqlmodel import Session

from egov.db import get_engine
from surveys import schemas as S
from surveys.ratings import body_hash, submit_ratings, verify_claims
from surveys.ratings_fast import submit_one_fast
from surveys.routes.common import API, BODY, PUBLIC, doc

router = APIRouter(prefix=API, tags=["ratings"])

RECEIPT = {
    "receipt": "9f1c2e0b5a7d4c3e8f6a1b2c3d4e5f60",
    "status": "accepted",
    "amended": False,
    "question_version": "2026.1",
}

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


def _client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


@router.post(
    "/ratings",
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
    return await run_in_threadpool(_rate_one, body, _client_ip(request))


def _rate_one(body: S.RatingCreate, ip: str | None) -> Any:
    with Session(get_engine(), expire_on_commit=False) as session:
        claims = verify_claims(session, [body])
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


@router.post(
    "/ratings/batch",
    response_model=S.RatingBatchResult,
    **doc(
        "Submit ratings in a batch",
        f"Up to {S.MAX_BATCH} ratings queued offline by an app, each with its own token; every item gets its "
        "own result (same rules as a single rating: idempotent repeats, one follow-up). Items with a "
        "token problem or invalid fields (code 422, the error naming `items.N.field`) are refused "
        "individually; the rest are stored. Public: the tokens authorise.",
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
    return await run_in_threadpool(_rate_batch, body, _client_ip(request))


def _rate_batch(body: S.RatingBatch, ip: str | None) -> Any:
    with Session(get_engine(), expire_on_commit=False) as session:
        claims = verify_claims(session, body.items)
        hashes = [body_hash(x) for x in body.items]  # pure computation: before the lock
        with write_lock(session):
            results = submit_ratings(session, body.items, claims, client_ip=ip, hashes=hashes)
            session.commit()
    # the answer is built as plain data (S.RatingBatchResult documents its shape), with the
    # items refused by validation in their places
    items = body.answers(
        [{"ok": x.ok, "receipt": x.receipt, "error": x.error, "code": x.status_code} for x in results]
    )
    accepted = sum(1 for x in results if x.ok and not x.replay)
    return Response(orjson.dumps({"accepted": accepted, "items": items}), media_type="application/json")
