"""The parking tariff: a pure function from (entry, exit, tariff) to a fee in paise.

Rules, in order:

1. A stay no longer than the grace period is free (a lot may have none: then only a
   stay of no time at all is).
2. Otherwise the whole stay is charged (grace is not deducted), by the started hour.
3. Each 24-hour period counted from entry costs at most the daily cap; a stay over
   several days pays the cap per full day plus the capped remainder. Periods run from
   the entry time, so crossing midnight changes nothing.

Amounts are integer paise. This module never reads the clock or the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = ["Tariff", "compute_fee"]

_HOUR = timedelta(hours=1)
_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Tariff:
    grace_minutes: int
    hourly_rate: int  # paise per started hour
    daily_cap: int  # paise per 24 hours from entry

    def __post_init__(self) -> None:
        if self.grace_minutes < 0 or self.hourly_rate < 0 or self.daily_cap < 0:
            raise ValueError("Tariff values cannot be negative.")


def _started_hours(stay: timedelta) -> int:
    return -(-stay // _HOUR)


def compute_fee(entry: datetime, exit: datetime, tariff: Tariff) -> int:
    """The fee in paise for a stay from ``entry`` to ``exit`` (both timezone-aware).

    Durations are exact (to the microsecond): with no grace period even a stay of a
    moment has started its first hour.
    """
    if entry.tzinfo is None or exit.tzinfo is None:
        raise ValueError("entry and exit must be timezone-aware")
    stay = exit - entry
    if stay < timedelta(0):
        raise ValueError("exit is before entry")
    if stay <= timedelta(minutes=tariff.grace_minutes):
        return 0
    full_days, remainder = divmod(stay, _DAY)
    day_fee = min(24 * tariff.hourly_rate, tariff.daily_cap)
    remainder_fee = min(_started_hours(remainder) * tariff.hourly_rate, tariff.daily_cap)
    return full_days * day_fee + remainder_fee
