"""The single-rating fast path: one first submission of an issued token straight on a DBAPI
connection (five statements on SQLite — six for a rating naming a service item, whose roll-up is
kept too —, one on PostgreSQL; a bad rating first reads the calendar
days an administrator added, for its case's deadline), with the same rules and effects as
the general path (surveys.ratings.submit_ratings), which takes every other case.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from egov.clock import local_day
from egov.models import utcnow
from egov.settings import get_settings
from surveys.calendar import ADDED_DAYS_SQL, entries_from_rows
from surveys.questions import questions
from surveys.ratings import INSERT_RATING_SQL, SubmitResult, body_hash, encode_drivers, receipt, rectify_due
from surveys.rollup import UPSERT_ROLLUP, UPSERT_SERVICE_ROLLUP, pyformat, sqlite_value
from surveys.schemas import BAD_LEVELS, RatingCreate
from surveys.security import TokenClaims, TokenError

# The claim's condition that the token's issuer is an active key (not revoked): a primary-key
# lookup inside the claim statement itself, so revoking a key refuses its tokens at once at no
# extra round trip; a refused claim falls back to the general path, which answers 403.
ISSUER_ACTIVE = "EXISTS (SELECT 1 FROM api_key WHERE api_key.id = :k AND api_key.revoked_at IS NULL)"

BURST_ONE_SQL = (
    "SELECT (SELECT COUNT(*) FROM rating WHERE object_id = :o AND created_at >= :since), "
    "(SELECT COUNT(*) FROM rating WHERE issuer_key_id = :k AND created_at >= :since)"
)
CLAIM_ONE_SQL = (
    "UPDATE rating_token SET state = 'used', body_hash = :h, response_status = :st "
    "WHERE id = :tid AND object_id = :o AND issuer_key_id = :k AND state = 'issued' "
    f"AND {ISSUER_ACTIVE} RETURNING transaction_ref, pseudonym, service_id"
)
OPEN_CASE_ONE_SQL = (
    "INSERT INTO rating_case (rating_id, object_id, department_id, state, opened_at, opened_day, rectify_due, "
    "appeal_outcome, updated_at) SELECT :rid, id, department_id, 'open', :now, :day, :due, '', :now "
    "FROM assessed_object WHERE id = :o"
)


class DriverCursor:
    """Statements with :name parameters straight on a DBAPI connection (sqlite3 or psycopg),
    dates and times passed as driver_executemany passes them."""

    def __init__(self, dbapi_conn: Any, dialect: str) -> None:
        self.cursor = dbapi_conn.cursor()
        self.sqlite = dialect == "sqlite"

    def run(self, sql: str, params: dict[str, Any]) -> Any:
        if self.sqlite:
            params = {k: sqlite_value(v) if isinstance(v, date) else v for k, v in params.items()}
        else:
            sql = pyformat(sql)
        self.cursor.execute(sql, params)
        return self.cursor


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
    held rating); a bad rating also reads the added calendar days (surveys.calendar
    ADDED_DAYS_SQL) for its deadline. Same rules and effects as `submit_ratings([item])`; the caller commits.
    Returns None, having changed nothing, for anything else (a replay, a follow-up, an
    unknown or foreign token, a token of a revoked issuer, the honeypot, another question
    version, a question set's answers): the caller rolls
    back and takes the general path, which says why."""
    version = str(questions()["version"])
    if isinstance(claim, TokenError) or not _usual(item, claim, version):
        return None
    settings = get_settings()
    now = now or utcnow()
    day = local_day(now)
    since = now - timedelta(minutes=settings.burst_window_minutes)
    cur = DriverCursor(dbapi_conn, dialect)
    submit = _submit_one_pg if dialect == "postgresql" else _submit_one_sqlite
    return submit(cur, item, claim, client_ip if settings.store_ip else None, now, day, since, version)


def _usual(item: RatingCreate, claim: TokenClaims | TokenError, version: str) -> bool:
    """Whether the fast path may take a rating: a first submission with a valid token, not a
    follow-up, not the honeypot, of the current question version, without a question set
    (whose answers the general path stores); it declines it when the token was used."""
    return not (
        isinstance(claim, TokenError)
        or item.follow_up
        or item.website
        or item.question_version not in (None, version)
        or item.question_set is not None
    )


def submit_group_fast(
    dbapi_conn: Any,
    dialect: str,
    requests: list[tuple[RatingCreate, TokenClaims | TokenError, str | None]],
    *,
    now: datetime | None = None,
) -> list[SubmitResult | None]:
    """Several single ratings (item, claim, client IP) that arrived together (group commit), in
    order, each stored exactly as `submit_one_fast` stores it (a later one sees the earlier ones,
    as in burst detection), and committed; None for each the fast path declines (which changed
    nothing: the caller takes it on the general path after this commit). On PostgreSQL the
    added calendar days are read once (for the deadlines of the bad ratings' cases) and the
    ratings' statements and the COMMIT go to the server in one pipeline (one round trip for
    all); on SQLite the statements run one after the other. Raises, having committed nothing,
    if a statement fails (the caller rolls back)."""
    if dialect != "postgresql":
        each = [submit_one_fast(dbapi_conn, dialect, i, c, client_ip=ip, now=now) for i, c, ip in requests]
        dbapi_conn.commit()
        return each
    settings = get_settings()
    version = str(questions()["version"])
    now = now or utcnow()
    day = local_day(now)
    since = now - timedelta(minutes=settings.burst_window_minutes)
    conn = getattr(dbapi_conn, "driver_connection", dbapi_conn)  # the psycopg connection
    taken = _claimable(conn, requests, version, since, day)
    if taken is None:
        return [None] * len(requests)
    claimable, counts, added = taken
    due = rectify_due(day, entries_from_rows(added)) if added is not None else day
    # burst flags in the order of arrival; the statements in the order of the roll-up rows they
    # update (object, service item, channel: the same order in every group, so that groups of
    # several workers never wait for each other in a circle)
    statements: list[tuple[tuple[int, int, str], int, dict[str, Any]]] = []
    for i, ((item, claim, ip), key) in enumerate(zip(requests, claimable, strict=True)):
        if key is None or isinstance(claim, TokenError):
            continue
        o, k = ("o", claim.object_id), ("k", claim.issuer_key_id)
        counts[o], counts[k] = counts.get(o, 0) + 1, counts.get(k, 0) + 1  # this one counts too
        burst = counts[o] > settings.burst_object_max or counts[k] > settings.burst_issuer_max
        params = _pg_params(item, claim, ip if settings.store_ip else None, now, day, since, version, due)
        statements.append(
            ((claim.object_id, key, item.channel), i, {**params, "flags": "burst" if burst else ""})
        )
    sql = pyformat(GROUP_PG_SQL)
    cursors: dict[int, Any] = {}
    with conn.pipeline():
        for _, i, params in sorted(statements, key=lambda s: s[:2]):
            cursors[i] = conn.cursor()
            cursors[i].execute(sql, params)
        conn.commit()
    out: list[SubmitResult | None] = []
    for i, (_, claim, _) in enumerate(requests):
        rows = cursors[i].fetchall() if i in cursors else []
        if not rows or isinstance(claim, TokenError):
            out.append(None)
            continue
        status = "held" if rows[0][1] else "accepted"
        out.append(SubmitResult(True, 200, receipt(claim.token_id, status, False, version)))
    return out


def _claimable(
    conn: Any,
    requests: list[tuple[RatingCreate, TokenClaims | TokenError, str | None]],
    version: str,
    since: datetime,
    day: date,
) -> tuple[list[int | None], dict[tuple[str, int], int], list[Any] | None] | None:
    """What a group reads before it writes, in one round trip: which ratings the fast path takes
    (a usual first submission whose token is issued, of the claim's object and active issuer,
    and not sent twice in the group — the second goes to the general path after the commit),
    each with its token's service item (0: none; None: not taken),
    the ratings in the burst window by ("o", object) and ("k", issuer), and the added calendar
    days when a bad rating opens a case (else None). None when the fast path takes none."""
    usual = [_usual(item, claim, version) for item, claim, _ in requests]
    claims = [c for ok, (_, c, _) in zip(usual, requests, strict=True) if ok and isinstance(c, TokenClaims)]
    if not claims:
        return None
    bad = any(ok and item.level in BAD_LEVELS for ok, (item, _, _) in zip(usual, requests, strict=True))
    with conn.pipeline():
        tokens, numbers = conn.cursor(), conn.cursor()
        tokens.execute(CLAIMABLE_PG_SQL, {"ids": [c.token_id for c in claims]})
        objects, issuers = sorted({c.object_id for c in claims}), sorted({c.issuer_key_id for c in claims})
        numbers.execute(GROUP_COUNTS_PG_SQL, {"o": objects, "k": issuers, "since": since})
        days = conn.cursor() if bad else None
        if days is not None:
            days.execute(pyformat(ADDED_DAYS_SQL), {"start": day})
    issued = {t: (o, k, s) for t, o, k, s in tokens.fetchall()}
    seen: set[str] = set()
    claimable: list[int | None] = []
    for ok, (_, c, _) in zip(usual, requests, strict=True):
        token = issued.get(c.token_id) if ok and isinstance(c, TokenClaims) else None
        if (
            isinstance(c, TokenClaims)
            and token
            and token[:2] == (c.object_id, c.issuer_key_id)
            and c.token_id not in seen
        ):
            seen.add(c.token_id)
            claimable.append(int(token[2]))
        else:
            claimable.append(None)
    counts = {(kind, int(key)): int(n) for kind, key, n in numbers.fetchall()}
    return claimable, counts, days.fetchall() if days is not None else None


def _submit_one_sqlite(
    cur: DriverCursor,
    item: RatingCreate,
    claim: TokenClaims,
    ip: str | None,
    now: datetime,
    day: date,
    since: datetime,
    version: str,
) -> SubmitResult | None:
    """SQLite: the five statements one after the other (the worker's write lock serialises them)."""
    settings = get_settings()
    o, k = claim.object_id, claim.issuer_key_id
    n_obj, n_key = cur.run(BURST_ONE_SQL, {"o": o, "k": k, "since": since}).fetchone()
    flags = "burst" if n_obj + 1 > settings.burst_object_max or n_key + 1 > settings.burst_issuer_max else ""
    h = body_hash(item)
    params = {"h": h, "st": "held" if flags else "accepted", "tid": claim.token_id, "o": o, "k": k}
    claimed = cur.run(CLAIM_ONE_SQL, params).fetchall()
    if not claimed:
        return None
    transaction_ref, pseudo, service_id = claimed[0]
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
        "ip": ip,
        "service_id": service_id,
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
        if service_id is not None:  # a rating naming a service item: its roll-up too (one more statement)
            service = {"service_id": service_id, "object_id": o, "channel": item.channel, "day": day}
            cur.run(str(UPSERT_SERVICE_ROLLUP), {**service, **delta})
        if item.level in BAD_LEVELS:
            due = rectify_due(day, entries_from_rows(cur.run(ADDED_DAYS_SQL, {"start": day}).fetchall()))
            cur.run(OPEN_CASE_ONE_SQL, {"rid": rid, "now": now, "day": day, "due": due, "o": o})
    return SubmitResult(True, 200, receipt(claim.token_id, "held" if flags else "accepted", False, version))


# PostgreSQL: the same five steps as one statement of data-modifying CTEs (one round trip, two for
# a bad rating, whose deadline needs the added calendar days first; every
# part sees the same snapshot, the foreign keys are checked at the end of the statement).
ONE_PG_SQL = f"""
WITH f AS (
    SELECT CASE WHEN (SELECT COUNT(*) FROM rating WHERE object_id = :o AND created_at >= :since) + 1 > :omax
             OR (SELECT COUNT(*) FROM rating WHERE issuer_key_id = :k AND created_at >= :since) + 1 > :kmax
           THEN 'burst' ELSE '' END AS flags
), c AS (
    UPDATE rating_token SET state = 'used', body_hash = :h,
        response_status = (SELECT CASE WHEN flags = '' THEN 'accepted' ELSE 'held' END FROM f)
    WHERE id = :tid AND object_id = :o AND issuer_key_id = :k AND state = 'issued' AND {ISSUER_ACTIVE}
    RETURNING transaction_ref, pseudonym, service_id
), i AS (
    INSERT INTO rating (object_id, level, drivers, comment, channel, language, created_at, day, pseudonym,
        transaction_ref, flags, question_version, issuer_key_id, ip, service_id)
    SELECT :o, :level, :drivers, :comment, :channel, :language, :now, :day, c.pseudonym, c.transaction_ref,
        f.flags, :question_version, :k, :ip, c.service_id FROM c, f
    RETURNING id, flags, service_id
), s AS (
    INSERT INTO rating_service_daily (service_id, object_id, channel, day, n1, n2, n3, n4, n5)
    SELECT i.service_id, :o, :channel, :day, :n1, :n2, :n3, :n4, :n5 FROM i
    WHERE i.flags = '' AND i.service_id IS NOT NULL
    ON CONFLICT (service_id, object_id, channel, day) DO UPDATE SET
        n1 = rating_service_daily.n1 + excluded.n1, n2 = rating_service_daily.n2 + excluded.n2,
        n3 = rating_service_daily.n3 + excluded.n3, n4 = rating_service_daily.n4 + excluded.n4,
        n5 = rating_service_daily.n5 + excluded.n5
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


# A rating of a group (submit_group_fast): the same statement with its burst flag computed
# beforehand from the group's counts (one count per object and issuer for the whole group).
GROUP_PG_SQL = ONE_PG_SQL.replace(
    ONE_PG_SQL[ONE_PG_SQL.index("WITH f AS") : ONE_PG_SQL.index("), c AS")],
    "WITH f AS (SELECT CAST(:flags AS TEXT) AS flags",
)
# What a group reads first, in one round trip: the tokens the fast path can claim (issued, of an
# active issuer), and the ratings in the burst window by object and by issuer
CLAIMABLE_PG_SQL = (
    "SELECT t.id, t.object_id, t.issuer_key_id, COALESCE(t.service_id, 0) FROM rating_token t JOIN api_key k ON k.id = t.issuer_key_id "
    "WHERE t.id = ANY(%(ids)s) AND t.state = 'issued' AND k.revoked_at IS NULL"
)
GROUP_COUNTS_PG_SQL = (
    "SELECT 'o', object_id, COUNT(*) FROM rating WHERE object_id = ANY(%(o)s) AND created_at >= %(since)s "
    "GROUP BY object_id UNION ALL "
    "SELECT 'k', issuer_key_id, COUNT(*) FROM rating WHERE issuer_key_id = ANY(%(k)s) AND created_at >= %(since)s "
    "GROUP BY issuer_key_id"
)


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
    params = _pg_params(item, claim, ip, now, day, since, version, _due_pg(cur, item, day))
    rows = cur.run(ONE_PG_SQL, params).fetchall()
    if not rows:
        return None
    status = "held" if rows[0][1] else "accepted"
    return SubmitResult(True, 200, receipt(claim.token_id, status, False, version))


def _pg_params(
    item: RatingCreate,
    claim: TokenClaims,
    ip: str | None,
    now: datetime,
    day: date,
    since: datetime,
    version: str,
    due: date,
) -> dict[str, Any]:
    """The parameters of ONE_PG_SQL for one rating (`due`: its case's deadline, if bad)."""
    settings = get_settings()
    return {
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
        "due": due,
        "bad": item.level in BAD_LEVELS,
        **{f"n{j}": int(j == item.level) for j in range(1, 6)},
    }


def _due_pg(cur: DriverCursor, item: RatingCreate, day: date) -> date:
    """The deadline of the case a bad rating opens (the added calendar days read first: one
    more round trip, for bad ratings only); for a rating that opens no case, `day` (unused)."""
    if item.level not in BAD_LEVELS:
        return day
    return rectify_due(day, entries_from_rows(cur.run(ADDED_DAYS_SQL, {"start": day}).fetchall()))


AUDIT_SQL = (
    "INSERT INTO audit_log (at, actor, action, target_type, target_id, detail) "
    "VALUES (:at, :actor, :action, :tt, :tid, :detail)"
)
