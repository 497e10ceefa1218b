"""Who is calling and what they did: API keys (SHA-256 only, constant-time compare), the
caller's `Principal`, the audit trail and the in-process token-bucket rate limiter.

Cross-cutting: the rating API, the report pages and the CLI's key commands all use it, so it
lives in the kernel, not in a feature package.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlmodel import Session, col

from egov.errors import EgovError
from egov.models import ApiKey, AuditLog, Department, compare_and_set, utcnow

ROLES = ("department", "assessor", "lead", "admin")
KEY_PREFIX = "egk_"


# --- API keys ------------------------------------------------------------------------------------
def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Principal:
    """Who is calling: a key's id, role and (for department keys) department."""

    key_id: int
    role: str
    department_id: int | None
    department_code: str | None
    label: str

    @property
    def actor(self) -> str:
        who = f"{self.role}:{self.department_code}" if self.department_code else self.role
        return f"key {self.key_id} ({who})"


def create_key(
    session: Session, role: str, department: str | None = None, label: str = "", actor: str = "cli"
) -> tuple[str, ApiKey]:
    """Create an API key; returns the key (shown once, never stored) and its row. `actor`: who
    asked, for the audit trail (`cli`, or the admin key's `Principal.actor` over HTTP)."""
    if role not in ROLES:
        raise EgovError(f"role {role!r}: use one of {', '.join(ROLES)}")
    dept_id = None
    if role == "department":
        if not department:
            raise EgovError("a department key needs --department CODE")
        dept_id = session.execute(
            select(col(Department.id)).where(col(Department.code) == department)
        ).scalar()
        if dept_id is None:
            raise EgovError(f"unknown department '{department}'")
    elif department:
        raise EgovError(f"a {role} key belongs to no department; leave out --department")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(prefix=key[:12], key_hash=hash_key(key), role=role, department_id=dept_id, label=label)
    session.add(row)
    session.flush()
    audit(session, actor, "key.create", "api_key", str(row.id), f"role={role} department={department or ''}")
    return key, row


def revoke_key(session: Session, key_id: int, actor: str = "cli") -> ApiKey:
    """Revoke a key (once: revoking it again, or concurrently, changes and audits nothing)."""
    row = session.get(ApiKey, key_id)
    if row is None:
        raise EgovError(f"no API key with id {key_id}")
    if compare_and_set(session, ApiKey, key_id, "revoked_at", None, utcnow()):
        audit(session, actor, "key.revoke", "api_key", str(key_id), "")
    session.refresh(row)
    return row


def authenticate(session: Session, key: str) -> Principal | None:
    """The principal of a presented key, or None (unknown or revoked)."""
    if not key.startswith(KEY_PREFIX) or len(key) > 100:
        return None
    digest = hash_key(key)
    row = session.execute(
        select(
            col(ApiKey.id),
            col(ApiKey.key_hash),
            col(ApiKey.role),
            col(ApiKey.department_id),
            col(ApiKey.label),
            col(ApiKey.revoked_at),
        ).where(col(ApiKey.key_hash) == digest)
    ).first()
    if row is None or not hmac.compare_digest(row.key_hash, digest) or row.revoked_at is not None:
        return None
    return _principal(session, int(row.id), str(row.role), row.department_id, str(row.label))


def principal_of_key(session: Session, key_id: int) -> Principal | None:
    """The principal of a stored key by its id (e.g. a report-page session's key), or None
    (unknown or revoked): a revoked key ends its sessions at once."""
    row = session.get(ApiKey, key_id)
    if row is None or row.revoked_at is not None or row.id is None:
        return None
    return _principal(session, int(row.id), str(row.role), row.department_id, str(row.label))


def inactive_keys(session: Session, key_ids: Iterable[int]) -> set[int]:
    """Those of `key_ids` that are not active keys: revoked, or no key at all (one query)."""
    wanted = set(key_ids)
    if not wanted:
        return set()
    active = session.execute(
        select(col(ApiKey.id)).where(col(ApiKey.id).in_(wanted), col(ApiKey.revoked_at).is_(None))
    ).scalars()
    return wanted - set(active)


def _principal(session: Session, key_id: int, role: str, department_id: int | None, label: str) -> Principal:
    code = None
    if department_id is not None:
        code = session.execute(
            select(col(Department.code)).where(col(Department.id) == department_id)
        ).scalar()
    return Principal(key_id, role, department_id, code, label)


def audit(session: Session, actor: str, action: str, target_type: str, target_id: str, detail: str) -> None:
    """Append to the audit trail (same transaction as the change it records)."""
    session.execute(
        insert(AuditLog).values(
            at=utcnow(),
            actor=actor[:100],
            action=action,
            target_type=target_type,
            target_id=target_id,
            detail=detail,
        )
    )


# --- rate limits ---------------------------------------------------------------------------------
class TokenBucket:
    """Token buckets keyed by client or issuer: `rate_per_minute` requests per minute with a
    burst of the same size. In-process: with several workers each worker has its own
    buckets, so the effective limit is the setting × the number of workers.

    Memory is bounded on every call, not only on a refusal: the buckets are kept in least
    recently used order and, past `max_keys`, the least recently used one is dropped when a
    new key comes in. Trade-off: a dropped bucket starts full again the next time its key is
    seen. A refused client cannot use that to reset its own bucket cheaply: its bucket is
    the most recently used one each time it asks, so it is dropped only after `max_keys`
    other keys have asked since its last request — whoever controls that many keys (client
    addresses, API keys) already has that many full buckets to spend. The least recently used
    buckets are mostly idle ones, which have refilled anyway and lose nothing."""

    def __init__(self, rate_per_minute: int, max_keys: int = 100_000) -> None:
        self.capacity = float(max(rate_per_minute, 1))
        self.rate = self.capacity / 60.0
        self.max_keys = max(max_keys, 1)
        self._buckets: OrderedDict[Any, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """The number of buckets held (at most `max_keys`)."""
        return len(self._buckets)

    def take(self, key: Any, n: int = 1, now: float | None = None) -> float:
        """Take n tokens; returns 0 when allowed, else the seconds to wait (Retry-After)."""
        t = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.pop(key, (self.capacity, t))
            tokens = min(self.capacity, tokens + max(t - last, 0.0) * self.rate)
            allowed = tokens >= n
            self._buckets[key] = (tokens - n if allowed else tokens, t)  # now the most recently used
            while len(self._buckets) > self.max_keys:  # memory bound: drop the least recently used
                self._buckets.popitem(last=False)
            return 0.0 if allowed else (min(n, self.capacity) - tokens) / self.rate
