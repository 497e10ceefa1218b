"""Citizen ratings and their daily roll-ups.

A rating is one citizen's rating of one application/service interaction. No citizen
identifier is stored in clear: `pseudonym` is a keyed hash. Raw ratings never travel into
pandas; they are rolled up per object and day in SQL (`RatingDaily`), and rating-derived
indicators read the roll-ups.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, DateTime, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from egov.models import utcnow


class Rating(SQLModel, table=True):
    __tablename__ = "rating"
    __table_args__ = (
        UniqueConstraint("object_id", "transaction_ref", name="uq_rating_transaction"),
        Index("ix_rating_object_day", "object_id", "day"),
        Index("ix_rating_object_created", "object_id", "created_at"),
        Index("ix_rating_issuer_created", "issuer_key_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    object_id: int = Field(foreign_key="assessed_object.id")
    level: int = Field(ge=1, le=5)  # 5 非常滿意 … 1 非常不滿意; 1–2 are bad ratings
    drivers: str = Field(default="", max_length=200)  # comma-separated driver codes
    comment: str = Field(default="", max_length=1000)
    channel: str = Field(default="app", max_length=10)  # app | web | kiosk | counter
    language: str = Field(default="zh-Hant", max_length=8)
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    day: date
    pseudonym: str = Field(default="", max_length=64)  # keyed hash, never the identifier
    transaction_ref: str = Field(max_length=80)
    flags: str = Field(default="", max_length=100)  # moderation flags; flagged ratings do not count
    # Added by the rating API (issue 5). drivers: "+code" went well, "-code" could be better.
    question_version: str = Field(default="", max_length=20)
    issuer_key_id: int | None = Field(default=None)  # the department key that issued the token
    ip: str | None = Field(default=None, max_length=45)  # only when EGOV_STORE_IP is on
    amended_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class RatingDaily(SQLModel, table=True):
    """Roll-up of counted (unflagged) ratings per object and day, by level."""

    __tablename__ = "rating_daily"

    object_id: int = Field(foreign_key="assessed_object.id", primary_key=True)
    day: date = Field(primary_key=True)
    n1: int = 0
    n2: int = 0
    n3: int = 0
    n4: int = 0
    n5: int = 0


class OfferDaily(SQLModel, table=True):
    """Transactions offered a rating per object and day (the denominator of the response
    rate): counted when a rating token is issued for a completed transaction."""

    __tablename__ = "offer_daily"

    object_id: int = Field(foreign_key="assessed_object.id", primary_key=True)
    day: date = Field(primary_key=True)
    n_offered: int = 0


# --- the rating API (issue 5) ------------------------------------------------------------------
class ApiKey(SQLModel, table=True):
    """An API key: only the SHA-256 of the key is stored; `prefix` identifies it in lists."""

    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    prefix: str = Field(max_length=16)
    key_hash: str = Field(max_length=64, unique=True)
    role: str = Field(max_length=12)  # department | assessor | admin
    department_id: int | None = Field(default=None, foreign_key="department.id")
    label: str = Field(default="", max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    revoked_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class AppSecret(SQLModel, table=True):
    """Server secrets generated once (when EGOV_SECRET_KEY is not set)."""

    __tablename__ = "app_secret"

    name: str = Field(primary_key=True, max_length=40)
    value: str = Field(max_length=128)


class RatingToken(SQLModel, table=True):
    """A single-use rating token issued for one completed transaction of one object."""

    __tablename__ = "rating_token"
    __table_args__ = (UniqueConstraint("object_id", "transaction_ref", name="uq_token_transaction"),)

    id: str = Field(primary_key=True, max_length=32)  # the token's random id (jti)
    object_id: int = Field(foreign_key="assessed_object.id")
    transaction_ref: str = Field(max_length=80)
    issuer_key_id: int = Field(foreign_key="api_key.id")
    pseudonym: str = Field(default="", max_length=64)  # keyed hash of the citizen id, if given
    issued_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    expires_at: datetime = Field(sa_type=DateTime(timezone=True))
    state: str = Field(default="issued", max_length=10)  # issued | used | discarded
    body_hash: str = Field(default="", max_length=64)  # of the first accepted submission
    amend_hash: str = Field(default="", max_length=64)  # of the one follow-up, if any
    response_status: str = Field(default="", max_length=10)  # accepted | flagged (first answer)


class RatingCase(SQLModel, table=True):
    """The follow-up case of a bad rating, owned by the rated object's department."""

    __tablename__ = "rating_case"
    __table_args__ = (Index("ix_case_department_day", "department_id", "opened_day"),)

    id: int | None = Field(default=None, primary_key=True)
    rating_id: int = Field(foreign_key="rating.id", unique=True)
    object_id: int = Field(foreign_key="assessed_object.id")
    department_id: int = Field(foreign_key="department.id")
    state: str = Field(default="open", max_length=20)
    opened_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    opened_day: date
    rectify_due: date
    rectified_day: date | None = None
    return_visit_due: date | None = None
    return_visit_day: date | None = None
    appealed_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    appeal_outcome: str = Field(default="", max_length=10)  # "" | upheld | removed
    closed_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class AuditLog(SQLModel, table=True):
    """Who did what: flag reviews, rating removals, case transitions, keys, purges."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_target", "target_type", "target_id"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    actor: str = Field(max_length=100)
    action: str = Field(max_length=40)
    target_type: str = Field(max_length=20)
    target_id: str = Field(max_length=40)
    detail: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


class ReportSession(SQLModel, table=True):
    """A browser session of the report pages: only the SHA-256 of the session id is stored."""

    __tablename__ = "report_session"

    id_hash: str = Field(primary_key=True, max_length=64)
    key_id: int = Field(foreign_key="api_key.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    expires_at: datetime = Field(sa_type=DateTime(timezone=True))
