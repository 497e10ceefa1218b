"""The server secret, signed single-use rating tokens and citizen pseudonyms (API keys,
principals, the audit trail and rate limits are the kernel's: `egov.auth`).

- The server secret is EGOV_SECRET_KEY, else a random secret generated once and stored in
  the database (first writer wins, so several workers agree on it). After a rotation,
  EGOV_PREVIOUS_SECRET_KEY names the old secret: tokens it signed still verify until they
  expire; nothing new is signed or keyed with it.
- A rating token is `v1.<payload>.<signature>`: base64url JSON {j: token id, o: object id,
  k: issuer key id, e: expiry} signed with HMAC-SHA256 (RFC 2104) under a key derived from
  the secret. The database row of the token id makes it single-use and binds it to the
  transaction. Only the canonical text is accepted (base64url without padding, exactly as
  signed): a token has one spelling, so appended or inserted characters are refused.
- Citizen identifiers are never stored: only HMAC-SHA256(secret, id), a keyed hash.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

import orjson
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from egov.models import AppSecret, utcnow
from egov.settings import get_settings

# --- the server secret ---------------------------------------------------------------------
_secrets: dict[str, bytes] = {}
_secrets_lock = threading.Lock()


def server_secret(session: Session) -> bytes:
    """EGOV_SECRET_KEY, else the secret stored in the database (created once)."""
    configured = get_settings().secret_key
    if configured:
        return configured.encode("utf-8")
    url = str(session.get_bind().engine.url)
    with _secrets_lock:
        if url in _secrets:
            return _secrets[url]
    row = session.execute(select(col(AppSecret.value)).where(col(AppSecret.name) == "signing")).scalar()
    if row is None:
        value = secrets.token_hex(32)
        try:
            with session.begin_nested():
                session.execute(insert(AppSecret).values(name="signing", value=value))
        except IntegrityError:  # another worker was first
            pass
        row = session.execute(
            select(col(AppSecret.value)).where(col(AppSecret.name) == "signing")
        ).scalar_one()
    secret = bytes.fromhex(str(row))
    with _secrets_lock:
        _secrets[url] = secret
    return secret


@lru_cache(maxsize=4)
def secret_bytes(value: str) -> bytes:
    """A secret as written in a setting: `hex:<digits>` (as app_secret stores it), else its UTF-8."""
    return bytes.fromhex(value[4:]) if value.startswith("hex:") else value.encode("utf-8")


def previous_secret() -> bytes | None:
    """EGOV_PREVIOUS_SECRET_KEY (the secret before the last rotation), or None."""
    value = get_settings().previous_secret_key
    return secret_bytes(value) if value else None


def forget_secrets() -> None:
    """Drop cached secrets (tests that switch databases)."""
    with _secrets_lock:
        _secrets.clear()


@lru_cache(maxsize=16)
def derived_key(secret: bytes, purpose: str) -> bytes:
    """One key per purpose (token signing, pseudonyms), derived with HMAC-SHA256."""
    return hmac.new(secret, purpose.encode(), hashlib.sha256).digest()


def pseudonym(secret: bytes, citizen_id: str) -> str:
    """A keyed hash of a citizen identifier; the identifier itself is never stored."""
    if not citizen_id:
        return ""
    return hmac.new(derived_key(secret, "pseudonym"), citizen_id.encode(), hashlib.sha256).hexdigest()


# --- rating tokens ---------------------------------------------------------------------------
def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")
_B64URL = re.compile(r"[A-Za-z0-9_-]*")


def _unb64(text: str) -> bytes:
    """base64url without padding, decoded, in its canonical form only: the text must be
    exactly what `_b64` writes for the bytes it decodes to (no padding, no other character,
    no stray bits in the last character), so no second spelling of a token exists. Raises
    ValueError otherwise."""
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not canonical base64url")
    data = text.encode("ascii").translate(_FROM_URLSAFE)
    decoded = binascii.a2b_base64(data + b"=" * (-len(data) % 4), strict_mode=True)
    if _b64(decoded) != text:  # e.g. a last character carrying bits the bytes do not have
        raise ValueError("not canonical base64url")
    return decoded


@dataclass(frozen=True)
class TokenClaims:
    token_id: str
    object_id: int
    issuer_key_id: int
    expires: int  # epoch seconds


def sign_token(secret: bytes, claims: TokenClaims) -> str:
    payload = _b64(
        json.dumps(
            {"j": claims.token_id, "o": claims.object_id, "k": claims.issuer_key_id, "e": claims.expires},
            separators=(",", ":"),
        ).encode()
    )
    sig = hmac.new(derived_key(secret, "rating-token"), f"v1.{payload}".encode(), hashlib.sha256).digest()
    return f"v1.{payload}.{_b64(sig)}"


class TokenError(Exception):
    """An invalid (401) or expired (410) rating token."""

    def __init__(self, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.status = status


def verify_token(secret: bytes, token: str, now: float | None = None) -> TokenClaims:
    """Check the signature and expiry of a rating token (constant-time comparison). Only its
    canonical text is accepted: both parts exactly as `sign_token` writes them, so a token
    has one spelling. A token signed with the previous secret (EGOV_PREVIOUS_SECRET_KEY,
    during a rotation) is valid too."""
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != "v1":
        raise TokenError("malformed rating token")
    try:
        payload, given = _unb64(parts[1]), _unb64(parts[2])
    except ValueError as exc:
        raise TokenError("malformed rating token: not its canonical base64url text") from exc
    signed = f"v1.{parts[1]}".encode()
    if not hmac.compare_digest(hmac.digest(derived_key(secret, "rating-token"), signed, "sha256"), given):
        old = previous_secret()
        if old is None or not hmac.compare_digest(
            hmac.digest(derived_key(old, "rating-token"), signed, "sha256"), given
        ):
            raise TokenError("rating token signature is not valid")
    try:
        data = orjson.loads(payload)
        claims = TokenClaims(str(data["j"]), int(data["o"]), int(data["k"]), int(data["e"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise TokenError("malformed rating token") from exc
    if claims.expires < (now if now is not None else time.time()):
        raise TokenError("rating token has expired", status=410)
    return claims


def new_token_id() -> str:
    return secrets.token_hex(16)


def token_expiry(days: int, issued: datetime | None = None) -> tuple[datetime, int]:
    """The expiry of a token issued at `issued` (default: now), as a time and a timestamp."""
    exp = (issued or utcnow()) + timedelta(days=days)
    return exp, int(exp.timestamp())
