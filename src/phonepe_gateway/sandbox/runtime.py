"""One running sandbox: config, clock, state, faults and webhook sender, plus the ticker.

The ticker is a background task on the server's event loop that applies due expiries
and settlements and sends due webhooks; it sleeps until the next due time (in real
seconds, via the clock) or until woken by a clock advance or a new event. Without a
running ticker (e.g. under ``httpx.ASGITransport`` without lifespan) reads still see
expiries and settlements (the state applies them lazily) and :meth:`Sandbox.run_pending`
does the rest on demand.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

import httpx

from .clock import SandboxClock
from .config import SandboxConfig
from .faults import FaultRules
from .state import SandboxState
from .subscriptions import Subscriptions
from .webhooks import Delivery, WebhookSender

if TYPE_CHECKING:
    from starlette.requests import Request

    from .models import Order

__all__ = ["Sandbox"]

log = logging.getLogger("phonepe_gateway.sandbox")

_MAX_SLEEP = 1.0


class Sandbox:
    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.clock = SandboxClock(config.clock_speed)
        self.state = SandboxState(
            self.clock, seed=config.seed, refund_settlement_delay=config.refund_settlement_delay
        )
        self.faults = FaultRules(seed=config.seed)
        self.webhooks = WebhookSender(config, self.clock, wake=self.wake)
        #: UPI AutoPay mandates (their orders live in ``state``; reset with it).
        self.subscriptions = Subscriptions(
            self.state,
            merchant_id=config.merchant_id,
            payee_vpa=config.payee_vpa,
            payee_name=config.merchant_name,
        )
        self.state.listeners.append(self.webhooks.enqueue)
        self.clock.on_advance(self.wake)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake_event: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._sending: set[asyncio.Task[None]] = set()
        self._client: httpx.AsyncClient | None = None
        #: Where webhooks go over the wire; tests may swap in ``httpx.MockTransport``.
        self.webhook_transport: httpx.AsyncBaseTransport | None = None

    # -- public helpers -----------------------------------------------------------------

    def checkout_url(self, request: Request, order: Order) -> str:
        base = self.config.public_url or str(request.base_url)
        return f"{base.rstrip('/')}/transact/{order.order_id}"

    def wake(self) -> None:
        """Make the ticker look at due work now (safe from any thread)."""
        loop, event = self._loop, self._wake_event
        if loop is not None and event is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(event.set)

    def reset(self) -> None:
        self.state.reset()
        self.faults.clear()
        self.webhooks.reset()
        self.clock.reset()

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake_event = asyncio.Event()
        self._client = httpx.AsyncClient(trust_env=False, transport=self.webhook_transport)
        self._task = asyncio.create_task(self._tick_forever(), name="phonepe-sandbox-ticker")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for task in list(self._sending):
            task.cancel()
        if self._sending:
            await asyncio.gather(*self._sending, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
        self._task = self._client = self._loop = self._wake_event = None

    async def run_pending(self) -> None:
        """Apply due state changes and send due webhooks now, waiting for the sends."""
        self.state.run_due()
        due = self.webhooks.take_due()
        if not due:
            return
        async with httpx.AsyncClient(trust_env=False, transport=self.webhook_transport) as client:
            await asyncio.gather(*(self.webhooks.send(d, client) for d in due))

    # -- the ticker -----------------------------------------------------------------------

    async def _tick_forever(self) -> None:
        assert self._wake_event is not None
        while True:
            try:
                self._tick()
            except Exception:  # keep ticking: one bad record must not stop the sandbox
                log.exception("sandbox ticker failed")
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a
            # cancellation that lands as the wake event fires, and the ticker then outlives
            # stop() and the event loop's shutdown (a test run hung on it).
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._sleep_for()):
                    await self._wake_event.wait()
            self._wake_event.clear()

    def _tick(self) -> None:
        self.state.run_due()
        for delivery in self.webhooks.take_due():
            task = asyncio.create_task(self._send(delivery))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)

    async def _send(self, delivery: Delivery) -> None:
        assert self._client is not None
        try:
            await self.webhooks.send(delivery, self._client)
        finally:
            self.wake()  # a retry may now be scheduled

    def _sleep_for(self) -> float:
        times = [t for t in (self.state.next_due(), self.webhooks.next_due()) if t is not None]
        if not times:
            return _MAX_SLEEP
        return min(_MAX_SLEEP, max(0.001, self.clock.real_delay(min(times))))
