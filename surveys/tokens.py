"""Issuing single-use rating tokens: one per completed transaction, each counting one offered
rating (the response-rate denominator, offer_daily).

Every function works inside the caller's session (one transaction per request).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Row, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from egov.auth import Principal, inactive_keys
from egov.clock import local_day
from egov.errors import ServiceError
from egov.models import AssessedObject, RatingToken, utcnow
from egov.settings import get_settings
from surveys.rollup import add_offers
from surveys.schemas import TokenRequest
from surveys.security import (
    TokenClaims,
    new_token_id,
    pseudonym,
    server_secret,
    sign_token,
    token_expiry,
)
from surveys.services import Offered, check_offered, offered_services, service_codes
from surveys.subjects import attach_subjects

TxKey = tuple[int, str]  # (object id, transaction reference): one token each


@dataclass
class IssuedToken:
    token: str
    object: str
    transaction_ref: str
    expires_at: datetime
    service: str | None = None  # the code of the service item the token names
    token_id: str = ""  # the token's id: the rating's receipt
    window: str | None = None  # the window the token names (surveys.subjects)
    kiosk: str | None = None  # the counter kiosk that shows its ticket


def issue_tokens(
    session: Session,
    principal: Principal,
    requests: list[TokenRequest],
    now: datetime | Sequence[datetime] | None = None,
    *,
    batch: bool = False,
) -> list[IssuedToken]:
    """Issue (or re-issue, idempotently) one rating token per completed transaction. A new
    token counts one offered rating for its object and day (offer_daily). `now`: the moment
    of issue, one for every request or one per request (default: the current time; the
    built-in demo issues a period's tokens on their transactions' days), which sets the
    offer's day, the token's issue time and its expiry. An unused token
    whose issuer was revoked (so it is refused) is handed over to the asking key and signed
    again: the department's new key gets a working token for the transaction, the old
    token stays refused (no second offer). A request may name the service item (`service`) the
    transaction was: it must be known, active and offered through the object
    (surveys.services.check_offered; refusals name `service`, or `items.N.service` when `batch`),
    and is stored on the token, so the rating counts for the item's owner too; asking again for
    the transaction naming another service item is refused (409). A request may also name the
    rated subjects — window, staff code — and the counter kiosk that shows the ticket: stored with
    the token by surveys.subjects.attach_subjects (same refusals), returned as `window`, `kiosk`."""
    if principal.role != "department" or principal.department_id is None:
        raise ServiceError(403, "only a department key can issue rating tokens")
    secret = server_secret(session)
    objs = _rated_objects(session, principal, {r.object for r in requests})
    services = _named_services(session, requests, objs, batch)
    codes = {s.id: c for c, s in services.items()}
    existing = _existing_tokens(session, {(int(objs[r.object].id), r.transaction_ref) for r in requests})
    revoked = inactive_keys(session, {t.issuer_key_id for t in existing.values() if t.state == "issued"})
    new_rows: list[dict[str, Any]] = []
    offers: Counter[tuple[int, date]] = Counter()
    moments = _moments(now, len(requests))
    seen: dict[TxKey, IssuedToken] = {}
    for r, at in zip(requests, moments, strict=True):
        k = (int(objs[r.object].id), r.transaction_ref)
        if k in seen:
            continue
        row = existing.get(k)
        service = services.get(r.service) if r.service else None
        if row is not None:  # idempotent re-issue: the same token again, no second offer
            if service is not None and row.service_id != service.id:
                raise ServiceError(
                    409,
                    f"the token of transaction '{r.transaction_ref}' was issued naming "
                    f"{'another service item' if row.service_id else 'no service item'}, not '{r.service}'",
                )
            if row.state == "issued" and row.issuer_key_id in revoked:
                row.issuer_key_id = principal.key_id  # the revoked issuer's token, handed over
                session.add(row)
            seen[k] = _signed(secret, row, r.object, _code_of(session, codes, row.service_id))
        else:
            seen[k], new_row = _new_token(secret, principal, r, k[0], at, service)
            new_rows.append(new_row)
            offers[(k[0], local_day(at))] += 1
    lost: list[dict[str, Any]] = []
    if new_rows:
        lost = insert_new_tokens(session, new_rows)
        for lost_row in lost:  # another request issued this transaction's token first: give its token
            k = (int(lost_row["object_id"]), str(lost_row["transaction_ref"]))
            offers[(k[0], local_day(lost_row["issued_at"]))] -= 1
            code = next(c for c, o in objs.items() if int(o.id) == k[0])
            token = _token_of(session, k)
            seen[k] = _signed(secret, token, code, _code_of(session, codes, token.service_id))
        add_offers(session, +offers)  # unary plus drops the counts that fell to zero
    issued = [seen[(int(objs[r.object].id), r.transaction_ref)] for r in requests]
    fresh = {row["id"] for row in new_rows} - {row["id"] for row in lost} if new_rows else set()
    tokens = [
        (t.token_id, int(objs[r.object].id), t.token_id in fresh)
        for r, t in zip(requests, issued, strict=True)
    ]
    for t, (window, kiosk) in zip(
        issued, attach_subjects(session, requests, tokens, batch=batch), strict=True
    ):
        t.window, t.kiosk = window, kiosk
    return issued


def _moments(now: datetime | Sequence[datetime] | None, n: int) -> list[datetime]:
    """The moment of issue of each of `n` requests."""
    if isinstance(now, Sequence):
        if len(now) != n:
            raise ValueError(f"{len(now)} moments of issue for {n} requests")
        return list(now)
    return [now or utcnow()] * n


def _rated_objects(session: Session, principal: Principal, codes: set[str]) -> dict[str, Row[Any]]:
    """The objects of `codes` by code (id, code, department_id, kind, citizen_facing); refused
    unless each is a citizen-facing application service of the key's department."""
    objs = {
        row.code: row
        for row in session.execute(
            select(
                col(AssessedObject.id),
                col(AssessedObject.code),
                col(AssessedObject.department_id),
                col(AssessedObject.kind),
                col(AssessedObject.citizen_facing),
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
        if not objs[code].citizen_facing:
            raise ServiceError(
                422,
                f"object '{code}' is an internal system, not citizen-facing; only citizen-facing services are rated",
            )
    return objs


def _existing_tokens(session: Session, wanted: set[TxKey]) -> dict[TxKey, RatingToken]:
    """The tokens already issued for the `wanted` transactions."""
    return {
        (t.object_id, t.transaction_ref): t
        for t in session.execute(
            select(RatingToken).where(
                col(RatingToken.object_id).in_({o for o, _ in wanted}),
                col(RatingToken.transaction_ref).in_({x for _, x in wanted}),
            )
        ).scalars()
    }


def _token_of(session: Session, k: TxKey) -> RatingToken:
    return session.execute(
        select(RatingToken).where(
            col(RatingToken.object_id) == k[0], col(RatingToken.transaction_ref) == k[1]
        )
    ).scalar_one()


def _signed(secret: bytes, row: RatingToken, code: str, service: str | None) -> IssuedToken:
    """The signed token of a stored token row (its expiry as stored, in UTC)."""
    exp = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
    claims = TokenClaims(row.id, int(row.object_id), row.issuer_key_id, int(exp.timestamp()))
    return IssuedToken(sign_token(secret, claims), code, row.transaction_ref, exp, service, row.id)


def _named_services(
    session: Session, requests: list[TokenRequest], objs: dict[str, Row[Any]], batch: bool
) -> dict[str, Offered]:
    """The service items the requests name, each checked against its request's object."""
    named = offered_services(session, {r.service for r in requests if r.service})
    for i, r in enumerate(requests):
        if r.service:
            o = objs[r.object]
            field = f"items.{i}.service" if batch else "service"
            check_offered(named.get(r.service), r.service, field, r.object, int(o.id), int(o.department_id))
    return named


def _code_of(session: Session, codes: dict[int, str], service_id: int | None) -> str | None:
    """The code of a stored token's service item (read once, then kept in `codes`)."""
    if service_id is None:
        return None
    if service_id not in codes:
        codes.update(service_codes(session, {service_id}))
    return codes.get(service_id)


def _new_token(
    secret: bytes,
    principal: Principal,
    request: TokenRequest,
    object_id: int,
    now: datetime,
    service: Offered | None,
) -> tuple[IssuedToken, dict[str, Any]]:
    """A new token for a transaction issued at `now`: the signed token and the row to insert."""
    exp, exp_ts = token_expiry(get_settings().token_ttl_days, now)
    tid = new_token_id()
    row = {
        "id": tid,
        "object_id": object_id,
        "transaction_ref": request.transaction_ref,
        "issuer_key_id": principal.key_id,
        "pseudonym": pseudonym(secret, request.citizen_id),
        "issued_at": now,
        "expires_at": exp,
        "state": "issued",
        "service_id": service.id if service else None,
    }
    token = sign_token(secret, TokenClaims(tid, object_id, principal.key_id, exp_ts))
    return IssuedToken(
        token, request.object, request.transaction_ref, exp, service.code if service else None, tid
    ), row


def insert_new_tokens(session: Session, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Insert new token rows, skipping any whose (object, transaction) another request inserted
    since this one looked (two first requests for one transaction racing, e.g. a back end
    retrying while its first call is still in flight): they would otherwise fail the unique key
    with a 500. Returns the rows that were not inserted."""
    dialect = session.get_bind().dialect.name
    if dialect not in ("postgresql", "sqlite"):  # pragma: no cover - only the two supported engines
        session.execute(insert(RatingToken), rows)
        return []
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
