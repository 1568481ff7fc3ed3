"""Template tags for monthly passes: this browser's passes, and the pass that made a stay free."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template

from .. import passes
from ..models import ParkingSession
from ..models_pass import MonthlyPass, PassUse

register = template.Library()


@register.simple_tag(takes_context=True)
def my_passes(context: dict[str, Any]) -> list[MonthlyPass]:
    request = context.get("request")
    if request is None:
        return []
    from ..views_pass import owned_pass_ids

    ids = owned_pass_ids(request)
    return list(MonthlyPass.objects.filter(pk__in=ids).select_related("lot")[:5]) if ids else []


@register.simple_tag
def pass_use(session: ParkingSession) -> PassUse | None:
    return passes.use_for(session)


@register.filter
def pass_badge(state: str) -> str:
    """CSS modifier for a pass state chip."""
    return {"ACTIVE": "ok", "SUSPENDED": "bad", "SETUP": "wait"}.get(state, "info")


@register.filter
def month_after(moment: datetime | None) -> datetime | None:
    return passes.add_month(moment) if moment is not None else None
