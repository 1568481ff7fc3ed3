"""Calendar arithmetic of mandate schedules and the ids of their debits (pure, no I/O).

Period ``n`` (1, 2, ...) of a mandate falls due at ``first + (n - 1)`` frequency steps,
always computed from the first due date, so months never drift (31 Jan, 28 Feb, 31 Mar).
A debit's merchant order id is derived from the mandate, the period and the attempt:
every worker, every retry and every restart names the same order at the gateway, which
never debits one order twice.
"""

from __future__ import annotations

import calendar
import hashlib
from datetime import datetime, timedelta
from typing import Final

__all__ = ["FREQUENCIES", "add_months", "debit_order_id", "period_due"]

#: frequency -> (months, days) per step; ON_DEMAND has no schedule
_STEPS: Final[dict[str, tuple[int, int]]] = {
    "DAILY": (0, 1),
    "WEEKLY": (0, 7),
    "FORTNIGHTLY": (0, 14),
    "MONTHLY": (1, 0),
    "BIMONTHLY": (2, 0),
    "QUARTERLY": (3, 0),
    "HALFYEARLY": (6, 0),
    "YEARLY": (12, 0),
}
FREQUENCIES: Final[tuple[str, ...]] = (*_STEPS, "ON_DEMAND")


def add_months(moment: datetime, months: int) -> datetime:
    """``moment`` ``months`` calendar months later, the day clamped to the month's end."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def period_due(first: datetime, frequency: str, period: int) -> datetime:
    """When period ``period`` (1-based) of a ``frequency`` schedule starting at ``first``
    falls due. ValueError for ON_DEMAND or an unknown frequency."""
    if period < 1:
        raise ValueError("periods start at 1")
    try:
        months, days = _STEPS[frequency]
    except KeyError:
        raise ValueError(f"{frequency!r} has no schedule") from None
    steps = period - 1
    return add_months(first, months * steps) + timedelta(days=days * steps)


def debit_order_id(merchant_subscription_id: str, period: int, attempt: int = 1) -> str:
    """The merchant order id of a mandate's debit: ``SD<hash>-<period>[-R<attempt>]``.

    At most 2 + 24 + 1 + 10 + 4 characters: within PhonePe's 63, letters, digits and ``-``.
    """
    digest = hashlib.sha256(merchant_subscription_id.encode()).hexdigest()[:24]
    suffix = f"-R{attempt}" if attempt > 1 else ""
    return f"SD{digest}-{period}{suffix}"
