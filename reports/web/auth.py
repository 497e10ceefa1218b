"""Who reads the report pages: an `Authorization: Bearer` key (checked by
`egov.auth.authenticate`) or the login session's cookie.

After a login (`start_session`) the server keeps a session in `report_session` (only the
SHA-256 of the random session id, the key's id and an expiry) and the browser an HttpOnly,
SameSite=Strict cookie holding the session id. A revoked key ends its sessions at once
(`egov.auth.principal_of_key`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from fastapi import Request
from sqlalchemy import delete
from sqlmodel import Session, col

from egov.auth import Principal, audit, authenticate, principal_of_key
from egov.clock import as_utc
from egov.models import ReportSession, utcnow

COOKIE = "egov_reports"
SESSION_HOURS = 8
READER_ROLES = ("department", "assessor", "lead", "admin")
# the roles that see every department and the assessor's report (of the runs they may read:
# egov.cycle.RunAccess)
ALL_ROLES = ("assessor", "lead", "admin")


class Refusal(Exception):
    """A page refused: its HTTP status and the label key of its message."""

    def __init__(self, status: int, key: str) -> None:
        super().__init__(key)
        self.status = status
        self.key = key


def session_digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def start_session(session: Session, principal: Principal, hours: float = SESSION_HOURS) -> str:
    """A new session for the key; returns the session id (for the cookie only)."""
    now = utcnow()
    session.execute(delete(ReportSession).where(col(ReportSession.expires_at) < now))
    session_id = secrets.token_urlsafe(32)
    session.add(
        ReportSession(
            id_hash=session_digest(session_id),
            key_id=principal.key_id,
            created_at=now,
            expires_at=now + timedelta(hours=hours),
        )
    )
    audit(session, principal.actor, "reports.login", "api_key", str(principal.key_id), "")
    session.commit()
    return session_id


def end_session(session: Session, session_id: str) -> None:
    session.execute(delete(ReportSession).where(col(ReportSession.id_hash) == session_digest(session_id)))
    session.commit()


def session_principal(session: Session, session_id: str) -> Principal | None:
    if not session_id or len(session_id) > 100:
        return None
    digest = session_digest(session_id)
    row = session.get(ReportSession, digest)
    if row is None or not hmac.compare_digest(row.id_hash, digest):
        return None
    if as_utc(row.expires_at) <= utcnow():
        return None
    return principal_of_key(session, row.key_id)


def principal_of(request: Request, session: Session) -> Principal | None:
    """The caller: an `Authorization: Bearer` key, else the session cookie; None if neither."""
    auth = request.headers.get("authorization")
    if auth:
        scheme, _, credentials = auth.partition(" ")
        if scheme.lower() != "bearer":
            return None
        return authenticate(session, credentials.strip())
    session_id = request.cookies.get(COOKIE)
    return session_principal(session, session_id) if session_id else None


def who(request: Request, session: Session, roles: tuple[str, ...] = READER_ROLES) -> Principal:
    """The caller, if one of `roles`; else a Refusal (401 without a key, 403 otherwise)."""
    principal = principal_of(request, session)
    if principal is None:
        raise Refusal(401, "web.unauthorised")
    if principal.role not in roles:
        raise Refusal(403, "web.forbidden")
    return principal
