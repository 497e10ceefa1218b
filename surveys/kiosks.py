"""Counter kiosks (issue 17 point 2, 現場服務一次一評): a tablet at a service counter, registered as a
device of one counter object (and window) with its own key, shows the rating form for the ticket
just served there.

The queue-management system asks for a rating token per served ticket (`POST /api/v1/tokens`
with the counter object, transaction_ref = the ticket, the service item, the window and staff
member, and `kiosk`: the device), which queues the ticket for the device (surveys.subjects). The
kiosk polls with its key for **the last ticket queued for it** (`next_ticket`): shown while its
token is unused, unexpired, its issuer not revoked, not dismissed and at most `TICKET_MINUTES`
old — a newer ticket supersedes it, so a citizen never rates the previous citizen's service. The
citizen's rating goes the usual way (`POST /api/v1/ratings`, channel `counter`), so the single-use
token guarantees one rating per served ticket. When nobody rates, the kiosk dismisses the ticket
(`dismiss_ticket`) and goes back to waiting. A device key reads its own tickets and nothing else:
it is not an API key, so every other route refuses it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlmodel import Session, col

from egov.auth import audit, hash_key, inactive_keys
from egov.errors import ServiceError
from egov.models import AssessedObject, Department, RatingToken, utcnow
from egov.models_counter import KioskDevice, RatingSubject
from egov.models_services import ServiceItem
from surveys.security import TokenClaims, server_secret, sign_token

KIOSK_KEY_PREFIX = "egq_"
TICKET_MINUTES = 10  # a ticket not rated within this time is no longer shown
SETUP_PATH = "/kiosk/"


@dataclass(frozen=True)
class Device:
    """An authenticated kiosk: its id, code, object and window."""

    id: int
    code: str
    object_id: int
    window: str | None


def create_kiosk(
    session: Session,
    department_id: int,
    code: str,
    object_code: str,
    window: str | None = None,
    label: str = "",
    actor: str = "cli",
) -> tuple[str, KioskDevice, str]:
    """Register a kiosk at a counter object of the department (`department_id`); returns the key
    (shown once, only its SHA-256 stored), the row and the object's code."""
    obj = session.execute(
        select(AssessedObject).where(col(AssessedObject.code) == object_code)
    ).scalar_one_or_none()
    if obj is None:
        raise ServiceError(404, f"unknown object '{object_code}'")
    if obj.department_id != department_id:
        raise ServiceError(403, f"object '{object_code}' belongs to another department")
    if obj.kind != "application" or not obj.citizen_facing:
        raise ServiceError(
            422, f"object: '{object_code}' is not a citizen-facing service; only those are rated"
        )
    if session.execute(select(col(KioskDevice.id)).where(col(KioskDevice.code) == code)).first():
        raise ServiceError(409, f"code: a kiosk '{code}' exists already")
    key = KIOSK_KEY_PREFIX + secrets.token_urlsafe(32)
    row = KioskDevice(
        code=code,
        object_id=int(obj.id or 0),
        window_code=window,
        label=label,
        prefix=key[:12],
        key_hash=hash_key(key),
        created_by=actor[:60],
    )
    session.add(row)
    session.flush()
    audit(session, actor, "kiosk.create", "kiosk_device", str(row.id), f"code={code} object={object_code}")
    return key, row, object_code


def department_of(session: Session, code: str | None) -> int | None:
    """The id of the department `code` (None: none named, every department); unknown: refused."""
    if code is None:
        return None
    found = session.execute(select(col(Department.id)).where(col(Department.code) == code)).scalar()
    if found is None:
        raise ServiceError(404, f"unknown department '{code}'")
    return int(found)


def list_kiosks(session: Session, department_id: int | None) -> list[tuple[KioskDevice, str]]:
    """The kiosks (with their object's code) of a department, or all."""
    stmt = select(KioskDevice, col(AssessedObject.code)).join(
        AssessedObject, col(AssessedObject.id) == col(KioskDevice.object_id)
    )
    if department_id is not None:
        stmt = stmt.where(col(AssessedObject.department_id) == department_id)
    return [(k, str(c)) for k, c in session.execute(stmt.order_by(col(KioskDevice.code))).all()]


def revoke_kiosk(session: Session, department_id: int | None, code: str, actor: str = "cli") -> KioskDevice:
    """Revoke a kiosk (of the department, unless `department_id` is None: the command line)."""
    found = [k for k, _ in list_kiosks(session, department_id) if k.code == code]
    if not found:
        raise ServiceError(404, f"unknown kiosk '{code}'")
    row = found[0]
    done = session.execute(
        update(KioskDevice)
        .where(col(KioskDevice.id) == row.id, col(KioskDevice.revoked_at).is_(None))
        .values(revoked_at=utcnow())
    )
    if done.rowcount:  # type: ignore[attr-defined]
        audit(session, actor, "kiosk.revoke", "kiosk_device", str(row.id), f"code={code}")
    session.refresh(row)
    return row


def authenticate_kiosk(session: Session, key: str) -> Device | None:
    """The active kiosk of a device key, or None."""
    if not key.startswith(KIOSK_KEY_PREFIX):
        return None
    row = session.execute(
        select(KioskDevice).where(col(KioskDevice.key_hash) == hash_key(key))
    ).scalar_one_or_none()
    if row is None or row.revoked_at is not None:
        return None
    return Device(int(row.id or 0), row.code, row.object_id, row.window_code)


def next_ticket(session: Session, device: Device, now: datetime | None = None) -> dict[str, Any] | None:
    """The ticket the kiosk shows: the last one queued for it, while it may still be rated."""
    now = now or utcnow()
    last = session.execute(
        select(RatingSubject, RatingToken)
        .join(RatingToken, col(RatingToken.id) == col(RatingSubject.token_id))
        .where(col(RatingSubject.kiosk_id) == device.id)
        .order_by(col(RatingSubject.queued_at).desc(), col(RatingSubject.token_id).desc())
        .limit(1)
    ).first()
    if last is None:
        return None
    subject, token = last
    if (
        subject.kiosk_state != "queued"
        or token.state != "issued"
        or _utc(token.expires_at) <= now
        or _utc(subject.queued_at) < now - timedelta(minutes=TICKET_MINUTES)
        or inactive_keys(session, {token.issuer_key_id})
    ):
        return None
    obj = session.get(AssessedObject, token.object_id)
    service = session.get(ServiceItem, token.service_id) if token.service_id else None
    exp = _utc(token.expires_at)
    claims = TokenClaims(token.id, token.object_id, token.issuer_key_id, int(exp.timestamp()))
    return {
        "token": sign_token(server_secret(session), claims),
        "receipt": token.id,
        "object": obj.code if obj else "",
        "object_name": _names(obj),
        "window": subject.window_code,
        "service_name": _names(service) if service else None,
        "expires_at": exp,
    }


def dismiss_ticket(session: Session, device: Device, receipt: str) -> None:
    """The kiosk went back to waiting without a rating: the ticket is not shown again (its token
    stays valid). A ticket of another kiosk, or one no longer queued, is a 404."""
    done = session.execute(
        update(RatingSubject)
        .where(
            col(RatingSubject.token_id) == receipt,
            col(RatingSubject.kiosk_id) == device.id,
            col(RatingSubject.kiosk_state) == "queued",
        )
        .values(kiosk_state="dismissed")
    )
    if not done.rowcount:  # type: ignore[attr-defined]
        raise ServiceError(404, "no such ticket queued for this kiosk")


def _names(row: Any) -> dict[str, str]:
    return {"zh-Hant": row.name_zh or row.name_en, "pt": row.name_pt or row.name_en, "en": row.name_en}


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
