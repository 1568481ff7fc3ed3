"""``CallEvent``: one record per attempt of a gateway call, for metrics and logs.

The transport emits one event per attempt (and one per endpoint skipped because
its circuit is open) to the ``on_event`` callback of a client. Events carry no
request bodies, headers or secrets, only where, what, how long and how it ended.
A failing callback is logged and never breaks the call.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from ._errors import Category

__all__ = ["CallEvent", "EventHook", "emit"]

logger = logging.getLogger("phonepe_gateway")

CallName = Literal["oauth_token", "create_payment", "order_status", "refund", "refund_status"]
Outcome = Literal["ok", "gateway_error", "transport_error", "skipped_open_circuit"]


@dataclass(frozen=True, slots=True)
class CallEvent:
    """One attempt of one gateway call.

    ``endpoint`` is the base URL tried, ``path`` the API path (ids included, never a
    query with secrets), ``attempt`` counts from 1 across endpoints and retries,
    ``final`` marks the last attempt of the call, ``duration`` is in seconds.
    """

    call: str
    method: str
    endpoint: str
    path: str
    attempt: int
    final: bool
    status: int | None
    duration: float
    category: Category | None
    outcome: Outcome


EventHook = Callable[[CallEvent], None]


def emit(hook: EventHook | None, event: CallEvent) -> None:
    """Deliver ``event``; a broken hook is logged, never raised into the payment path."""
    if hook is None:
        return
    try:
        hook(event)
    except Exception:
        logger.exception("phonepe_gateway: on_event hook failed for %s", event.call)
