"""Template filters: rupees from paise, plates for people, state badges, failure reasons."""

from __future__ import annotations

from django import template

from ..failures import why_failed
from ..plates import display_plate

register = template.Library()


@register.filter
def rupees(paise: int | None) -> str:
    if paise is None:
        return "—"
    rupees_, rest = divmod(int(paise), 100)
    return f"₹{rupees_:,}" if rest == 0 else f"₹{rupees_:,}.{rest:02d}"


@register.filter
def failure_reason(code: str | None) -> str:
    """Why PhonePe did not take the money ("the UPI PIN was wrong"), or ""."""
    return why_failed(code)


@register.filter
def plate(canonical: str) -> str:
    return display_plate(canonical)


@register.filter
def badge(state: str) -> str:
    """CSS modifier for a state chip."""
    good = {"COMPLETED", "PAID", "FREE", "CONFIRMED", "ENTERED"}
    bad = {"FAILED", "EXPIRED"}
    wait = {"PENDING", "CREATED", "UNKNOWN", "PAYMENT_DUE", "AWAITING_PAYMENT"}
    if state in good:
        return "ok"
    if state in bad:
        return "bad"
    if state in wait:
        return "wait"
    return "info"


@register.filter
def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    minutes = int(seconds // 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min"


@register.filter
def mmss(seconds: int | None) -> str:
    """A countdown as m:ss (h:mm:ss from an hour on)."""
    if seconds is None:
        return "—"
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
