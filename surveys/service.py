"""The rating service: issuing single-use tokens, accepting ratings (single and batch) with
incremental roll-ups, burst detection and review, the question texts.

Every function works inside the caller's session (one transaction per request): a rating,
its roll-up change, its case and its audit entries commit together or not at all.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import func, insert, select, update
from sqlmodel import Session, col

from egov.auth import Principal, audit
from egov.clock import local_day
from egov.errors import EgovError, ServiceError
from egov.models import AssessedObject, Rating, RatingToken, utcnow
from egov.settings import get_settings
from surveys.calendar import load_calendar
from surveys.cases import case_after_amendment, open_cases
from surveys.questions import questions
from surveys.rollup import UPSERT_ROLLUP, _sqlite_value, add_offers, add_to_rollups, driver_executemany
from surveys.schemas import RatingCreate, TokenRequest
from surveys.security import (
    TokenClaims,
    TokenError,
    new_token_id,
    pseudonym,
    server_secret,
    sign_token,
    token_expiry,
    verify_token,
)

BAD_LEVELS = (1, 2)


# --- tokens ------------------------------------------------------------------------------------
@dataclass
class IssuedToken:
    token: str
    object: str
    transaction_ref: str
    expires_at: datetime


def issue_tokens(session: Session, principal: Principal, requests: list[TokenRequest]) -> list[IssuedToken]:
    """Issue (or re-issue, idempotently) one rating token per completed transaction. A new
    token counts one offered rating for its object and day (offer_daily)."""
    if principal.role != "department" or principal.department_id is None:
        raise ServiceError(403, "only a department key can issue rating tokens")
    secret = server_secret(session)
    codes = {r.object for r in requests}
    objs = {
        row.code: row
        for row in session.execute(
            select(
                col(AssessedObject.id),
                col(AssessedObject.code),
                col(AssessedObject.department_id),
                col(AssessedObject.kind),
            ).where(col(AssessedObject.code).in_(codes))
        ).all()
    }
    for code in sorted(codes):
        if code not in objs:
            raise ServiceError(404, f"unknown object '{code}'")
        if objs[code].department_id != principal.department_id:
            raise ServiceError(403, f"object '{code}' belongs to another department")
        if objs[code].kind != "application":
            raise ServiceError(422, f"object '{code}' is not an application service; only those are rated")
    wanted = {(objs[r.object].id, r.transaction_ref) for r in requests}
    existing = {
        (t.object_id, t.transaction_ref): t
        for t in session.execute(
            select(RatingToken).where(
                col(RatingToken.object_id).in_({o for o, _ in wanted}),
                col(RatingToken.transaction_ref).in_({x for _, x in wanted}),
            )
        ).scalars()
    }
    out: list[IssuedToken] = []
    new_rows: list[dict[str, Any]] = []
    offers: Counter[tuple[int, date]] = Counter()
    today = local_day()
    seen: dict[tuple[int, str], IssuedToken] = {}
    for r in requests:
        obj = objs[r.object]
        k = (int(obj.id), r.transaction_ref)
        if k in seen:
            out.append(seen[k])
            continue
        row = existing.get(k)
        if row is not None:  # idempotent re-issue: the same token again, no second offer
            exp = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
            claims = TokenClaims(row.id, int(obj.id), row.issuer_key_id, int(exp.timestamp()))
            issued = IssuedToken(sign_token(secret, claims), r.object, r.transaction_ref, exp)
        else:
            exp, exp_ts = token_expiry(get_settings().token_ttl_days)
            tid = new_token_id()
            new_rows.append(
                {
                    "id": tid,
                    "object_id": obj.id,
                    "transaction_ref": r.transaction_ref,
                    "issuer_key_id": principal.key_id,
                    "pseudonym": pseudonym(secret, r.citizen_id),
                    "issued_at": utcnow(),
                    "expires_at": exp,
                    "state": "issued",
                }
            )
            offers[(int(obj.id), today)] += 1
            issued = IssuedToken(
                sign_token(secret, TokenClaims(tid, int(obj.id), principal.key_id, exp_ts)),
                r.object,
                r.transaction_ref,
                exp,
            )
        seen[k] = issued
        out.append(issued)
    if new_rows:
        lost = _insert_new_tokens(session, new_rows)
        for row in lost:  # another request issued this transaction's token first: give its token
            k = (int(row["object_id"]), str(row["transaction_ref"]))
            offers[(k[0], today)] -= 1
            winner = session.execute(
                select(RatingToken).where(
                    col(RatingToken.object_id) == k[0], col(RatingToken.transaction_ref) == k[1]
                )
            ).scalar_one()
            exp = winner.expires_at if winner.expires_at.tzinfo else winner.expires_at.replace(tzinfo=UTC)
            claims = TokenClaims(winner.id, k[0], winner.issuer_key_id, int(exp.timestamp()))
            code = next(c for c, o in objs.items() if int(o.id) == k[0])
            seen[k] = IssuedToken(sign_token(secret, claims), code, k[1], exp)
        if lost:
            out = [seen[(int(objs[r.object].id), r.transaction_ref)] for r in requests]
        add_offers(session, +offers)  # unary plus drops the counts that fell to zero
    return out


def _insert_new_tokens(session: Session, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Insert new token rows, skipping any whose (object, transaction) another request inserted
    since this one looked (two first requests for one transaction racing, e.g. a back end
    retrying while its first call is still in flight): they would otherwise fail the unique key
    with a 500. Returns the rows that were not inserted."""
    dialect = session.get_bind().dialect.name
    if dialect not in ("postgresql", "sqlite"):  # pragma: no cover - only the two supported engines
        session.execute(insert(RatingToken), rows)
        return []
    from sqlalchemy.dialects import postgresql, sqlite

    dialect_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        dialect_insert(RatingToken)
        .on_conflict_do_nothing(index_elements=["object_id", "transaction_ref"])
        .returning(col(RatingToken.id))
    )
    inserted: set[str] = set()
    for start in range(0, len(rows), 500):
        inserted.update(session.execute(stmt, rows[start : start + 500]).scalars())
    return [r for r in rows if r["id"] not in inserted]


# --- ratings -----------------------------------------------------------------------------------
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
    text = (
        f'{{"better": [{better}], "channel": "{item.channel}", "comment": {_dumps(item.comment)}, '
        f'"good": [{good}], "language": "{item.language}", "level": {int(item.level)}, '
        f'"question_version": {_dumps(version)}}}'
    )
    return hashlib.sha256(text.encode()).hexdigest()


_dumps = json.JSONEncoder(ensure_ascii=False).encode


def encode_drivers(item: RatingCreate) -> str:
    return ",".join([f"+{d}" for d in item.good] + [f"-{d}" for d in item.better])


def _receipt(token_id: str, status: str, amended: bool, version: str) -> dict[str, Any]:
    return {"receipt": token_id, "status": status, "amended": amended, "question_version": version}


def verify_claims(session: Session, items: list[RatingCreate]) -> list[TokenClaims | TokenError]:
    """Verify the signatures and expiry of the tokens (no database access)."""
    secret = server_secret(session)
    out: list[TokenClaims | TokenError] = []
    for item in items:
        try:
            out.append(verify_token(secret, item.token))
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
    """
    settings = get_settings()
    now = now or utcnow()
    version = str(questions()["version"])
    results: list[SubmitResult | None] = [None] * len(items)
    ids = [c.token_id for c in claims if isinstance(c, TokenClaims)]
    tokens = _token_rows(session, ids)
    fresh: list[_Claimed] = []
    claimed_ids: set[str] = set()
    for i, (item, c) in enumerate(zip(items, claims, strict=True)):
        if isinstance(c, TokenError):
            results[i] = SubmitResult(False, c.status, error=str(c))
            continue
        if item.question_version not in (None, version):
            results[i] = SubmitResult(False, 422, error=f"unknown question_version (current: {version})")
            continue
        tok = tokens.get(c.token_id)
        if tok is None or tok.object_id != c.object_id:
            results[i] = SubmitResult(False, 401, error="rating token is not known")
            continue
        h = hashes[i] if hashes is not None else body_hash(item)
        if tok.state != "issued" or c.token_id in claimed_ids:
            if c.token_id in claimed_ids:  # the same token twice in one batch
                results[i] = SubmitResult(False, 409, error="token used twice in this request")
            elif h == tok.body_hash or (tok.amend_hash and h == tok.amend_hash):
                results[i] = SubmitResult(
                    True,
                    200,
                    _receipt(tok.id, tok.response_status, h == tok.amend_hash, version),
                    replay=True,
                )
            elif item.follow_up and not tok.amend_hash and tok.state == "used":
                results[i] = _amend(session, tok, item, h, version, now)
            else:
                results[i] = SubmitResult(
                    False,
                    409,
                    error="this token has been used"
                    + ("" if tok.amend_hash else "; send follow_up: true to amend the rating once")
                    + (" (its one follow-up too)" if tok.amend_hash else ""),
                )
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


TOKEN_COLUMNS = (
    "id, object_id, transaction_ref, issuer_key_id, pseudonym, state, body_hash, amend_hash, response_status"
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
    return _sqlite_value(value) if session.get_bind().dialect.name == "sqlite" else value


def _raw(session: Session, sql: str, rows: list[dict[str, Any]]) -> Any:
    return driver_executemany(session, sql, rows)


CLAIM_SQL = (
    "UPDATE rating_token SET state = :new_state, body_hash = :h, response_status = :st "
    "WHERE id = :tid AND state = 'issued'"
)
INSERT_RATING_SQL = (
    "INSERT INTO rating (object_id, level, drivers, comment, channel, language, created_at, day, pseudonym, "
    "transaction_ref, flags, question_version, issuer_key_id, ip) VALUES (:object_id, :level, :drivers, "
    ":comment, :channel, :language, :created_at, :day, :pseudonym, :transaction_ref, :flags, "
    ":question_version, :issuer_key_id, :ip)"
)


OPEN_CASE_BY_REF_SQL = (
    "INSERT INTO rating_case (rating_id, object_id, department_id, state, opened_at, opened_day, rectify_due, "
    "appeal_outcome, updated_at) SELECT r.id, r.object_id, o.department_id, 'open', :now, :day, :due, '', :now "
    "FROM rating r JOIN assessed_object o ON o.id = r.object_id "
    "WHERE r.object_id = :o AND r.transaction_ref = :x"
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
    settings = get_settings()
    day = local_day(now)
    since = now - timedelta(minutes=settings.burst_window_minutes)
    real = [c for c in fresh if not c.honeypot]
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
    # claim the tokens: single use, safe against a concurrent request with the same token
    params = [
        {
            "tid": c.token.id,
            "new_state": "discarded" if c.honeypot else "used",
            "h": c.body_hash,
            "st": "held" if c.flags else "accepted",
        }
        for c in fresh
    ]
    if session.get_bind().dialect.name == "sqlite" and len(params) > 1:  # positional: cheaper to bind
        cur = session.connection().connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        cur.executemany(
            _positional(CLAIM_SQL, "?"), [(p["new_state"], p["h"], p["st"], p["tid"]) for p in params]
        )
        claimed = int(cur.rowcount)
    elif session.get_bind().dialect.supports_sane_multi_rowcount or len(params) == 1:
        claimed = int(_raw(session, CLAIM_SQL, params).rowcount)
    else:  # pragma: no cover - drivers without a summed executemany rowcount
        claimed = 0
        for p in params:
            claimed += int(_raw(session, CLAIM_SQL, [p]).rowcount)
    if claimed != len(params):
        raise ServiceError(409, "a concurrent request used the same token; send it again")
    if real:
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
            )
            for c in real
        ]
        conn = session.connection()
        mark = "?" if conn.dialect.name == "sqlite" else "%s"
        cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        cur.executemany(_positional(INSERT_RATING_SQL, mark), rows)
        deltas: dict[tuple[int, date], list[int]] = defaultdict(lambda: [0] * 5)
        bad = [c for c in real if not c.flags and c.item.level in BAD_LEVELS]
        flagged = [c for c in real if c.flags]
        for c in real:
            if not c.flags:
                deltas[(c.token.object_id, day)][c.item.level - 1] += 1
        add_to_rollups(session, deltas)
        if bad:  # new ratings have no case yet: each opened by its (object, transaction)
            due_p = _driver_values(
                session, _rectify_due(day, settings.case_rectify_days, settings.holidays_file)
            )
            _raw(
                session,
                OPEN_CASE_BY_REF_SQL,
                [
                    {
                        "o": c.token.object_id,
                        "x": c.token.transaction_ref,
                        "now": now_p,
                        "day": day_p,
                        "due": due_p,
                    }
                    for c in bad
                ],
            )
        if flagged:  # the audit entries of held ratings name their ids
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
    for c in fresh:
        if c.honeypot:
            audit(
                session, "widget", "rating.honeypot", "rating_token", c.token.id, "honeypot filled; discarded"
            )
        results[c.index] = SubmitResult(
            True, 200, _receipt(c.token.id, "held" if c.flags else "accepted", False, version)
        )


# --- the single-rating fast path ------------------------------------------------------------------
BURST_ONE_SQL = (
    "SELECT (SELECT COUNT(*) FROM rating WHERE object_id = :o AND created_at >= :since), "
    "(SELECT COUNT(*) FROM rating WHERE issuer_key_id = :k AND created_at >= :since)"
)
CLAIM_ONE_SQL = (
    "UPDATE rating_token SET state = 'used', body_hash = :h, response_status = :st "
    "WHERE id = :tid AND object_id = :o AND issuer_key_id = :k AND state = 'issued' "
    "RETURNING transaction_ref, pseudonym"
)
OPEN_CASE_ONE_SQL = (
    "INSERT INTO rating_case (rating_id, object_id, department_id, state, opened_at, opened_day, rectify_due, "
    "appeal_outcome, updated_at) SELECT :rid, id, department_id, 'open', :now, :day, :due, '', :now "
    "FROM assessed_object WHERE id = :o"
)


@lru_cache(maxsize=64)
def _rectify_due(day: date, days: int, holidays_file: str) -> date:

    return load_calendar(holidays_file).add_working_days(day, days)


class DriverCursor:
    """Statements with :name parameters straight on a DBAPI connection (sqlite3 or psycopg),
    dates and times passed as driver_executemany passes them."""

    def __init__(self, dbapi_conn: Any, dialect: str) -> None:
        self.cursor = dbapi_conn.cursor()
        self.sqlite = dialect == "sqlite"

    def run(self, sql: str, params: dict[str, Any]) -> Any:
        if self.sqlite:
            params = {k: _sqlite_value(v) if isinstance(v, date) else v for k, v in params.items()}
        else:
            sql = _pyformat(sql)
        self.cursor.execute(sql, params)
        return self.cursor


@lru_cache(maxsize=64)
def _pyformat(sql: str) -> str:
    return re.sub(r":(\w+)", r"%(\1)s", sql)


def submit_one_fast(
    dbapi_conn: Any,
    dialect: str,
    item: RatingCreate,
    claim: TokenClaims | TokenError,
    *,
    client_ip: str | None = None,
    now: datetime | None = None,
) -> SubmitResult | None:
    """One rating, the usual case (a first submission of an issued token), on a DBAPI
    connection in five statements: one burst count, one claim (UPDATE … WHERE state =
    'issued' RETURNING: single use, also against a concurrent request), one INSERT, one
    roll-up upsert and, for a bad rating, one case INSERT … SELECT (or the audit entry of a
    held rating). Same rules and effects as `submit_ratings([item])`; the caller commits.
    Returns None, having changed nothing, for anything else (a replay, a follow-up, an
    unknown or foreign token, the honeypot, another question version): the caller rolls
    back and takes the general path, which says why."""
    version = str(questions()["version"])
    if (
        isinstance(claim, TokenError)
        or item.follow_up
        or item.website
        or item.question_version not in (None, version)
    ):
        return None
    settings = get_settings()
    now = now or utcnow()
    day = local_day(now)
    since = now - timedelta(minutes=settings.burst_window_minutes)
    o, k = claim.object_id, claim.issuer_key_id
    cur = DriverCursor(dbapi_conn, dialect)
    if dialect == "postgresql":
        return _submit_one_pg(
            cur, item, claim, client_ip if settings.store_ip else None, now, day, since, version
        )
    n_obj, n_key = cur.run(BURST_ONE_SQL, {"o": o, "k": k, "since": since}).fetchone()
    flags = "burst" if n_obj + 1 > settings.burst_object_max or n_key + 1 > settings.burst_issuer_max else ""
    h = body_hash(item)
    params = {"h": h, "st": "held" if flags else "accepted", "tid": claim.token_id, "o": o, "k": k}
    claimed = cur.run(CLAIM_ONE_SQL, params).fetchall()
    if not claimed:
        return None
    transaction_ref, pseudo = claimed[0]
    row = {
        "object_id": o,
        "level": item.level,
        "drivers": encode_drivers(item),
        "comment": item.comment,
        "channel": item.channel,
        "language": item.language,
        "created_at": now,
        "day": day,
        "pseudonym": pseudo,
        "transaction_ref": transaction_ref,
        "flags": flags,
        "question_version": item.question_version or version,
        "issuer_key_id": k,
        "ip": client_ip if settings.store_ip else None,
    }
    rid = int(cur.run(INSERT_RATING_SQL + " RETURNING id", row).fetchall()[0][0])
    if flags:
        cur.run(
            AUDIT_SQL,
            {
                "at": now,
                "actor": "burst-detection",
                "action": "rating.flag",
                "tt": "rating",
                "tid": str(rid),
                "detail": flags,
            },
        )
    else:
        delta = {f"n{j}": int(j == item.level) for j in range(1, 6)}
        cur.run(str(UPSERT_ROLLUP), {"object_id": o, "day": day, **delta})
        if item.level in BAD_LEVELS:
            due = _rectify_due(day, settings.case_rectify_days, settings.holidays_file)
            cur.run(OPEN_CASE_ONE_SQL, {"rid": rid, "now": now, "day": day, "due": due, "o": o})
    return SubmitResult(True, 200, _receipt(claim.token_id, "held" if flags else "accepted", False, version))


# PostgreSQL: the same five steps as one statement of data-modifying CTEs (one round trip; every
# part sees the same snapshot, the foreign keys are checked at the end of the statement).
ONE_PG_SQL = """
WITH f AS (
    SELECT CASE WHEN (SELECT COUNT(*) FROM rating WHERE object_id = :o AND created_at >= :since) + 1 > :omax
             OR (SELECT COUNT(*) FROM rating WHERE issuer_key_id = :k AND created_at >= :since) + 1 > :kmax
           THEN 'burst' ELSE '' END AS flags
), c AS (
    UPDATE rating_token SET state = 'used', body_hash = :h,
        response_status = (SELECT CASE WHEN flags = '' THEN 'accepted' ELSE 'held' END FROM f)
    WHERE id = :tid AND object_id = :o AND issuer_key_id = :k AND state = 'issued'
    RETURNING transaction_ref, pseudonym
), i AS (
    INSERT INTO rating (object_id, level, drivers, comment, channel, language, created_at, day, pseudonym,
        transaction_ref, flags, question_version, issuer_key_id, ip)
    SELECT :o, :level, :drivers, :comment, :channel, :language, :now, :day, c.pseudonym, c.transaction_ref,
        f.flags, :question_version, :k, :ip FROM c, f
    RETURNING id, flags
), u AS (
    INSERT INTO rating_daily (object_id, day, n1, n2, n3, n4, n5)
    SELECT :o, :day, :n1, :n2, :n3, :n4, :n5 FROM i WHERE i.flags = ''
    ON CONFLICT (object_id, day) DO UPDATE SET n1 = rating_daily.n1 + excluded.n1,
        n2 = rating_daily.n2 + excluded.n2, n3 = rating_daily.n3 + excluded.n3,
        n4 = rating_daily.n4 + excluded.n4, n5 = rating_daily.n5 + excluded.n5
), k AS (
    INSERT INTO rating_case (rating_id, object_id, department_id, state, opened_at, opened_day, rectify_due,
        appeal_outcome, updated_at)
    SELECT i.id, o.id, o.department_id, 'open', :now, :day, :due, '', :now
    FROM i JOIN assessed_object o ON o.id = :o WHERE i.flags = '' AND :bad
), a AS (
    INSERT INTO audit_log (at, actor, action, target_type, target_id, detail)
    SELECT :now, 'burst-detection', 'rating.flag', 'rating', CAST(i.id AS TEXT), i.flags FROM i WHERE i.flags <> ''
)
SELECT id, flags FROM i
"""


def _submit_one_pg(
    cur: DriverCursor,
    item: RatingCreate,
    claim: TokenClaims,
    ip: str | None,
    now: datetime,
    day: date,
    since: datetime,
    version: str,
) -> SubmitResult | None:
    settings = get_settings()
    params: dict[str, Any] = {
        "o": claim.object_id,
        "k": claim.issuer_key_id,
        "since": since,
        "omax": settings.burst_object_max,
        "kmax": settings.burst_issuer_max,
        "h": body_hash(item),
        "tid": claim.token_id,
        "level": item.level,
        "drivers": encode_drivers(item),
        "comment": item.comment,
        "channel": item.channel,
        "language": item.language,
        "now": now,
        "day": day,
        "question_version": item.question_version or version,
        "ip": ip,
        "due": _rectify_due(day, settings.case_rectify_days, settings.holidays_file),
        "bad": item.level in BAD_LEVELS,
        **{f"n{j}": int(j == item.level) for j in range(1, 6)},
    }
    rows = cur.run(ONE_PG_SQL, params).fetchall()
    if not rows:
        return None
    status = "held" if rows[0][1] else "accepted"
    return SubmitResult(True, 200, _receipt(claim.token_id, status, False, version))


AUDIT_SQL = (
    "INSERT INTO audit_log (at, actor, action, target_type, target_id, detail) "
    "VALUES (:at, :actor, :action, :tt, :tid, :detail)"
)


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
    old = rating.level
    if not rating.flags and old != item.level:
        delta = [0] * 5
        delta[old - 1] -= 1
        delta[item.level - 1] += 1
        add_to_rollups(session, {(rating.object_id, rating.day): delta})
    rating.level = item.level
    rating.drivers = encode_drivers(item)
    rating.comment = item.comment
    rating.channel = item.channel
    rating.language = item.language
    rating.question_version = item.question_version or version
    rating.amended_at = now
    session.add(rating)
    session.flush()
    if not rating.flags:
        case_after_amendment(session, rating, old)
    audit(session, "citizen", "rating.amend", "rating", str(rating.id), f"level {old} -> {item.level}")
    return SubmitResult(True, 200, _receipt(tok.id, tok.response_status, True, version))


# --- review of held ratings ---------------------------------------------------------------------
def review_rating(session: Session, principal: Principal, rating_id: int, decision: str, note: str) -> Rating:
    """An assessor accepts (it counts from now on) or rejects a rating held for review."""

    rating = session.get(Rating, rating_id)
    if rating is None:
        raise ServiceError(404, f"no rating {rating_id}")
    if rating.flags != "burst":
        raise ServiceError(
            409, f"rating {rating_id} is not held for review (flags: {rating.flags or 'none'})"
        )
    if decision == "accept":
        rating.flags = ""
        delta = [0] * 5
        delta[rating.level - 1] = 1
        add_to_rollups(session, {(rating.object_id, rating.day): delta})
        if rating.level in BAD_LEVELS:
            open_cases(session, [int(rating.id or 0)], local_day())
    elif decision == "reject":
        rating.flags = "rejected"
    else:
        raise EgovError(f"decision {decision!r}: use accept or reject")
    session.add(rating)
    session.flush()
    audit(session, principal.actor, f"rating.review.{decision}", "rating", str(rating_id), note)
    return rating


def held_ratings(session: Session, limit: int = 500) -> list[dict[str, Any]]:
    rows = session.execute(
        select(
            col(Rating.id),
            col(AssessedObject.code),
            col(Rating.day),
            col(Rating.level),
            col(Rating.flags),
            col(Rating.created_at),
        )
        .join(AssessedObject, col(AssessedObject.id) == col(Rating.object_id))
        .where(col(Rating.flags) == "burst")
        .order_by(col(Rating.id))
        .limit(limit)
    ).all()
    return [
        {"id": r[0], "object": r[1], "day": r[2], "level": r[3], "flags": r[4], "created_at": r[5]}
        for r in rows
    ]
