"""Tables of the service-item catalogue (事項, issue 17 point 1): the public services a citizen
rates, each owned by a department and offered on channels through assessed objects, and the
daily roll-up of counted ratings by service item, object and channel.

They sit beside egov.models (the kernel's tables) and are registered with the same metadata, so
`egov db init` creates them (egov.db imports this module). A rating or a token names its
service item by `service_id` (egov.models `Rating`, `RatingToken`; nullable: ratings without a
service item count per object only). The owner of a service item is read from the catalogue
when figures are computed, so a service moved to another bureau takes its history along (as an
object of the register does).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import DateTime, Index
from sqlmodel import Field, SQLModel

from egov.models import utcnow

# The channels a service item can be offered on (GB/T 39734-2020 好差評: PC web, mobile app,
# counter, self-service kiosk, hotline). A rating's own channel is one of surveys.schemas.Channel.
CHANNELS = ("app", "web", "counter", "kiosk", "hotline")


class ServiceItem(SQLModel, table=True):
    """A public service (事項): code, trilingual name, owning department, the channels it is
    offered on (comma-separated codes of CHANNELS) and whether it is active (an inactive item
    gets no new rating tokens; its ratings stay). Edited in place by `egov import services`."""

    __tablename__ = "service_item"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=50)
    name_zh: str = Field(default="", max_length=300)
    name_pt: str = Field(default="", max_length=300)
    name_en: str = Field(default="", max_length=300)
    department_id: int = Field(foreign_key="department.id", index=True)
    channels: str = Field(default="", max_length=100)
    active: bool = Field(default=True)
    note: str = Field(default="", max_length=300)
    source: str = Field(default="", max_length=300)  # the file it was last imported from
    updated_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class ServiceObject(SQLModel, table=True):
    """An assessed object (an app, a web site, later a counter) a service item is offered
    through. A service item without rows here is offered through its owner's own objects."""

    __tablename__ = "service_object"

    service_id: int = Field(foreign_key="service_item.id", primary_key=True)
    object_id: int = Field(foreign_key="assessed_object.id", primary_key=True)


class RatingServiceDaily(SQLModel, table=True):
    """Roll-up of counted (unflagged) ratings that name a service item, per service item,
    object, rating channel and day, by level; kept in the rating's transaction like
    `rating_daily` and rebuilt with it (surveys.rollup.rebuild_rollups)."""

    __tablename__ = "rating_service_daily"
    __table_args__ = (Index("ix_rating_service_daily_day", "day"),)

    service_id: int = Field(foreign_key="service_item.id", primary_key=True)
    object_id: int = Field(foreign_key="assessed_object.id", primary_key=True)
    channel: str = Field(primary_key=True, max_length=10)
    day: date = Field(primary_key=True)
    n1: int = 0
    n2: int = 0
    n3: int = 0
    n4: int = 0
    n5: int = 0
