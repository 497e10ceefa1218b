"""Citizen ratings and their daily roll-ups.

A rating is one citizen's rating of one application/service interaction. No citizen
identifier is stored in clear: `pseudonym` is a keyed hash. Raw ratings never travel into
pandas; they are rolled up per object and day in SQL (`RatingDaily`), and rating-derived
indicators read the roll-ups.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import DateTime, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from egov.models import utcnow


class Rating(SQLModel, table=True):
    __tablename__ = "rating"
    __table_args__ = (
        UniqueConstraint("object_id", "transaction_ref", name="uq_rating_transaction"),
        Index("ix_rating_object_day", "object_id", "day"),
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
