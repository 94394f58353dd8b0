"""Time helpers: aware UTC in the database, Europe/London on screen."""
from calendar import monthrange
from datetime import date, datetime, UTC
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator

LONDON = ZoneInfo("Europe/London")


def utcnow() -> datetime:
    return datetime.now(UTC)


def today_london() -> date:
    return datetime.now(LONDON).date()


def add_months(day: date, months: int) -> date:
    """The same day `months` later (or earlier), clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


class UTCDateTime(TypeDecorator):
    """A timestamp stored as UTC and always handed back timezone-aware.

    SQLite has no time zones, so without this a value read back would be naive and
    comparisons with aware datetimes would fail.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def london(value: datetime | None) -> datetime | None:
    return value.astimezone(LONDON) if value else None


def format_datetime(value: datetime | None, fmt: str = "%d %b %Y %H:%M") -> str:
    return london(value).strftime(fmt) if value else ""


def format_date(value: date | datetime | None, fmt: str = "%d %b %Y") -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):  # an ISO date kept in JSON (a case's evidence snapshot)
        try:
            value = date.fromisoformat(value[:10])
        except ValueError:
            return value
    if isinstance(value, datetime):
        value = london(value)
    return value.strftime(fmt)
