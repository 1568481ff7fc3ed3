"""UPI AutoPay in the sandbox: mandates, pre-debit notifications and redemptions.

A mandate (PhonePe's "subscription") is a state machine on the sandbox clock::

    PENDING ──► ACTIVE | FAILED
    ACTIVE ──► PAUSED | REVOKED | CANCELLED | EXPIRED
    PAUSED ──► ACTIVE | REVOKED | CANCELLED | EXPIRED

(FAILED, REVOKED, CANCELLED and EXPIRED are final). The customer approves or declines
the set-up in the simulated UPI app (or never answers: the set-up order expires), then
may pause, resume or revoke it there; the merchant may cancel it; it expires at its
``expireAt``. Each debit is a redemption order: notify (``NOTIFICATION_IN_PROGRESS`` →
``NOTIFIED``), then, no earlier than 24 hours after the notification, redeem (the debit
runs: ``PENDING`` → ``COMPLETED`` | ``FAILED``), or PhonePe debits by itself when the
merchant asked for ``autoDebit``. Which rules are PhonePe's and which are this sandbox's
choice is listed in docs/SANDBOX.md "Subscriptions".

Every move goes through :meth:`Subscriptions._move` (mandates) or ``_order_to`` (orders)
under the state's lock and emits the webhook PhonePe sends for it. Set-up and redemption
orders live in :class:`~.state.SandboxState` beside checkout orders (so ids are unique
across both and a completed redemption can be refunded like any order), but only this
module moves them. Time-driven moves happen on every read and from the ticker. No I/O.
"""

from __future__ import annotations

from typing import Any

from . import subscription_views as views
from .failures import EXPIRED, FAILURES, Failure
from .models import Attempt, Order
from .state import SandboxState, StateError
from .subscription_rules import (
    CUSTOM_TRIES,
    DEBIT_FAILURES,
    DEFAULT_PAUSE,
    DEFAULT_VALIDITY,
    MANDATE_TRANSITIONS,
    NOTICE_PERIOD,
    ORDER_OPEN,
    ORDER_TRANSITIONS,
    REDEMPTION_WINDOW,
    RETRY_STRATEGIES,
    SETUP_EXPIRY,
    SETUP_MODES,
    Mandate,
    Redemption,
    check_debit_amount,
    check_setup,
    failure_for_state,
)

__all__ = ["Subscriptions"]


class Subscriptions:
    """All mandates of one sandbox; thread-safe through the state's lock."""

    def __init__(
        self,
        state: SandboxState,
        *,
        merchant_id: str = "PGSANDBOX",
        payee_vpa: str = "sandbox.merchant@ybl",
        payee_name: str = "Sandbox Merchant",
        notification_delay: float = 1.0,
        debit_delay: float = 2.0,
    ) -> None:
        self.state = state
        self.clock = state.clock
        self.merchant_id = merchant_id
        self.payee_vpa = payee_vpa
        self.payee_name = payee_name
        #: Sandbox seconds from notify to NOTIFIED, and from redeem to the debit's end.
        self.notification_delay = notification_delay
        self.debit_delay = debit_delay
        self.mandates: dict[str, Mandate] = {}
        self.redemptions: dict[str, Redemption] = {}
        #: Balance given to mandates set up later (None = unlimited).
        self.default_balance: int | None = None
        #: Failures forced on a mandate's next debits (a queue of DEBIT_FAILURES keys).
        self._forced: dict[str, list[str]] = {}
        state.due_handlers["autopay"] = self._due
        state.reset_hooks.append(self._reset)

    # -- reads -------------------------------------------------------------------------

    def get(self, merchant_subscription_id: str) -> Mandate | None:
        with self.state.lock:
            mandate = self.mandates.get(merchant_subscription_id)
            if mandate is not None:
                self._catch_up(mandate, self.clock.now())
            return mandate

    def all(self) -> list[Mandate]:
        with self.state.lock:
            return [m for m in (self.get(k) for k in list(self.mandates)) if m is not None]

    def order(self, merchant_order_id: str) -> Order | None:
        """A set-up or redemption order, brought up to date."""
        with self.state.lock:
            order = self.state.orders.get(merchant_order_id)
            if order is None or order.merchant_subscription_id is None:
                return None
            self.get(order.merchant_subscription_id)
            return order

    def order_by_transaction(self, transaction_id: str) -> Order | None:
        with self.state.lock:
            found = self.state.order_by_transaction(transaction_id)
            if found is None or found.merchant_subscription_id is None:
                return None
            return self.order(found.merchant_order_id)

    def by_vpa(self, vpa: str | None) -> list[Mandate]:
        return [m for m in self.all() if vpa in (None, "", m.payer_vpa)]

    def by_setup_order_id(self, order_id: str) -> Mandate | None:
        with self.state.lock:
            order = self.state.order_by_order_id(order_id)
            if order is None or order.merchant_subscription_id is None:
                return None
            return self.get(order.merchant_subscription_id)

    # -- set-up (merchant) -------------------------------------------------------------

    def setup(
        self,
        *,
        merchant_order_id: str,
        merchant_subscription_id: str,
        amount: int,
        max_amount: int,
        auth_workflow: str,
        amount_type: str,
        frequency: str,
        instrument: str,
        order_expire_at: float | None = None,
        subscription_expire_at: float | None = None,
        payer_vpa: str | None = None,
        target_app: str | None = None,
        meta_info: dict[str, str] | None = None,
    ) -> tuple[Order, Mandate]:
        check_setup(amount, max_amount, auth_workflow, amount_type, frequency, instrument)
        with self.state.lock:
            now = self.clock.now()
            if merchant_subscription_id in self.mandates:
                raise StateError(
                    "BAD_REQUEST",
                    "Please check the inputs you have provided.",  # PhonePe's reused-id answer
                )
            self._check_new_order_id(merchant_order_id)
            expires = order_expire_at if order_expire_at is not None else now + SETUP_EXPIRY
            valid_to = (
                subscription_expire_at
                if subscription_expire_at is not None
                else now + DEFAULT_VALIDITY
            )
            if expires <= now:
                raise StateError("BAD_REQUEST", "expireAt must be in the future.")
            if valid_to <= expires:
                raise StateError(
                    "BAD_REQUEST",
                    "paymentFlow.expireAt (the subscription's end) must be after the set-up "
                    "order's expireAt.",
                )
            order = Order(
                merchant_order_id=merchant_order_id,
                order_id=self.state.new_id("OMO"),
                generation=2,
                merchant_id=self.merchant_id,
                amount=amount,
                created_at=now,
                expire_at=expires,
                meta_info=dict(meta_info or {}),
                payment_flow="SUBSCRIPTION_SETUP",
                merchant_subscription_id=merchant_subscription_id,
            )
            mandate = Mandate(
                merchant_subscription_id=merchant_subscription_id,
                subscription_id=self.state.new_id("OMS"),
                merchant_id=order.merchant_id,
                setup_order_id=merchant_order_id,
                auth_workflow=auth_workflow,
                amount_type=amount_type,
                max_amount=max_amount,
                frequency=frequency,
                expire_at=valid_to,
                instrument=instrument,
                created_at=now,
                payer_vpa=payer_vpa or "sandbox.payer@ybl",
                target_app=target_app,
                balance=self.default_balance,
            )
            self.state.register_order(order)
            self.mandates[merchant_subscription_id] = mandate
            self.state.schedule(expires, "autopay", merchant_subscription_id)
            self.state.schedule(valid_to, "autopay", merchant_subscription_id)
            return order, mandate

    def _check_new_order_id(self, merchant_order_id: str) -> None:
        if merchant_order_id in self.state.orders or merchant_order_id in self.state.refunds:
            raise StateError("BAD_REQUEST", "Please check the inputs you have provided.")

    def mandate_link(self, mandate: Mandate) -> str:
        setup = self.state.orders[mandate.setup_order_id]
        return views.mandate_link(mandate, setup, self.payee_vpa, self.payee_name)

    # -- the customer (simulated UPI app / control API) --------------------------------

    def approve(self, merchant_subscription_id: str) -> Mandate:
        """The customer authorised the mandate with their UPI PIN: the set-up order
        completes (its first debit, or the penny drop) and the mandate is ACTIVE."""
        with self.state.lock:
            mandate, order = self._pending_setup(merchant_subscription_id)
            now = self.clock.now()
            attempt = self._attempt(order, SETUP_MODES[mandate.instrument])
            attempt.state, attempt.timestamp = "COMPLETED", now
            self._order_to(order, "COMPLETED")
            order.completed_at = now
            self._move(mandate, "ACTIVE")
            self._emit_order("subscription.setup.order.completed", order)
            return mandate

    def decline(self, merchant_subscription_id: str, reason: str = "DECLINED") -> Mandate:
        with self.state.lock:
            mandate, order = self._pending_setup(merchant_subscription_id)
            failure = FAILURES.get(reason) or FAILURES["DECLINED"]
            attempt = self._attempt(order, SETUP_MODES[mandate.instrument])
            self._fail_attempt(order, attempt, failure)
            self._fail_setup(mandate, order, failure)
            return mandate

    def pause(self, merchant_subscription_id: str, until: float | None = None) -> Mandate:
        with self.state.lock:
            mandate = self._known(merchant_subscription_id)
            now = self.clock.now()
            end = until if until is not None else now + DEFAULT_PAUSE
            if end <= now:
                raise StateError("BAD_REQUEST", "A pause must end in the future.")
            self._require(mandate, "PAUSED")
            mandate.pause_start, mandate.pause_end = now, min(end, mandate.expire_at)
            self._move(mandate, "PAUSED")
            self.state.schedule(mandate.pause_end, "autopay", merchant_subscription_id)
            self._emit_mandate("subscription.paused", mandate)
            return mandate

    def resume(self, merchant_subscription_id: str) -> Mandate:
        with self.state.lock:
            mandate = self._known(merchant_subscription_id)
            if mandate.state != "PAUSED":
                raise _conflict(mandate, "resumed", "a PAUSED one")
            self._unpause(mandate)
            return mandate

    def revoke(self, merchant_subscription_id: str) -> Mandate:
        with self.state.lock:
            mandate = self._known(merchant_subscription_id)
            self._require(mandate, "REVOKED")
            self._move(mandate, "REVOKED")
            self._emit_mandate("subscription.revoked", mandate)
            return mandate

    def set_balance(self, merchant_subscription_id: str | None, balance: int | None) -> None:
        """The payer's account balance for one mandate (or, with None, for mandates set
        up from now on); None = unlimited."""
        with self.state.lock:
            if merchant_subscription_id is None:
                self.default_balance = balance
            else:
                self._known(merchant_subscription_id).balance = balance

    def fail_next_debit(self, merchant_subscription_id: str, reason: str) -> None:
        if reason not in DEBIT_FAILURES:
            raise StateError(
                "BAD_REQUEST", f"reason must be one of {', '.join(sorted(DEBIT_FAILURES))}."
            )
        with self.state.lock:
            self._known(merchant_subscription_id)
            self._forced.setdefault(merchant_subscription_id, []).append(reason)

    # -- the merchant ------------------------------------------------------------------

    def cancel(self, merchant_subscription_id: str) -> Mandate:
        with self.state.lock:
            mandate = self._known(merchant_subscription_id)
            self._require(mandate, "CANCELLED")
            self._move(mandate, "CANCELLED")
            self._emit_mandate("subscription.cancelled", mandate)
            return mandate

    def notify(
        self,
        *,
        merchant_order_id: str,
        merchant_subscription_id: str,
        amount: int,
        retry_strategy: str = "STANDARD",
        auto_debit: bool = False,
        expire_at: float | None = None,
        meta_info: dict[str, str] | None = None,
    ) -> Order:
        """Tell the customer about the coming debit. The order is created even for a
        mandate that is not ACTIVE; its notification then fails (PhonePe asks merchants to
        check the mandate first "to prevent avoidable failures")."""
        if retry_strategy not in RETRY_STRATEGIES:
            raise StateError("BAD_REQUEST", "paymentFlow.redemptionRetryStrategy is invalid.")
        if auto_debit and retry_strategy == "CUSTOM":
            raise StateError(
                "BAD_REQUEST", "autoDebit cannot be true with redemptionRetryStrategy CUSTOM."
            )
        with self.state.lock:
            mandate = self.get(merchant_subscription_id)
            if mandate is None:
                raise StateError(
                    "INVALID_MERCHANT_SUBSCRIPTION_ID",
                    f"No subscription {merchant_subscription_id}.",
                    400,
                )
            self._check_new_order_id(merchant_order_id)
            check_debit_amount(mandate, amount)
            self._check_one_open(mandate)
            now = self.clock.now()
            upto = expire_at if expire_at is not None else now + REDEMPTION_WINDOW
            notified = now + self.notification_delay
            if upto <= notified + NOTICE_PERIOD:
                raise StateError(
                    "BAD_REQUEST",
                    "expireAt must leave time to debit: the debit may run only 24 hours "
                    "after the customer is notified.",
                )
            order = Order(
                merchant_order_id=merchant_order_id,
                order_id=self.state.new_id("OMO"),
                generation=2,
                merchant_id=mandate.merchant_id,
                amount=amount,
                created_at=now,
                expire_at=upto,
                meta_info=dict(meta_info or {}),
                payment_flow="SUBSCRIPTION_REDEMPTION",
                merchant_subscription_id=merchant_subscription_id,
                state="NOTIFICATION_IN_PROGRESS",
            )
            self.redemptions[merchant_order_id] = Redemption(
                merchant_order_id=merchant_order_id,
                merchant_subscription_id=merchant_subscription_id,
                retry_strategy=retry_strategy,
                auto_debit=auto_debit,
                requested_at=now,
                notified_at=notified,
                valid_after=notified + NOTICE_PERIOD,
                valid_upto=upto,
            )
            self.state.register_order(order)
            mandate.redemption_ids.append(merchant_order_id)
            for due in (notified, notified + NOTICE_PERIOD, upto):
                self.state.schedule(due, "autopay", merchant_subscription_id)
            return order

    def redeem(self, merchant_order_id: str) -> tuple[Order, Attempt]:
        """Start the debit of a notified order: a PENDING transaction that resolves
        ``debit_delay`` sandbox seconds later."""
        with self.state.lock:
            order = self.order(merchant_order_id)
            redemption = self.redemptions.get(merchant_order_id)
            if order is None or redemption is None:
                raise StateError(
                    "INVALID_MERCHANT_ORDER_ID", "No entry found for given merchant order id", 404
                )
            now = self.clock.now()
            if redemption.auto_debit:
                raise StateError(
                    "BAD_REQUEST",
                    "This redemption was notified with autoDebit: PhonePe debits it itself.",
                )
            if order.state != "NOTIFIED":
                raise StateError(
                    "INVALID_ORDER_STATE",
                    f"Order {merchant_order_id} is {order.state}; only a NOTIFIED redemption "
                    "can be redeemed.",
                )
            if now < redemption.valid_after:
                raise StateError(
                    "REDEMPTION_NOT_ALLOWED",
                    "The debit may run only 24 hours after the customer was notified "
                    f"(from {int(redemption.valid_after * 1000)} epoch ms).",
                )
            return order, self._start_debit(order, redemption, now)

    # -- time ----------------------------------------------------------------------------

    def _due(self, key: str, now: float) -> bool:
        mandate = self.mandates.get(key)
        if mandate is None:
            return False
        before = self._fingerprint(mandate)
        self._catch_up(mandate, now)
        return before != self._fingerprint(mandate)

    def _fingerprint(self, mandate: Mandate) -> tuple[str, ...]:
        ids = [mandate.setup_order_id, *mandate.redemption_ids]
        return (mandate.state, *(self.state.orders[i].state for i in ids))

    def _catch_up(self, mandate: Mandate, now: float) -> None:
        """Apply everything due by ``now`` for one mandate, earliest first (a clock jump
        of a month replays the month in order)."""
        while True:
            due = [(at, step) for at, step in self._next_steps(mandate) if at <= now]
            if not due:
                return
            at, step = min(due, key=lambda item: item[0])
            step(at)

    def _next_steps(self, mandate: Mandate) -> list[tuple[float, Any]]:
        steps: list[tuple[float, Any]] = []
        if mandate.state == "PENDING":
            setup = self.state.orders[mandate.setup_order_id]
            steps.append((setup.expire_at, lambda at: self._setup_expired(mandate, setup, at)))
        end = mandate.pause_end
        if mandate.state == "PAUSED" and end is not None and end < mandate.expire_at:
            steps.append((end, lambda at: self._unpause(mandate, at)))
        if mandate.state in ("ACTIVE", "PAUSED"):
            # PhonePe publishes no webhook for a mandate reaching its end date.
            steps.append((mandate.expire_at, lambda at: self._move(mandate, "EXPIRED", at)))
        for moid in mandate.redemption_ids:
            steps.extend(self._redemption_steps(mandate, self.redemptions[moid]))
        return steps

    def _redemption_steps(self, mandate: Mandate, red: Redemption) -> list[tuple[float, Any]]:
        order = self.state.orders[red.merchant_order_id]
        if order.state == "NOTIFICATION_IN_PROGRESS":
            return [(red.notified_at, lambda at: self._notification_sent(mandate, order))]
        if order.state == "PENDING" and red.debit_at is not None:
            return [(red.debit_at, lambda at: self._finish_debit(mandate, order, red))]
        if order.state != "NOTIFIED":
            return []
        steps: list[tuple[float, Any]] = [
            (red.valid_upto, lambda at: self._redemption_expired(order))
        ]
        if red.auto_debit and red.valid_after < red.valid_upto:
            steps.append((red.valid_after, lambda at: self._start_debit(order, red, at)))
        return steps

    def _setup_expired(self, mandate: Mandate, setup: Order, at: float) -> None:
        """The customer never answered the set-up request."""
        attempt = setup.last_attempt
        if attempt is not None and attempt.state == "PENDING":
            self._fail_attempt(setup, attempt, EXPIRED)
        self._fail_setup(mandate, setup, EXPIRED, at)

    def _notification_sent(self, mandate: Mandate, order: Order) -> None:
        if mandate.state == "ACTIVE":
            self._order_to(order, "NOTIFIED")
            self._emit_order("subscription.notification.completed", order)
            return
        failure = failure_for_state(mandate.state)
        order.error_code = failure.error_code
        order.detailed_error_code = failure.detailed_error_code
        self._order_to(order, "FAILED")
        self._emit_order("subscription.notification.failed", order)

    def _redemption_expired(self, order: Order) -> None:
        """Nobody redeemed inside the window: the order fails as an unpaid order does."""
        order.error_code = EXPIRED.error_code
        order.detailed_error_code = EXPIRED.detailed_error_code
        self._order_to(order, "FAILED")
        self._emit_order("subscription.redemption.order.failed", order)

    # -- debits --------------------------------------------------------------------------

    def _start_debit(self, order: Order, red: Redemption, at: float) -> Attempt:
        attempt = self._attempt(order, "UPI_AUTO_PAY")
        attempt.timestamp = at
        red.tries += 1
        red.debit_at = at + self.debit_delay
        self._order_to(order, "PENDING")
        self.state.schedule(red.debit_at, "autopay", red.merchant_subscription_id)
        return attempt

    def _finish_debit(self, mandate: Mandate, order: Order, red: Redemption) -> None:
        attempt = order.last_attempt
        assert attempt is not None, "a running debit has its attempt"
        at = red.debit_at or self.clock.now()
        red.debit_at = None
        failure = self._debit_failure(mandate, order.amount)
        if failure is None:
            if mandate.balance is not None:
                mandate.balance -= order.amount
            attempt.state, attempt.timestamp = "COMPLETED", at
            order.error_code = order.detailed_error_code = None
            self._order_to(order, "COMPLETED")
            order.completed_at = at
            self._emit_order("subscription.redemption.transaction.completed", order)
            self._emit_order("subscription.redemption.order.completed", order)
            return
        self._fail_attempt(order, attempt, failure)
        attempt.timestamp = at
        retry = (
            red.retry_strategy == "CUSTOM"
            and red.tries < CUSTOM_TRIES
            and at < red.valid_upto
            and mandate.state in ("ACTIVE", "PAUSED")
        )
        # The order's next state first, so both webhooks carry it.
        self._order_to(order, "NOTIFIED" if retry else "FAILED")  # NOTIFIED: redeem again
        self._emit_order("subscription.redemption.transaction.failed", order)
        if not retry:
            self._emit_order("subscription.redemption.order.failed", order)

    def _debit_failure(self, mandate: Mandate, amount: int) -> Failure | None:
        if mandate.state != "ACTIVE":
            return failure_for_state(mandate.state)
        forced = self._forced.get(mandate.merchant_subscription_id)
        if forced:
            return DEBIT_FAILURES[forced.pop(0)]
        if mandate.balance is not None and amount > mandate.balance:
            return DEBIT_FAILURES["INSUFFICIENT_BALANCE"]
        return None

    # -- moves ---------------------------------------------------------------------------

    def _move(self, mandate: Mandate, target: str, at: float | None = None) -> None:
        """The only place a mandate changes state (``at``: when it happened, if in the past)."""
        if target not in MANDATE_TRANSITIONS[mandate.state]:
            raise _conflict(mandate, f"moved to {target}", "one that allows it")
        mandate.history.append((self.clock.now() if at is None else at, mandate.state, target))
        mandate.state = target
        if target == "ACTIVE":  # an ended mandate keeps its last pause window, as PhonePe's do
            mandate.pause_start = mandate.pause_end = None

    def _order_to(self, order: Order, target: str) -> None:
        """The only place a set-up or redemption order changes state."""
        if target not in ORDER_TRANSITIONS[order.state]:
            raise StateError(
                "INVALID_ORDER_STATE",
                f"Order {order.merchant_order_id} is {order.state}; it cannot become {target}.",
                409,
            )
        order.state = target

    def _unpause(self, mandate: Mandate, at: float | None = None) -> None:
        self._move(mandate, "ACTIVE", at)
        self._emit_mandate("subscription.unpaused", mandate)

    def _fail_setup(
        self, mandate: Mandate, order: Order, failure: Failure, at: float | None = None
    ) -> None:
        order.error_code = failure.error_code
        order.detailed_error_code = failure.detailed_error_code
        self._order_to(order, "FAILED")
        self._move(mandate, "FAILED", at)
        self._emit_order("subscription.setup.order.failed", order)

    def _attempt(self, order: Order, mode: str) -> Attempt:
        last = order.last_attempt
        if last is not None and last.state == "PENDING":
            return last
        return self.state.new_attempt(order, mode)

    @staticmethod
    def _fail_attempt(order: Order, attempt: Attempt, failure: Failure) -> None:
        attempt.state = "FAILED"
        attempt.error_code = failure.error_code
        attempt.detailed_error_code = failure.detailed_error_code
        order.error_code = failure.error_code
        order.detailed_error_code = failure.detailed_error_code

    def _pending_setup(self, merchant_subscription_id: str) -> tuple[Mandate, Order]:
        mandate = self._known(merchant_subscription_id)
        if mandate.state != "PENDING":
            raise _conflict(mandate, "approved or declined", "a PENDING set-up")
        return mandate, self.state.orders[mandate.setup_order_id]

    def _known(self, merchant_subscription_id: str) -> Mandate:
        mandate = self.get(merchant_subscription_id)
        if mandate is None:
            raise StateError(
                "SUBSCRIPTION_NOT_FOUND", f"No subscription {merchant_subscription_id}.", 404
            )
        return mandate

    @staticmethod
    def _require(mandate: Mandate, target: str) -> None:
        if target not in MANDATE_TRANSITIONS[mandate.state]:
            allowed = sorted(s for s, t in MANDATE_TRANSITIONS.items() if target in t)
            raise _conflict(mandate, f"moved to {target}", " or ".join(allowed))

    def _check_one_open(self, mandate: Mandate) -> None:
        for moid in mandate.redemption_ids:
            if self.state.orders[moid].state in ORDER_OPEN:
                raise StateError(
                    "REDEMPTION_IN_PROGRESS",
                    f"Subscription {mandate.merchant_subscription_id} already has an open "
                    f"redemption ({moid}); wait for it to end before notifying another.",
                )

    # -- wire shapes and events --------------------------------------------------------

    def subscription_json(self, mandate: Mandate) -> dict[str, Any]:
        return views.subscription_json(mandate)

    def order_status_json(
        self, order: Order, *, details: bool = True, attempts: list[Attempt] | None = None
    ) -> dict[str, Any]:
        mandate = self.mandates[order.merchant_subscription_id or ""]
        flow = views.payment_flow_json(
            order, mandate, self.redemptions.get(order.merchant_order_id)
        )
        return views.order_status_json(order, flow, details=details, attempts=attempts)

    def _emit_order(self, name: str, order: Order) -> None:
        payload = self.order_status_json(order)
        del payload["currency"]  # not in PhonePe's subscription webhook samples
        self.state.emit(name, order, payload)

    def _emit_mandate(self, name: str, mandate: Mandate) -> None:
        setup = self.state.orders[mandate.setup_order_id]
        self.state.emit(name, setup, views.subscription_json(mandate, webhook=True))

    def _reset(self) -> None:
        self.mandates.clear()
        self.redemptions.clear()
        self._forced.clear()
        self.default_balance = None


def _conflict(mandate: Mandate, verb: str, wanted: str) -> StateError:
    return StateError(
        "INVALID_SUBSCRIPTION_STATE",
        f"Subscription {mandate.merchant_subscription_id} is {mandate.state}; only {wanted} "
        f"can be {verb}.",
        409,
    )
