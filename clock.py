"""One notion of "now" and "today" for the business: the vendor's time zone.

The vendor works on its own calendar (Asia/Shanghai by default, ``VENDOR_TIMEZONE`` in the
config): a period, a pro-rata share, an SLA day or a protection date is counted on that calendar,
whatever zone the server runs in. Application code asks these functions, never ``date.today()``
or a naive ``datetime.now()``; tests move the clock with time-machine.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

DEFAULT_TIMEZONE = "Asia/Shanghai"


def vendor_tz() -> ZoneInfo:
    """The vendor's time zone: the app's ``VENDOR_TIMEZONE`` setting, else Asia/Shanghai."""
    name = DEFAULT_TIMEZONE
    if has_app_context():
        name = current_app.config.get("VENDOR_TIMEZONE") or DEFAULT_TIMEZONE
    return ZoneInfo(name)


def utcnow() -> datetime:
    """The current moment, timezone-aware UTC (what the database stores)."""
    return datetime.now(UTC)


def vendor_now() -> datetime:
    """The current moment on the vendor's clock (aware)."""
    return datetime.now(vendor_tz())


def vendor_today() -> date:
    """Today on the vendor's calendar: the one "today" of periods, pro-rata and protection."""
    return vendor_now().date()


def vendor_date(moment: datetime) -> date:
    """The vendor's calendar day of an aware moment."""
    return moment.astimezone(vendor_tz()).date()
