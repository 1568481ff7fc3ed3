"""The sandbox's memory: orders, refunds and tokens, behind one lock.

Every transition happens here and only moves forward: an order PENDING -> COMPLETED |
FAILED (a failed attempt leaves it PENDING unless retries are disabled), a refund
PENDING -> CONFIRMED -> COMPLETED | FAILED.
Time-driven transitions (order expiry, refund settlement) are applied both by the
background ticker (``run_due``) and lazily on every read, so an answer is never stale
even when the ticker is late. Each transition emits an :class:`Event` to the
listeners (the webhook sender). This module never does I/O.
"""

from __future__ import annotations

import base64
import copy
import heapq
import json
import random
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, Literal

from .clock import SandboxClock
from .failures import EXPIRED, Failure
from .models import Attempt, Event, Order, Refund

__all__ = ["SandboxState", "StateError"]

Generation = Literal[1, 2]


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


_JWT_HEADER = _b64url(b'{"alg":"HS256","typ":"JWT"}')


class StateError(Exception):
    """A request the gateway refuses; ``code`` and ``http_status`` are PhonePe's."""

    def __init__(self, code: str, message: str, http_status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.http_status = http_status


def _reused_id() -> StateError:
    """Generation 2's answer to a reused merchantOrderId, as PhonePe's pay page publishes
    it: a plain 400 that does not name the duplicate (corpus sample
    ``v2-pay-duplicate-merchant-order-id-docs``). Nothing is published for a reused
    merchantRefundId; the sandbox answers it the same way."""
    return StateError("BAD_REQUEST", "Please check the inputs you have provided.")


class SandboxState:
    def __init__(
        self, clock: SandboxClock, *, seed: int | None = None, refund_settlement_delay: float = 5.0
    ) -> None:
        self.clock = clock
        self.refund_settlement_delay = refund_settlement_delay
        self.lock = threading.RLock()
        self._seed = seed
        self._rng = random.Random(seed)  # noqa: S311 -- seeded on purpose: --seed replays a run
        self.orders: dict[str, Order] = {}
        self.refunds: dict[str, Refund] = {}
        self._by_order_id: dict[str, str] = {}
        self._by_transaction: dict[str, str] = {}
        self._tokens: dict[str, float] = {}
        self._due: list[tuple[float, int, str, str]] = []
        self._seq = 0
        self.listeners: list[Callable[[Event], None]] = []
        #: Extra time-driven work by kind (UPI AutoPay: ``subscriptions.py``): called with
        #: (key, now) under the lock from ``run_due``; returns whether anything changed.
        self.due_handlers: dict[str, Callable[[str, float], bool]] = {}
        #: Called (under the lock) by ``reset`` so extensions forget their records too.
        self.reset_hooks: list[Callable[[], None]] = []

    # -- ids and tokens ----------------------------------------------------------------

    def _new_id(self, prefix: str) -> str:
        stamp = time.strftime("%y%m%d%H%M%S", time.gmtime(self.clock.now()))
        return f"{prefix}{stamp}{self._rng.randrange(10**9, 10**10)}"

    def random_digits(self, n: int) -> str:
        with self.lock:
            return "".join(str(self._rng.randrange(10)) for _ in range(n))

    def random_uuid(self) -> str:
        with self.lock:
            return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def issue_token(self, ttl: float, merchant_id: str) -> tuple[str, float, float]:
        """A new access token: (token, issued_at, expires_at) in sandbox seconds.

        Shaped like PhonePe's: a JWT whose payload carries ``expiresOn`` (epoch ms)
        and ``merchantId``. The signature is random: only this sandbox reads it.
        """
        with self.lock:
            now = self.clock.now()
            payload = {"expiresOn": int((now + ttl) * 1000), "merchantId": merchant_id}
            signature = self._rng.getrandbits(256).to_bytes(32, "big")
            token = ".".join(
                (
                    _JWT_HEADER,
                    _b64url(json.dumps(payload, separators=(",", ":")).encode()),
                    _b64url(signature),
                )
            )
            if len(self._tokens) > 10_000:
                self._tokens = {t: e for t, e in self._tokens.items() if e > now}
            self._tokens[token] = now + ttl
            return token, now, now + ttl

    def token_valid(self, token: str) -> bool:
        expires = self._tokens.get(token)
        return expires is not None and expires > self.clock.now()

    # -- orders ---------------------------------------------------------------------------

    def create_order(
        self,
        *,
        merchant_order_id: str,
        generation: Generation,
        merchant_id: str,
        amount: int,
        expire_after: float,
        **extra: object,
    ) -> Order:
        with self.lock:
            if merchant_order_id in self.orders or merchant_order_id in self.refunds:
                if generation == 2:
                    raise _reused_id()
                # Nothing is published for generation 1: a descriptive code.
                raise StateError(
                    "DUPLICATE_TRANSACTION_ID",
                    f"An order with merchant order id {merchant_order_id} already exists. "
                    "Use a new id for a new payment, or check the status of the existing one.",
                )
            now = self.clock.now()
            order = Order(
                merchant_order_id=merchant_order_id,
                order_id=self._new_id("OMO"),
                generation=generation,
                merchant_id=merchant_id,
                amount=amount,
                created_at=now,
                expire_at=now + expire_after,
                **extra,  # type: ignore[arg-type]
            )
            self.orders[merchant_order_id] = order
            self._by_order_id[order.order_id] = merchant_order_id
            self._schedule(order.expire_at, "expire", merchant_order_id)
            return order

    def get_order(self, merchant_order_id: str) -> Order | None:
        with self.lock:
            order = self.orders.get(merchant_order_id)
            if order is not None:
                self._expire_if_due(order, self.clock.now())
            return order

    def order_by_transaction(self, transaction_id: str) -> Order | None:
        moid = self._by_transaction.get(transaction_id)
        return self.get_order(moid) if moid else None

    def order_by_order_id(self, order_id: str) -> Order | None:
        moid = self._by_order_id.get(order_id)
        return self.get_order(moid) if moid else None

    def complete_order(self, merchant_order_id: str, *, payment_mode: str = "UPI_QR") -> Order:
        """The customer paid (after any number of failed attempts)."""
        with self.lock:
            order = self._pending(merchant_order_id)
            now = self.clock.now()
            attempt = self._current_attempt(order, payment_mode, now)
            attempt.state, attempt.timestamp = "COMPLETED", now
            order.state = "COMPLETED"
            order.completed_at = now
            order.error_code = order.detailed_error_code = None
            self._emit("checkout.order.completed", order)
            return order

    def start_attempt(self, merchant_order_id: str, *, payment_mode: str = "UPI_COLLECT") -> Order:
        """The customer started paying (e.g. a UPI collect request awaits their PIN): a
        PENDING attempt that the next complete / decline / fail resolves."""
        with self.lock:
            order = self._pending(merchant_order_id)
            last = order.last_attempt
            if last is not None and last.state == "PENDING":
                raise StateError(
                    "ATTEMPT_IN_PROGRESS",
                    f"Order {merchant_order_id} already has an attempt in progress.",
                    409,
                )
            order.attempts.append(self._attempt(order, payment_mode, "PENDING", self.clock.now()))
            return order

    def decline_attempt(
        self, merchant_order_id: str, *, failure: Failure, payment_mode: str = "UPI_QR"
    ) -> Order:
        """One attempt failed. The order stays PENDING (the customer may try again on the
        checkout page until it expires) unless the merchant sent ``disablePaymentRetry``
        or the order is a custom-checkout one (see ``Order.retries_allowed``)."""
        with self.lock:
            order = self._pending(merchant_order_id)
            now = self.clock.now()
            self._failed_attempt(order, failure, payment_mode, now)
            if not order.retries_allowed:
                order.state = "FAILED"
                self._emit("checkout.order.failed", order)
            else:
                self._emit("checkout.transaction.attempt.failed", order)
            return order

    def fail_order(
        self, merchant_order_id: str, *, failure: Failure, payment_mode: str | None = "UPI_QR"
    ) -> Order:
        """The order ends FAILED now (its last attempt failed and no retry will follow)."""
        with self.lock:
            order = self._pending(merchant_order_id)
            now = self.clock.now()
            if payment_mode:
                self._failed_attempt(order, failure, payment_mode, now)
            order.state = "FAILED"
            order.error_code = failure.error_code
            order.detailed_error_code = failure.detailed_error_code
            self._emit("checkout.order.failed", order)
            return order

    def _pending(self, merchant_order_id: str) -> Order:
        order = self.get_order(merchant_order_id)
        if order is None:
            raise StateError("ORDER_NOT_FOUND", f"No order {merchant_order_id}.", 404)
        if order.merchant_subscription_id is not None:  # AutoPay orders move by the mandate
            raise StateError(
                "SUBSCRIPTION_ORDER",
                f"Order {merchant_order_id} belongs to subscription "
                f"{order.merchant_subscription_id}; drive it with POST "
                f"/_sandbox/subscriptions/{order.merchant_subscription_id}.",
                409,
            )
        if order.state != "PENDING":
            raise StateError(
                "INVALID_ORDER_STATE",
                f"Order {merchant_order_id} is already {order.state}; only a PENDING order "
                "can be paid, declined or failed.",
                409,
            )
        return order

    def _attempt(self, order: Order, mode: str, state: str, now: float) -> Attempt:
        txn = self._new_id("OM")
        self._by_transaction[txn] = order.merchant_order_id
        return Attempt(
            transaction_id=txn, payment_mode=mode, timestamp=now, amount=order.amount, state=state
        )

    def _current_attempt(self, order: Order, mode: str, now: float) -> Attempt:
        """The attempt in progress, else a new one in that mode."""
        last = order.last_attempt
        if last is not None and last.state == "PENDING":
            return last
        attempt = self._attempt(order, mode, "PENDING", now)
        order.attempts.append(attempt)
        return attempt

    def _failed_attempt(self, order: Order, failure: Failure, mode: str, now: float) -> None:
        attempt = self._current_attempt(order, mode, now)
        attempt.state, attempt.timestamp = "FAILED", now
        attempt.error_code = failure.error_code
        attempt.detailed_error_code = failure.detailed_error_code
        # PhonePe reports the latest attempt's failure on the order, even while it is open.
        order.error_code = failure.error_code
        order.detailed_error_code = failure.detailed_error_code

    def _expire_if_due(self, order: Order, now: float) -> None:
        if order.merchant_subscription_id is not None:
            return  # AutoPay orders expire by their own rules (subscriptions.py)
        if order.state == "PENDING" and now >= order.expire_at:
            last = order.last_attempt
            if last is not None and last.state == "PENDING":  # never finished: auto-failed
                last.state = "FAILED"
                last.error_code = EXPIRED.error_code
                last.detailed_error_code = EXPIRED.detailed_error_code
            order.state = "FAILED"
            order.error_code = EXPIRED.error_code
            order.detailed_error_code = EXPIRED.detailed_error_code
            self._emit("checkout.order.failed", order)

    # -- refunds --------------------------------------------------------------------------

    def create_refund(
        self,
        *,
        merchant_refund_id: str,
        original_merchant_order_id: str,
        amount: int,
        generation: Generation,
        merchant_id: str,
        callback_url: str | None = None,
    ) -> Refund:
        with self.lock:
            order = self._refundable(
                merchant_refund_id, original_merchant_order_id, amount, merchant_id, generation
            )
            now = self.clock.now()
            paid = order.successful_attempt
            delay = self.refund_settlement_delay
            refund = Refund(
                merchant_refund_id=merchant_refund_id,
                refund_id=self._new_id("OMR"),
                original_merchant_order_id=original_merchant_order_id,
                generation=generation,
                merchant_id=merchant_id,
                amount=amount,
                created_at=now,
                confirm_at=now + delay / 2,
                settle_at=now + delay,
                transaction_id=self._new_id("OMR"),
                callback_url=callback_url,
                payment_mode=paid.payment_mode if paid else None,
            )
            self.refunds[merchant_refund_id] = refund
            order.refund_ids.append(merchant_refund_id)
            self._schedule(refund.confirm_at, "settle", merchant_refund_id)
            self._schedule(refund.settle_at, "settle", merchant_refund_id)
            return refund

    def _refundable(
        self,
        merchant_refund_id: str,
        original: str,
        amount: int,
        merchant_id: str,
        generation: Generation,
    ) -> Order:
        """The order a new refund may draw on, or PhonePe's refusal."""
        if merchant_refund_id in self.refunds or merchant_refund_id in self.orders:
            if generation == 2:
                raise _reused_id()
            raise StateError(
                "DUPLICATE_MERCHANT_REFUND_ID",
                f"A refund with merchant refund id {merchant_refund_id} already exists.",
            )
        order = self.get_order(original)
        if order is None or order.merchant_id != merchant_id:  # never another merchant's
            raise StateError("ORDER_NOT_FOUND", f"No order {original} to refund.", 404)
        if order.state != "COMPLETED":
            raise StateError(
                "REFUND_NOT_ALLOWED",
                f"Order {original} is {order.state}; only a COMPLETED order can be refunded.",
            )
        remainder = order.amount - self.refunded_amount(order)
        if amount > remainder:
            raise StateError(
                "REFUND_AMOUNT_EXCEEDED",
                f"Refund of {amount} paise exceeds the refundable remainder of {remainder} "
                f"paise of order {original}.",
            )
        return order

    def refunded_amount(self, order: Order) -> int:
        """Refunds that hold money: PENDING and COMPLETED ones (not FAILED)."""
        return sum(
            self.refunds[r].amount for r in order.refund_ids if self.refunds[r].state != "FAILED"
        )

    def get_refund(self, merchant_refund_id: str) -> Refund | None:
        with self.lock:
            refund = self.refunds.get(merchant_refund_id)
            if refund is not None:
                self._settle_if_due(refund, self.clock.now())
            return refund

    def finish_refund(
        self,
        merchant_refund_id: str,
        *,
        state: str = "COMPLETED",
        error_code: str | None = None,
        detailed_error_code: str | None = None,
    ) -> Refund:
        with self.lock:
            refund = self.get_refund(merchant_refund_id)
            if refund is None:
                raise StateError("REFUND_NOT_FOUND", f"No refund {merchant_refund_id}.", 404)
            if refund.state not in ("PENDING", "CONFIRMED"):
                raise StateError(
                    "INVALID_REFUND_STATE",
                    f"Refund {merchant_refund_id} is already {refund.state}.",
                    409,
                )
            self._finish_refund(refund, state, error_code, self.clock.now(), detailed_error_code)
            return refund

    def _finish_refund(
        self,
        refund: Refund,
        state: str,
        error_code: str | None,
        now: float,
        detailed_error_code: str | None = None,
    ) -> None:
        refund.state = state
        refund.completed_at = now
        refund.error_code = error_code
        refund.detailed_error_code = detailed_error_code if error_code else None
        self._emit("pg.refund.completed" if state == "COMPLETED" else "pg.refund.failed", refund)

    def _settle_if_due(self, refund: Refund, now: float) -> None:
        """PENDING -> CONFIRMED -> COMPLETED on the sandbox clock (both steps may be due)."""
        if refund.state == "PENDING" and now >= refund.confirm_at:
            refund.state = "CONFIRMED"
            self._emit("pg.refund.accepted", refund)
        if refund.state == "CONFIRMED" and now >= refund.settle_at:
            self._finish_refund(refund, "COMPLETED", None, now)

    # -- time-driven work -----------------------------------------------------------------

    def _schedule(self, due: float, kind: str, key: str) -> None:
        self._seq += 1
        heapq.heappush(self._due, (due, self._seq, kind, key))

    def run_due(self) -> int:
        """Apply every expiry and settlement that is due; returns how many were applied."""
        applied = 0
        with self.lock:
            now = self.clock.now()
            while self._due and self._due[0][0] <= now:
                _, _, kind, key = heapq.heappop(self._due)
                if kind == "expire" and key in self.orders:
                    before = self.orders[key].state
                    self._expire_if_due(self.orders[key], now)
                    applied += before != self.orders[key].state
                elif kind == "settle" and key in self.refunds:
                    before = self.refunds[key].state
                    self._settle_if_due(self.refunds[key], now)
                    applied += before != self.refunds[key].state
                elif kind in self.due_handlers:
                    applied += self.due_handlers[kind](key, now)
        return applied

    def next_due(self) -> float | None:
        with self.lock:
            return self._due[0][0] if self._due else None

    # -- events and housekeeping ----------------------------------------------------------

    def schedule(self, due: float, kind: str, key: str) -> None:
        """Have ``run_due`` call ``due_handlers[kind](key, now)`` once ``due`` has passed."""
        with self.lock:
            self._schedule(due, kind, key)

    def register_order(self, order: Order) -> None:
        """Index an order made outside ``create_order`` (AutoPay set-up / redemption)."""
        with self.lock:
            self.orders[order.merchant_order_id] = order
            self._by_order_id[order.order_id] = order.merchant_order_id

    def new_attempt(self, order: Order, mode: str) -> Attempt:
        """A PENDING attempt on ``order``, findable by its transaction id."""
        with self.lock:
            attempt = self._attempt(order, mode, "PENDING", self.clock.now())
            order.attempts.append(attempt)
            return attempt

    def new_id(self, prefix: str) -> str:
        with self.lock:
            return self._new_id(prefix)

    def emit(
        self, name: str, record: Order | Refund, payload: dict[str, Any] | None = None
    ) -> None:
        """Tell the listeners (the webhook sender) about a change; ``payload`` as given."""
        event = Event(name=name, record=copy.deepcopy(record), payload=copy.deepcopy(payload))
        for listener in list(self.listeners):
            listener(event)

    def _emit(self, name: str, record: Order | Refund) -> None:
        event = Event(name=name, record=copy.deepcopy(record))
        for listener in list(self.listeners):
            listener(event)

    def reset(self) -> None:
        with self.lock:
            self._rng = random.Random(self._seed)  # noqa: S311 -- seeded on purpose: --seed replays a run
            self.orders.clear()
            self.refunds.clear()
            self._by_order_id.clear()
            self._by_transaction.clear()
            self._tokens.clear()
            self._due.clear()
            for hook in list(self.reset_hooks):
                hook()
