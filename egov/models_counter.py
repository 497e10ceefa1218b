"""Tables of the counter channel (issue 17 point 2): the rated subjects of a rating token — the
window (counter number) and the staff member who served — and the counter kiosks, tablets at a
service counter registered as devices with their own credential.

They sit beside egov.models and are registered with the same metadata (egov.db imports this
module), so `egov db init` creates them on an existing database too. A subject belongs to a
token, not to a rating: the rating made with the token is found by the token's object and
transaction (both unique), so the rating paths write nothing new and behave as before.

Privacy: `staff_code` holds only the department's own staff code (a code with a digit, never a
name; surveys.subjects checks it); it is never shown on a public page or in an export, its
figures go only to the department's own keys above the minimum count, and
surveys.privacy.purge_ratings deletes the subjects with the tokens.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index
from sqlmodel import Field, SQLModel

from egov.models import utcnow


class KioskDevice(SQLModel, table=True):
    """A counter kiosk: a tablet at a service counter of `object_id`, optionally at one window.
    Its credential is shown once; only its SHA-256 is stored. It may read the tickets queued for
    it and nothing else; revoking it (`revoked_at`) stops it at once."""

    __tablename__ = "kiosk_device"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=40)
    object_id: int = Field(foreign_key="assessed_object.id", index=True)
    window_code: str | None = Field(default=None, max_length=20)
    label: str = Field(default="", max_length=100)
    prefix: str = Field(max_length=16)
    key_hash: str = Field(unique=True, max_length=64)
    created_by: str = Field(default="", max_length=60)
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    revoked_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class RatingSubject(SQLModel, table=True):
    """What a token's rating rates besides its object: the window and/or the staff member (the
    department's staff code), and the kiosk that shows the ticket. `kiosk_state`: `queued`
    (waiting to be shown), `dismissed` (the kiosk went back to waiting without a rating), or
    empty (not for a kiosk)."""

    __tablename__ = "rating_subject"
    __table_args__ = (Index("ix_rating_subject_kiosk", "kiosk_id", "kiosk_state"),)

    # the token's id, with no foreign key: a deployment re-keys rating_token (its primary key
    # becomes (object_id, id) when it is partitioned or distributed: deploy/postgresql/), which a
    # key on `id` alone would forbid; the rows go with their tokens (egov ratings purge, the demo)
    token_id: str = Field(primary_key=True, max_length=32)
    window_code: str | None = Field(default=None, max_length=20)
    staff_code: str | None = Field(default=None, max_length=20)
    kiosk_id: int | None = Field(default=None, foreign_key="kiosk_device.id")
    kiosk_state: str = Field(default="", max_length=10)
    queued_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
