"""The tariff: grace period, started hours, daily cap, midnight and multi-day stays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from lots.tariff import Tariff, compute_fee

T = Tariff(grace_minutes=15, hourly_rate=4000, daily_cap=30000)
IST = ZoneInfo("Asia/Kolkata")
ENTRY = datetime(2026, 3, 10, 9, 0, tzinfo=IST)


def fee(**stay: float) -> int:
    return compute_fee(ENTRY, ENTRY + timedelta(**stay), T)


@pytest.mark.parametrize("minutes", [0, 1, 14, 15])
def test_fee_when_within_grace_then_free(minutes: int) -> None:
    assert fee(minutes=minutes) == 0


def test_fee_when_one_second_past_grace_then_first_hour_charged() -> None:
    assert fee(minutes=15, seconds=1) == 4000
    assert fee(minutes=15, milliseconds=1) == 4000  # exact, not rounded down to the second


@pytest.mark.parametrize(
    ("stay", "expected"),
    [
        (timedelta(0), 0),
        (timedelta(milliseconds=300), 2000),
        (timedelta(seconds=5), 2000),
        (timedelta(hours=1), 2000),
        (timedelta(hours=1, microseconds=1), 4000),
    ],
)
def test_fee_when_no_grace_period_then_the_first_hour_starts_at_once(
    stay: timedelta, expected: int
) -> None:
    """The demo's pay-at-once car park: leaving seconds after parking already costs an hour."""
    no_grace = Tariff(grace_minutes=0, hourly_rate=2000, daily_cap=10000)
    assert compute_fee(ENTRY, ENTRY + stay, no_grace) == expected


@pytest.mark.parametrize(
    ("minutes", "hours_charged"),
    [(16, 1), (60, 1), (61, 2), (119, 2), (120, 2), (121, 3), (6 * 60 + 1, 7)],
)
def test_fee_when_past_grace_then_every_started_hour_counts(
    minutes: int, hours_charged: int
) -> None:
    assert fee(minutes=minutes) == hours_charged * 4000


def test_fee_when_many_hours_in_a_day_then_capped_daily() -> None:
    assert fee(hours=7) == 28000
    assert fee(hours=7, minutes=1) == 30000  # 8 h would be 32000
    assert fee(hours=23, minutes=59) == 30000
    assert fee(hours=24) == 30000


def test_fee_when_stay_crosses_midnight_then_counted_from_entry_not_calendar() -> None:
    late = datetime(2026, 3, 10, 23, 30, tzinfo=IST)
    # 23:30 -> 01:45 is 2 h 15 min: three started hours, one 24 h period despite two dates.
    assert compute_fee(late, late + timedelta(hours=2, minutes=15), T) == 12000


def test_fee_when_several_days_then_cap_per_day_plus_capped_remainder() -> None:
    assert fee(days=1, minutes=30) == 30000 + 4000
    assert fee(days=2, hours=3) == 2 * 30000 + 3 * 4000
    assert fee(days=3, hours=20) == 3 * 30000 + 30000


def test_fee_when_cap_above_a_day_of_hours_then_full_day_costs_24_hours() -> None:
    cheap = Tariff(grace_minutes=0, hourly_rate=100, daily_cap=10000)
    assert compute_fee(ENTRY, ENTRY + timedelta(days=2), cheap) == 2 * 2400


def test_fee_when_times_in_different_zones_then_same_instant_same_fee() -> None:
    utc_exit = (ENTRY + timedelta(hours=2, minutes=5)).astimezone(UTC)
    assert compute_fee(ENTRY, utc_exit, T) == 3 * 4000


def test_fee_when_exit_before_entry_then_refused() -> None:
    with pytest.raises(ValueError, match="before entry"):
        compute_fee(ENTRY, ENTRY - timedelta(seconds=1), T)


def test_fee_when_naive_datetime_then_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        compute_fee(ENTRY.replace(tzinfo=None), ENTRY.replace(tzinfo=None), T)


def test_tariff_when_negative_then_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        Tariff(grace_minutes=-1, hourly_rate=100, daily_cap=100)
