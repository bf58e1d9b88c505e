"""The SLA clock counts working days (Monday to Friday) in the vendor's time zone."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from deals.sla import add_working_days, is_overdue

SH = ZoneInfo("Asia/Shanghai")


def local(*args):
    return datetime(*args, tzinfo=SH)


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        (local(2026, 11, 23, 10, 0), 2, local(2026, 11, 25, 10, 0)),  # Monday -> Wednesday
        (local(2026, 11, 27, 15, 0), 2, local(2026, 12, 1, 15, 0)),  # Friday -> Tuesday
        (local(2026, 11, 26, 9, 0), 1, local(2026, 11, 27, 9, 0)),  # Thursday -> Friday
        (local(2026, 11, 28, 11, 0), 2, local(2026, 12, 2, 0, 0)),  # Saturday: Mon and Tue
        (local(2026, 11, 23, 10, 0), 5, local(2026, 11, 30, 10, 0)),  # a full week
    ],
)
def test_due_time_skips_weekends(start, days, due):
    assert add_working_days(start, days) == due.astimezone(UTC)


def test_due_time_is_in_utc_and_needs_aware_start():
    due = add_working_days(local(2026, 11, 23, 10, 0), 2)
    assert due.tzinfo == UTC
    with pytest.raises(ValueError):
        add_working_days(datetime(2026, 11, 23, 10, 0), 2)


def test_overdue_only_after_due_time():
    due = local(2026, 11, 25, 10, 0)
    assert not is_overdue(due, local(2026, 11, 25, 9, 59))
    assert is_overdue(due, local(2026, 11, 25, 10, 1))
    assert not is_overdue(None, local(2026, 11, 25, 10, 1))
