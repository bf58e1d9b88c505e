"""The approval SLA clock: working days are Monday to Friday in the vendor's time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from clock import DEFAULT_TIMEZONE


def add_working_days(start: datetime, days: int, tz: str = DEFAULT_TIMEZONE) -> datetime:
    """The moment ``days`` working days after ``start`` (aware), in UTC.

    Counted on the vendor's local calendar: a deal submitted on Friday 15:00 with a two-day SLA
    is due Tuesday 15:00; one submitted on Saturday counts from Monday 00:00.
    """
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    local = start.astimezone(ZoneInfo(tz))
    if local.weekday() >= 5:  # weekend submissions start the clock on Monday morning
        local = (local + timedelta(days=7 - local.weekday())).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
    remaining = days
    while remaining > 0:
        local += timedelta(days=1)
        if local.weekday() < 5:
            remaining -= 1
    return local.astimezone(UTC)


def is_overdue(due: datetime | None, now: datetime) -> bool:
    return due is not None and now > due
