"""The local day: which day (in EGOV_TIMEZONE, default Macau) a rating, an offer or a case
deadline counts on."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from egov.settings import get_settings


def local_zone() -> ZoneInfo:
    return ZoneInfo(get_settings().timezone)


def local_day(moment: datetime | None = None) -> date:
    """The day (in EGOV_TIMEZONE, default Macau) a rating or an offer counts on."""
    return (moment or datetime.now(UTC)).astimezone(local_zone()).date()


def as_utc(value: datetime) -> datetime:
    """A stored timestamp with its zone: SQLite gives them back naive, and they are stored in
    UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
