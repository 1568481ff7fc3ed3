"""The staff dashboard's numbers, read from the payments app's Payment and GatewayCallLog tables.

Three pictures, matching the seeds' success metrics: payment success rate, gateway latency
(p50/p95) and connection errors by category, each over time buckets of the chosen window.
Read-only: this module never writes anything.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from phonepe_gateway.django.models import GatewayCallLog, Payment

from .charts import Series, bar_chart, line_chart

#: window hours -> bucket minutes (about a dozen to two dozen bars)
BUCKETS = {1: 5, 6: 30, 24: 60, 168: 720}
ERROR_COLORS = {
    "CONNECTION_REFUSED": "#dc2626",
    "CONNECT_TIMEOUT": "#f97316",
    "READ_TIMEOUT": "#eab308",
    "CONNECTION_RESET": "#a855f7",
    "DNS_FAILURE": "#0ea5e9",
    "TLS_ERROR": "#14b8a6",
    "PROXY_ERROR": "#64748b",
    "PROTOCOL_ERROR": "#db2777",
}


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def _buckets(hours: int, now: datetime) -> tuple[datetime, timedelta, int]:
    size = timedelta(minutes=BUCKETS[hours])
    count = int(timedelta(hours=hours) / size)
    local_now = timezone.localtime(now)
    # Align to the bucket size so labels read as round times.
    minutes = local_now.hour * 60 + local_now.minute
    aligned = local_now.replace(second=0, microsecond=0) - timedelta(
        minutes=minutes % BUCKETS[hours] if BUCKETS[hours] < 1440 else 0
    )
    start = aligned - size * (count - 1)
    return start, size, count


def _label(moment: datetime, hours: int) -> str:
    local = timezone.localtime(moment)
    return local.strftime("%d %b %H:%M" if hours > 24 else "%H:%M")


STATE_COLORS = {
    "COMPLETED": "#16a34a",
    "FAILED": "#dc2626",
    "PENDING": "#f59e0b",
    "UNKNOWN": "#a855f7",
    "CREATED": "#94a3b8",
}


def default_window(now: datetime | None = None) -> int:
    """The smallest window that holds the last week's activity, so fresh data is not a dot."""
    now = now or timezone.now()
    week_ago = now - timedelta(hours=168)
    oldest = (
        Payment.objects.filter(created_at__gte=week_ago)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if oldest is None:
        return 24
    age = now - oldest
    return next((h for h in sorted(BUCKETS) if age < timedelta(hours=h)), 168)


def _mix(states: Counter[str]) -> list[dict[str, Any]]:
    total = sum(states.values())
    return [
        {
            "state": state,
            "count": states[state],
            "percent": f"{100 * states[state] / total:.1f}",
            "color": color,
        }
        for state, color in STATE_COLORS.items()
        if states[state]
    ]


def build(*, hours: int = 24, now: datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    start, size, count = _buckets(hours, now)
    labels = [_label(start + size * i, hours) for i in range(count)]

    def slot(moment: datetime) -> int | None:
        index = int((moment - start) / size)
        return index if 0 <= index < count else None

    completed, failed = [0] * count, [0] * count
    states: Counter[str] = Counter()
    for created, state in Payment.objects.filter(created_at__gte=start).values_list(
        "created_at", "state"
    ):
        states[state] += 1
        i = slot(created)
        if i is not None and state == "COMPLETED":
            completed[i] += 1
        elif i is not None and state == "FAILED":
            failed[i] += 1
    rate = [
        round(100 * c / (c + f), 1) if c + f else None
        for c, f in zip(completed, failed, strict=True)
    ]

    durations: list[list[float]] = [[] for _ in range(count)]
    errors: dict[str, list[float]] = defaultdict(lambda: [0.0] * count)
    calls = 0
    for created, duration, outcome, category in GatewayCallLog.objects.filter(
        created_at__gte=start
    ).values_list("created_at", "duration_ms", "outcome", "category"):
        i = slot(created)
        if i is None:
            continue
        calls += 1
        if duration is not None:
            durations[i].append(float(duration))
        if outcome == "transport_error":
            errors[category or "OTHER"][i] += 1
    all_durations = [d for bucket in durations for d in bucket]
    finals = states["COMPLETED"] + states["FAILED"]
    error_total = int(sum(sum(v) for v in errors.values()))

    return {
        "hours": hours,
        "windows": [(1, "1 h"), (6, "6 h"), (24, "24 h"), (168, "7 days")],
        "kpi_success": round(100 * states["COMPLETED"] / finals, 1) if finals else None,
        "kpi_p95": _percentile(all_durations, 0.95),
        "kpi_errors": error_total,
        "kpi_payments": sum(states.values()),
        "kpi_calls": calls,
        "mix": _mix(states),
        "success_chart": line_chart(
            "Payment success rate",
            labels,
            [Series("Completed / (completed + failed)", rate, "#16a34a")],
            unit="%",
            top=100,
            empty_message="No finished payments in this window",
        ),
        "latency_chart": line_chart(
            "Gateway latency",
            labels,
            [
                Series("p50", [_percentile(d, 0.5) for d in durations], "#6d28d9"),
                Series("p95", [_percentile(d, 0.95) for d in durations], "#f59e0b"),
            ],
            unit=" ms",
            empty_message="No gateway calls in this window",
        ),
        "errors_chart": bar_chart(
            "Connection errors",
            labels,
            [
                Series(name, values, ERROR_COLORS.get(name, "#475569"))
                for name, values in sorted(errors.items())
            ],
            empty_message="No connection errors in this window",
        ),
    }
