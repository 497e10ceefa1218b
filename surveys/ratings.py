"""Accepting ratings: the general path (one rating or a batch, every case: first submissions,
idempotent repeats, the one follow-up, burst detection, the honeypot) and what it shares with
the single-rating fast path (surveys.ratings_fast): the body hash, the receipt, the rating
INSERT, the rectification deadline.

Every function works inside the caller's session (one transaction per request): a rating,
its roll-up change, its case and its audit entries commit together or not at all.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

import orjson
from sqlalchemy import func, select, update
from sqlmodel import Session, col

from egov.auth import audit, inactive_keys
from egov.clock import local_day
from egov.errors import ServiceError
from egov.models import Rating, RatingToken, compare_and_set, utcnow
from egov.settings import get_settings
from surveys.answers import insert_answers, replace_answers, set_version
from surveys.calendar import CalendarEntry, added_days, working_days_after
from surveys.cases import case_after_amendment
from surveys.questions import questions
from surveys.rollup import (
    ServiceKey,
    add_to_rollups,
    add_to_service_rollups,
    count_rating_change,
    driver_executemany,
    sqlite_value,
)
from surveys.schemas import BAD_LEVELS, RatingCreate
from surveys.security import TokenClaims, TokenError, server_secret, verify_token


@dataclass
class SubmitResult:
    ok: bool
    status_code: int = 200
    receipt: dict[str, Any] | None = None
    error: str | None = None
    replay: bool = False  # an idempotent repeat of an earlier submission


@dataclass
class _Claimed:
    index: int
    item: RatingCreate
    token: Any
    body_hash: str
    flags: str = ""
    honeypot: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def body_hash(item: RatingCreate) -> str:
    """Hash of what a rating says (not the token, follow-up mark or honeypot), to tell an
    identical repeat from a different follow-up: SHA-256 of the JSON text
    `json.dumps(model_dump(exclude={token, follow_up, website}) with sorted drivers,
    sort_keys=True, ensure_ascii=False)`, written out directly (the same text, byte for byte;
    drivers, channel and language are from fixed lists and need no escaping)."""
    better = ", ".join(['"' + d + '"' for d in sorted(item.better)])
    good = ", ".join(['"' + d + '"' for d in sorted(item.good)])
    version = item.question_version or str(questions()["version"])
    if item.question_set is not None or item.answers:  # with a question set: its fields too
        return _set_body_hash(item, version)
    text = (
        f'{{"better": [{better}], "channel": "{item.channel}", "comment": {_dumps(item.comment)}, '
        f'"good": [{good}], "language": "{item.language}", "level": {int(item.level)}, '
        f'"question_version": {_dumps(version)}}}'
    )
    return hashlib.sha256(text.encode()).hexdigest()


_dumps = json.JSONEncoder(ensure_ascii=False).encode


def _set_body_hash(item: RatingCreate, version: str) -> str:
    """body_hash of a rating with a question set: the same definition with `question_set`, its
    version (the current one when not sent) and `answers` (by item) among the keys."""
    said = item.model_dump(exclude={"token", "follow_up", "website"})
    said |= {"good": sorted(item.good), "better": sorted(item.better), "question_version": version}
    said["question_set_version"] = set_version(item)
    text = json.dumps(said, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def encode_drivers(item: RatingCreate) -> str:
    return ",".join([f"+{d}" for d in item.good] + [f"-{d}" for d in item.better])


def receipt(token_id: str, status: str, amended: bool, version: str) -> dict[str, Any]:
    """The answer to an accepted submission (S.RatingReceipt)."""
    return {"receipt": token_id, "status": status, "amended": amended, "question_version": version}


def rectify_due(day: date, added: tuple[CalendarEntry, ...]) -> date:
    """The rectification deadline of a case opened on `day`: EGOV_CASE_RECTIFY_DAYS working
    days later, by the calendar with the `added` days (the database's, from `day` on)."""
    settings = get_settings()
    return working_days_after(day, settings.case_rectify_days, settings.holidays_file, added)


ISSUER_REVOKED = (
    "the issuer of this token was revoked: the token is no longer valid "
    "(the department can ask for a new token for the transaction)"
)

INSERT_RATING_SQL = (
    "INSERT INTO rating (object_id, level, drivers, comment, channel, language, created_at, day, pseudonym, "
    "transaction_ref, flags, question_version, issuer_key_id, ip, service_id) VALUES (:object_id, :level, "
    ":drivers, :comment, :channel, :language, :created_at, :day, :pseudonym, :transaction_ref, :flags, "
    ":question_version, :issuer_key_id, :ip, :service_id)"
)


def verify_claims(
    session: Session, items: list[RatingCreate], now: datetime | None = None
) -> list[TokenClaims | TokenError]:
    """Verify the signatures and expiry of the tokens (no database access); `now`: the moment
    the expiry is checked against (default: the current time)."""
    secret = server_secret(session)
    at = (now if now is not None else utcnow()).timestamp()  # the service clock, as tokens are issued on it
    out: list[TokenClaims | TokenError] = []
    for item in items:
        try:
            out.append(verify_token(secret, item.token, at))
        except TokenError as exc:
            out.append(exc)
    return out


def submit_ratings(
    session: Session,
    items: list[RatingCreate],
    claims: list[TokenClaims | TokenError],
    *,
    client_ip: str | None = None,
    now: datetime | None = None,
    hashes: list[str] | None = None,
) -> list[SubmitResult]:
    """Accept ratings submitted with their tokens (one or a batch, same code path).
    `hashes`: the items' body_hash values when the caller computed them already (outside
    the write lock).

    A first submission stores the rating and adds it to the roll-ups (unless burst
    detection holds it for review); an identical repeat returns the same receipt and stores
    nothing; one follow-up (follow_up = true) amends the rating; anything else is refused.
    A token whose issuer (the key that asked for it, named in its signed payload) is revoked
    is refused for every use (403, ISSUER_REVOKED), checked in one query per request.
    """
    settings = get_settings()
    now = now or utcnow()
    version = str(questions()["version"])
    results: list[SubmitResult | None] = [None] * len(items)
    ids = [c.token_id for c in claims if isinstance(c, TokenClaims)]
    revoked = inactive_keys(session, {c.issuer_key_id for c in claims if isinstance(c, TokenClaims)})
    tokens = _token_rows(session, ids)
    fresh: list[_Claimed] = []
    claimed_ids: set[str] = set()
    for i, (item, c) in enumerate(zip(items, claims, strict=True)):
        if isinstance(c, TokenError):
            results[i] = SubmitResult(False, c.status, error=str(c))
            continue
        if c.issuer_key_id in revoked:
            results[i] = SubmitResult(False, 403, error=ISSUER_REVOKED)
            continue
        if item.question_version not in (None, version):
            results[i] = SubmitResult(False, 422, error=f"unknown question_version (current: {version})")
            continue
        tok = tokens.get(c.token_id)
        if tok is None or tok.object_id != c.object_id or tok.issuer_key_id != c.issuer_key_id:
            results[i] = SubmitResult(False, 401, error="rating token is not known")
            continue
        h = hashes[i] if hashes is not None else body_hash(item)
        if tok.state != "issued" or c.token_id in claimed_ids:
            results[i] = _reused(session, tok, item, h, version, now, c.token_id in claimed_ids)
            continue
        if item.follow_up:
            results[i] = SubmitResult(
                False, 409, error="nothing to follow up: no rating was made with this token"
            )
            continue
        claimed_ids.add(c.token_id)
        fresh.append(_Claimed(i, item, tok, h, honeypot=bool(item.website)))
    if fresh:
        _store_fresh(session, fresh, results, client_ip if settings.store_ip else None, now, version)
    return [r if r is not None else SubmitResult(False, 500, error="not processed") for r in results]


def _reused(
    session: Session, tok: TokenRow, item: RatingCreate, h: str, version: str, now: datetime, twice: bool
) -> SubmitResult:
    """A submission with a token already used (or used earlier in this request, `twice`): an
    identical repeat, the one follow-up, or a refusal."""
    if twice:  # the same token twice in one batch
        return SubmitResult(False, 409, error="token used twice in this request")
    if h == tok.body_hash or (tok.amend_hash and h == tok.amend_hash):
        return SubmitResult(
            True, 200, receipt(tok.id, tok.response_status, h == tok.amend_hash, version), replay=True
        )
    if item.follow_up and not tok.amend_hash and tok.state == "used":
        return _amend(session, tok, item, h, version, now)
    return SubmitResult(
        False,
        409,
        error="this token has been used"
        + ("" if tok.amend_hash else "; send follow_up: true to amend the rating once")
        + (" (its one follow-up too)" if tok.amend_hash else ""),
    )


TOKEN_COLUMNS = (
    "id, object_id, transaction_ref, issuer_key_id, pseudonym, state, body_hash, amend_hash, response_status, "
    "service_id"
)


class TokenRow(NamedTuple):
    id: str
    object_id: int
    transaction_ref: str
    issuer_key_id: int
    pseudonym: str
    state: str
    body_hash: str
    amend_hash: str
    response_status: str
    service_id: int | None  # the service item named when the token was issued


def _token_rows(session: Session, ids: list[str]) -> dict[str, TokenRow]:
    """The token rows of a request by id: one SELECT … WHERE id IN (…) on the DBAPI cursor of
    the session's connection (chunks of 500 ids), as plain tuples (read many times a row)."""
    out: dict[str, TokenRow] = {}
    unique = list(dict.fromkeys(ids))
    conn = session.connection()
    cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    sqlite = conn.dialect.name == "sqlite"
    for start in range(0, len(unique), 500):
        chunk = unique[start : start + 500]
        if sqlite:  # positional marks: cheaper to bind than names
            cur.execute(
                f"SELECT {TOKEN_COLUMNS} FROM rating_token WHERE id IN ({', '.join('?' * len(chunk))})", chunk
            )
        else:
            cur.execute(f"SELECT {TOKEN_COLUMNS} FROM rating_token WHERE id = ANY(%s)", (chunk,))
        for t in cur.fetchall():
            out[t[0]] = TokenRow._make(t)
    return out


def _burst_counts(session: Session, column: Any, keys: set[int], since: datetime) -> dict[int, int]:
    if not keys:
        return {}
    rows = session.execute(
        select(column, func.count()).where(column.in_(keys), col(Rating.created_at) >= since).group_by(column)
    ).all()
    return {int(k): int(n) for k, n in rows}


def _driver_values(session: Session, value: Any) -> Any:
    """A date or time as driver_executemany passes it (text on SQLite)."""
    return sqlite_value(value) if session.get_bind().dialect.name == "sqlite" else value


def _raw(session: Session, sql: str, rows: list[dict[str, Any]]) -> Any:
    return driver_executemany(session, sql, rows)


CLAIM_SQL = (
    "UPDATE rating_token SET state = :new_state, body_hash = :h, response_status = :st "
    "WHERE id = :tid AND state = 'issued'"
)
OPEN_CASE_BY_REF_SQL = (
    "INSERT INTO rating_case (rating_id, object_id, department_id, state, opened_at, opened_day, rectify_due, "
    "appeal_outcome, updated_at) SELECT r.id, r.object_id, o.department_id, 'open', :now, :day, :due, '', :now "
    "FROM rating r JOIN assessed_object o ON o.id = r.object_id "
    "WHERE r.object_id = :o AND r.transaction_ref = :x"
)

# PostgreSQL, a batch in one statement each: the rows passed as one JSON array of arrays
# (serialised by orjson, parsed by the server: binding them as PostgreSQL arrays cost more in
# the driver than the statement in the database), the cases' references as arrays; WITH
# ORDINALITY … ORDER BY keeps the batch's order, so ids follow it as they did with one
# statement a row
CLAIM_PG_SQL = (
    "UPDATE rating_token t SET state = v.e->>1, body_hash = v.e->>2, response_status = v.e->>3 "
    "FROM jsonb_array_elements(%s::jsonb) AS v(e) WHERE t.id = v.e->>0 AND t.state = 'issued'"
)
INSERT_RATINGS_PG_SQL = (
    "INSERT INTO rating (created_at, day, ip, object_id, level, drivers, comment, channel, language, "
    "pseudonym, transaction_ref, flags, question_version, issuer_key_id, service_id) "
    "SELECT %s::timestamptz, %s::date, %s::text, (e->>0)::int, (e->>1)::int, e->>2, e->>3, e->>4, e->>5, "
    "e->>6, e->>7, e->>8, e->>9, (e->>10)::int, (e->>11)::int "
    "FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS v(e, n) ORDER BY n"
)
OPEN_CASES_PG_SQL = (
    "INSERT INTO rating_case (rating_id, object_id, department_id, state, opened_at, opened_day, rectify_due, "
    "appeal_outcome, updated_at) SELECT r.id, r.object_id, o.department_id, 'open', %s, %s, %s, '', %s "
    "FROM unnest(%s::int[], %s::text[]) WITH ORDINALITY AS v(o, x, n) "
    "JOIN rating r ON r.object_id = v.o AND r.transaction_ref = v.x JOIN assessed_object o ON o.id = r.object_id "
    "ORDER BY v.n"
)


@lru_cache(maxsize=16)
def _positional(sql: str, mark: str) -> str:
    """`sql` with its :name parameters as positional marks (? or %s), in their order."""
    return re.sub(r":\w+", mark, sql)


def _store_fresh(
    session: Session,
    fresh: list[_Claimed],
    results: list[SubmitResult | None],
    ip: str | None,
    now: datetime,
    version: str,
) -> None:
    """First submissions: flag bursts, claim the tokens, store the real ratings (not the
    honeypot's) with their roll-ups, cases and audit entries, and give each its receipt."""
    real = [c for c in fresh if not c.honeypot]
    _flag_bursts(session, real, now)
    _claim_tokens(session, fresh)
    if real:
        _insert_ratings(session, real, ip, now, version)
    for c in fresh:
        if c.honeypot:
            audit(
                session, "widget", "rating.honeypot", "rating_token", c.token.id, "honeypot filled; discarded"
            )
        results[c.index] = SubmitResult(
            True, 200, receipt(c.token.id, "held" if c.flags else "accepted", False, version)
        )


def _flag_bursts(session: Session, real: list[_Claimed], now: datetime) -> None:
    """Burst detection: flag the ratings past the per-object or per-issuer maximum of the window."""
    settings = get_settings()
    since = now - timedelta(minutes=settings.burst_window_minutes)
    by_object = _burst_counts(session, col(Rating.object_id), {c.token.object_id for c in real}, since)
    by_issuer = _burst_counts(
        session, col(Rating.issuer_key_id), {c.token.issuer_key_id for c in real}, since
    )
    for c in real:  # ratings of this request count toward the burst too, in order
        o, k = c.token.object_id, c.token.issuer_key_id
        by_object[o] = by_object.get(o, 0) + 1
        by_issuer[k] = by_issuer.get(k, 0) + 1
        if by_object[o] > settings.burst_object_max or by_issuer[k] > settings.burst_issuer_max:
            c.flags = "burst"


def _claim_tokens(session: Session, fresh: list[_Claimed]) -> None:
    """Claim the tokens: single use, safe against a concurrent request with the same token."""
    params = [
        {
            "tid": c.token.id,
            "new_state": "discarded" if c.honeypot else "used",
            "h": c.body_hash,
            "st": "held" if c.flags else "accepted",
        }
        for c in fresh
    ]
    dialect = session.get_bind().dialect.name
    if len(params) > 1 and dialect in ("sqlite", "postgresql"):  # positional: cheaper to bind
        cur = session.connection().connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        columns = [(p["tid"], p["new_state"], p["h"], p["st"]) for p in params]
        if dialect == "sqlite":
            cur.executemany(_positional(CLAIM_SQL, "?"), [(s, h, st, t) for t, s, h, st in columns])
        else:  # one statement for the whole batch (the columns as arrays)
            cur.execute(CLAIM_PG_SQL, [orjson.dumps(columns).decode()])
        claimed = int(cur.rowcount)
    elif session.get_bind().dialect.supports_sane_multi_rowcount or len(params) == 1:
        claimed = int(_raw(session, CLAIM_SQL, params).rowcount)
    else:  # pragma: no cover - drivers without a summed executemany rowcount
        claimed = 0
        for p in params:
            claimed += int(_raw(session, CLAIM_SQL, [p]).rowcount)
    if claimed != len(params):
        raise ServiceError(409, "a concurrent request used the same token; send it again")


def _insert_ratings(
    session: Session, real: list[_Claimed], ip: str | None, now: datetime, version: str
) -> None:
    """Insert the ratings, add the counted ones to the roll-ups, open the cases of the bad
    ones and audit the held ones."""
    day = local_day(now)
    # the same moment and day for every row, converted for the driver once
    now_p, day_p = _driver_values(session, now), _driver_values(session, day)
    rows = [  # positional (the order of INSERT_RATING_SQL): cheaper to bind than names
        (
            c.token.object_id,
            c.item.level,
            encode_drivers(c.item),
            c.item.comment,
            c.item.channel,
            c.item.language,
            now_p,
            day_p,
            c.token.pseudonym,
            c.token.transaction_ref,
            c.flags,
            c.item.question_version or version,
            c.token.issuer_key_id,
            ip,
            c.token.service_id,
        )
        for c in real
    ]
    conn = session.connection()
    cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    if conn.dialect.name == "postgresql":  # one statement, the columns as arrays (ids in row order)
        # created_at, day and ip: the same for every row, passed once
        values = orjson.dumps([r[:6] + r[8:13] + r[14:] for r in rows]).decode()
        cur.execute(INSERT_RATINGS_PG_SQL, [now_p, day_p, ip, values])
    else:
        cur.executemany(_positional(INSERT_RATING_SQL, "?"), rows)
    insert_answers(
        session, [(c.item, c.token.object_id, c.token.transaction_ref) for c in real if c.item.answers]
    )
    deltas: dict[tuple[int, date], list[int]] = defaultdict(lambda: [0] * 5)
    service_deltas: dict[ServiceKey, list[int]] = defaultdict(lambda: [0] * 5)
    bad = [c for c in real if not c.flags and c.item.level in BAD_LEVELS]
    flagged = [c for c in real if c.flags]
    for c in real:
        if not c.flags:
            deltas[(c.token.object_id, day)][c.item.level - 1] += 1
            if c.token.service_id is not None:
                key = (c.token.service_id, c.token.object_id, c.item.channel, day)
                service_deltas[key][c.item.level - 1] += 1
    if bad:
        _open_cases(session, bad, now_p, day)
    if flagged:
        _audit_flagged(session, flagged)
    # the roll-ups last: their rows are shared by every request rating the same object on the
    # same day, and each upsert holds its row's lock until the commit
    add_to_rollups(session, deltas)
    add_to_service_rollups(session, service_deltas)


def _open_cases(session: Session, bad: list[_Claimed], now_p: Any, day: date) -> None:
    """New ratings have no case yet: each opened by its (object, transaction)."""
    day_p = _driver_values(session, day)
    due_p = _driver_values(session, rectify_due(day, added_days(session, day)))
    if session.get_bind().dialect.name == "postgresql":  # one statement, in the order of `bad`
        refs = [[c.token.object_id for c in bad], [c.token.transaction_ref for c in bad]]
        cur = session.connection().connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        cur.execute(OPEN_CASES_PG_SQL, [now_p, day_p, due_p, now_p, *refs])
        return
    _raw(
        session,
        OPEN_CASE_BY_REF_SQL,
        [
            {"o": c.token.object_id, "x": c.token.transaction_ref, "now": now_p, "day": day_p, "due": due_p}
            for c in bad
        ],
    )


def _audit_flagged(session: Session, flagged: list[_Claimed]) -> None:
    """The audit entries of held ratings name their ids."""
    refs = {(c.token.object_id, c.token.transaction_ref) for c in flagged}
    objs = sorted({o for o, _ in refs})
    refs_x = sorted({x for _, x in refs})
    where: dict[str, Any] = {f"o{j}": v for j, v in enumerate(objs)}
    where.update({f"x{j}": v for j, v in enumerate(refs_x)})
    found = driver_executemany(
        session,
        "SELECT id, object_id, transaction_ref FROM rating WHERE object_id IN ("
        + ", ".join(f":o{j}" for j in range(len(objs)))
        + ") AND transaction_ref IN ("
        + ", ".join(f":x{j}" for j in range(len(refs_x)))
        + ")",
        [where],
    ).all()
    ids = {(o, x): int(i) for i, o, x in found if (o, x) in refs}
    for c in flagged:
        rid = ids[(c.token.object_id, c.token.transaction_ref)]
        audit(session, "burst-detection", "rating.flag", "rating", str(rid), c.flags)


def _amend(
    session: Session, tok: Any, item: RatingCreate, h: str, version: str, now: datetime
) -> SubmitResult:
    """The one follow-up of a rating: replace what it says, move its roll-up count."""

    rating = session.execute(
        select(Rating).where(
            col(Rating.object_id) == tok.object_id, col(Rating.transaction_ref) == tok.transaction_ref
        )
    ).scalar_one_or_none()
    if rating is None:  # purged: nothing left to amend
        return SubmitResult(False, 409, error="the rating made with this token no longer exists")
    res = session.execute(
        update(RatingToken)
        .where(col(RatingToken.id) == tok.id, col(RatingToken.amend_hash) == "")
        .values(amend_hash=h)
    )
    if res.rowcount != 1:  # type: ignore[attr-defined]
        raise ServiceError(409, "a concurrent request amended this rating; send it again")
    old, flags, old_channel = rating.level, rating.flags, rating.channel
    # whether it counts must not change under the amendment (a concurrent review or removal)
    if not compare_and_set(
        session,
        Rating,
        rating.id,
        "flags",
        flags,
        flags,
        level=item.level,
        drivers=encode_drivers(item),
        comment=item.comment,
        channel=item.channel,
        language=item.language,
        question_version=item.question_version or version,
        amended_at=now,
    ):
        raise ServiceError(409, "the rating was reviewed or removed meanwhile; send the follow-up again")
    if rating.id is not None:
        replace_answers(session, rating.id, item)
    if not flags and old != item.level:
        delta = [0] * 5
        delta[old - 1] -= 1
        delta[item.level - 1] += 1
        add_to_rollups(session, {(rating.object_id, rating.day): delta})
    if not flags and rating.service_id is not None and (old, old_channel) != (item.level, item.channel):
        # the service-item roll-up is by channel too: the count moves to the new level and channel
        taken, added = [0] * 5, [0] * 5
        taken[old - 1], added[item.level - 1] = -1, 1
        count_rating_change(session, rating, taken, channel=old_channel, per_object=False)
        count_rating_change(session, rating, added, channel=item.channel, per_object=False)
    if not flags:
        case_after_amendment(session, rating, old)
    audit(session, "citizen", "rating.amend", "rating", str(rating.id), f"level {old} -> {item.level}")
    return SubmitResult(True, 200, receipt(tok.id, tok.response_status, True, version))
