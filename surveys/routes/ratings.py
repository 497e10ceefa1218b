"""Ratings: the citizen's app (or the widget) submits one rating or a batch, authorised by
the tokens. The database work runs in one worker-thread hop without a session dependency;
a single rating takes the fast path (surveys.ratings_fast) and falls back to the general
one (surveys.ratings).

Rate limits are the sender's: the per-client bucket of egov.limits (one unit a request,
whatever the batch holds). Nothing here is charged to the issuer named inside a token, so a
citizen replaying tokens cannot spend a department's issuing budget (issue 13, point 6)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from sqlmodel import Session

from egov.db import get_engine, get_unpinged_engine, is_unavailable
from surveys import schemas as S
from surveys.ratings import body_hash, submit_ratings, verify_claims
from surveys.ratings_fast import submit_group_fast, submit_one_fast
from surveys.routes.common import API, BODY, PUBLIC, doc
from surveys.security import TokenClaims, TokenError

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
    # committed before the answer is sent, together with the single ratings that arrived
    # meanwhile (group commit: one worker-thread hop and one commit for all of them)
    return await _group_commit().submit(body, _client_ip(request))


GROUP_MAX = 64  # single ratings committed together at most (bounds a group's latency)
# groups under way at once per worker: the next group reads its tokens and counts while the
# one before commits (with one, a rating arriving alone right after a group's answers were
# sent made a group of one, and the others waited for its commit); a group updates the roll-up
# rows in a fixed order (surveys.ratings_fast.submit_group_fast), so groups do not deadlock
GROUPS_IN_FLIGHT = 2


class GroupCommit:
    """Group commit of single ratings, per event loop (one per server worker): the first
    rating to arrive is stored and committed at once (one worker-thread hop); those arriving
    while that commit is under way wait and are then stored in one transaction, each with
    its own statement and effects exactly as alone, in arrival order, with one commit for
    all — on PostgreSQL the commit's WAL flush (`synchronous_commit` on) is the main cost of a
    rating, and the roll-up row of an object, updated by every rating of it, stays locked
    until the commit, so one rating after the other meant one flush after the other. Every
    answer waits for its group's commit: an acknowledged rating is durable."""

    def __init__(self) -> None:
        self.waiting: list[tuple[S.RatingCreate, str | None, asyncio.Future[Response]]] = []
        self.tasks: set[asyncio.Task[None]] = set()

    async def submit(self, body: S.RatingCreate, ip: str | None) -> Response:
        future: asyncio.Future[Response] = asyncio.get_running_loop().create_future()
        self.waiting.append((body, ip, future))
        if len(self.tasks) < GROUPS_IN_FLIGHT:
            task = asyncio.create_task(self._drain())
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        return await future

    async def _drain(self) -> None:
        while self.waiting:
            group, self.waiting = self.waiting[:GROUP_MAX], self.waiting[GROUP_MAX:]
            try:
                answers = await run_in_threadpool(rate_group, [(b, ip) for b, ip, _ in group])
            except Exception as exc:  # pragma: no cover - rate_group returns the errors
                answers = [exc] * len(group)
            for (_, _, future), answer in zip(group, answers, strict=True):
                if future.done():  # the client went away: its rating is stored all the same
                    continue
                if isinstance(answer, BaseException):
                    future.set_exception(answer)
                else:
                    future.set_result(answer)


_groups: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, GroupCommit] = weakref.WeakKeyDictionary()


def _group_commit() -> GroupCommit:
    loop = asyncio.get_running_loop()
    group = _groups.get(loop)
    if group is None:
        group = _groups[loop] = GroupCommit()
    return group


def rate_group(requests: list[tuple[S.RatingCreate, str | None]]) -> list[Response | Exception]:
    """Single ratings: one alone (`_rate_one`), several in one transaction on the driver
    connection (surveys.ratings_fast.submit_group_fast), committed once; each rating the fast
    path declines then takes the general path in its own transaction. Should a statement
    fail, the group is rolled back and every rating is stored again alone (so one rating's
    error is only its own answer). Returns each request's answer, or the exception it ends with."""
    if len(requests) == 1:
        return [_answer(functools.partial(_rate_one, *requests[0]))]
    engine = get_unpinged_engine()  # a broken connection: the group is stored again below
    with Session(engine, expire_on_commit=False) as session:
        claims = verify_claims(session, [body for body, _ in requests])
        with write_lock(session):
            raw = engine.raw_connection()
            try:
                together = [(body, claim, ip) for (body, ip), claim in zip(requests, claims, strict=True)]
                fast = submit_group_fast(raw, engine.dialect.name, together)
            except Exception as exc:
                if is_unavailable(exc):  # e.g. the database restarted: none of these connections works
                    raw.invalidate()
                    engine.dispose()
                fast = []
            finally:
                raw.close()  # back to the pool (rolled back if not committed)
    if not fast:
        return [_answer(functools.partial(_rate_one, body, ip)) for body, ip in requests]
    return [
        JSONResponse(done.receipt)
        if done is not None
        else _answer(functools.partial(_rate_general, body, claim, ip))
        for (body, ip), claim, done in zip(requests, claims, fast, strict=True)
    ]


def _answer(rate: Callable[[], Response]) -> Response | Exception:
    try:
        return rate()
    except Exception as exc:
        return exc


def _rate_one(body: S.RatingCreate, ip: str | None) -> Response:
    """One rating alone: the fast path, else the general path."""
    engine = get_engine()
    with Session(engine, expire_on_commit=False) as session:
        claim = verify_claims(session, [body])[0]
        with write_lock(session):
            raw = engine.raw_connection()
            try:
                fast = submit_one_fast(raw, engine.dialect.name, body, claim, client_ip=ip)
                if fast is not None:
                    raw.commit()
            finally:
                raw.close()
    if fast is not None:
        return JSONResponse(fast.receipt)
    return _rate_general(body, claim, ip)


def _rate_general(body: S.RatingCreate, claim: TokenClaims | TokenError, ip: str | None) -> Response:
    """One rating on the general path (surveys.ratings.submit_ratings), in its own transaction."""
    with Session(get_engine(), expire_on_commit=False) as session, write_lock(session):
        result = submit_ratings(session, [body], [claim], client_ip=ip)[0]
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
