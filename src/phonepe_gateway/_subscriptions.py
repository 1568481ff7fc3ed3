"""UPI AutoPay (PhonePe's ``/subscriptions/v2`` API): results, checks and declarations.

A mandate is set up once (``setup``: the customer approves it in their UPI app, by an
intent link or a collect request), then each debit is two calls: ``notify`` (PhonePe
tells the customer ahead of the debit) and ``redeem`` (the debit itself, once the
notification's window has passed). The customer may pause, resume or revoke the
mandate in their app at any time; the merchant may cancel it.

Like ``_protocol``, this module builds requests and parses answers and does no I/O:
each ``*_call`` function returns a :class:`~phonepe_gateway._protocol.Prepared` for
the clients' call core, which gives these calls the same token handling, retries,
failover and lost-answer recovery as every other call. The writes are keyed by the
merchant order / subscription id and confirmed by a status call after a lost answer:
set-up and notify by the subscription order status, redeem by the order's attempt,
cancel by the subscription status.

Results are lenient like the rest (states, frequencies and amount types are plain
strings; unknown values and fields are kept in ``raw``). The checks in
:func:`check_subscription_terms` refuse, before anything is sent, what PhonePe
documents it refuses; where we refuse something PhonePe does not document, the check
says so in its docstring.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ._errors import ValidationError
from ._instruments import UpiCollect, UpiIntent
from ._models import OrderStatus
from ._protocol import (
    Confirm,
    Prepared,
    V2Protocol,
    as_dict,
    as_int,
    as_str,
    ms_to_datetime,
    parse_order_status,
)
from ._validation import MIN_AMOUNT, check_amount

__all__ = [
    "MAX_MANDATE_AMOUNT",
    "NOTIFY_EXPIRE_AFTER_RANGE",
    "PENNY_DROP_AMOUNT",
    "AmountType",
    "AuthWorkflow",
    "Frequency",
    "RedemptionNotice",
    "RedemptionResult",
    "RetryStrategy",
    "SubscriptionSetup",
    "SubscriptionState",
    "SubscriptionStatus",
    "SubscriptionTerms",
    "cancel_call",
    "check_subscription_terms",
    "notify_call",
    "redeem_call",
    "setup_call",
    "subscription_order_status_call",
    "subscription_status_call",
    "subscription_transaction_status_call",
]

#: PENNY_DROP set-ups authorise the mandate with a debit of exactly ₹2 (PhonePe's set-up
#: page: "For PENNY_DROP flow, the amount should be equal to 200").
PENNY_DROP_AMOUNT = 200
#: ₹1,00,000: NPCI's ceiling for a UPI AutoPay debit (the enhanced limit, for the merchant
#: categories allowed it; the usual limit without a PIN per debit is ₹15,000). PhonePe
#: publishes no number of its own; a mandate above this cannot be debited over UPI.
MAX_MANDATE_AMOUNT = 10_000_000
#: A subscription runs 30 years when no expiry is given (PhonePe's set-up page); we refuse
#: a later one (our choice: PhonePe documents the default, not a maximum).
MAX_SUBSCRIPTION_YEARS = 30
#: Seconds a pre-debit notification's order may stay open: PhonePe's default is 48 hours
#: (the notify page), which is also the retry window it documents; 5 minutes at least.
NOTIFY_EXPIRE_AFTER_RANGE = (300, 48 * 3600)
#: Seconds a set-up order may stay open (PhonePe's default is 10 minutes).
SETUP_EXPIRE_AFTER_RANGE = (300, 3600)


class SubscriptionState:
    """Known mandate states (``GET /subscriptions/v2/{id}/status`` and webhooks)."""

    PENDING = "PENDING"
    ACTIVE = "ACTIVE"
    PAUSED = "PAUSED"
    REVOKED = "REVOKED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"
    FAILED = "FAILED"
    #: No debit can ever happen again.
    FINAL = frozenset({REVOKED, CANCELLED, EXPIRED, FAILED})


class Frequency:
    """How often a mandate may be debited (PhonePe's ``paymentFlow.frequency``)."""

    DAILY = "DAILY"
    WEEKLY = "WEEKLY"
    FORTNIGHTLY = "FORTNIGHTLY"
    MONTHLY = "MONTHLY"
    BIMONTHLY = "BIMONTHLY"
    QUARTERLY = "QUARTERLY"
    HALFYEARLY = "HALFYEARLY"
    YEARLY = "YEARLY"
    ON_DEMAND = "ON_DEMAND"
    ALL = frozenset(
        {
            DAILY, WEEKLY, FORTNIGHTLY, MONTHLY, BIMONTHLY, QUARTERLY, HALFYEARLY, YEARLY,
            ON_DEMAND,
        }
    )  # fmt: skip
    #: The length of one period, roughly (ON_DEMAND has none).
    PERIOD_DAYS = {
        DAILY: 1, WEEKLY: 7, FORTNIGHTLY: 14, MONTHLY: 28, BIMONTHLY: 56, QUARTERLY: 84,
        HALFYEARLY: 168, YEARLY: 365,
    }  # fmt: skip


class AmountType:
    """``FIXED``: every debit is the mandate's amount; ``VARIABLE``: any amount up to it."""

    FIXED = "FIXED"
    VARIABLE = "VARIABLE"
    ALL = frozenset({FIXED, VARIABLE})


class AuthWorkflow:
    """How the customer authorises the mandate at set-up.

    ``TRANSACTION``: the set-up order is the first debit (its ``amount``);
    ``PENNY_DROP``: a ₹2 debit authorises it (:data:`PENNY_DROP_AMOUNT`).
    """

    TRANSACTION = "TRANSACTION"
    PENNY_DROP = "PENNY_DROP"
    ALL = frozenset({TRANSACTION, PENNY_DROP})


class RetryStrategy:
    """Who retries a failed redemption: PhonePe (``STANDARD``, the default) or the merchant."""

    STANDARD = "STANDARD"
    CUSTOM = "CUSTOM"
    ALL = frozenset({STANDARD, CUSTOM})


# -- results ---------------------------------------------------------------------------


class _Result(BaseModel):
    """Frozen and lenient like ``_models``' results; ``raw`` keeps the gateway's JSON."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    raw: dict[str, Any] = Field(default_factory=dict, repr=False)


class SubscriptionSetup(_Result):
    """The set-up order: the customer approves the mandate by ``intent_url`` (intent) or
    in their UPI app (collect). ``intent_url`` is None after a lost answer was recovered
    through the status call (PhonePe gives the link only in the set-up answer)."""

    merchant_order_id: str
    merchant_subscription_id: str
    order_id: str | None = None
    state: str = "PENDING"
    intent_url: str | None = None
    expire_at: datetime | None = None


class SubscriptionStatus(_Result):
    merchant_subscription_id: str
    subscription_id: str | None = None
    state: str
    frequency: str | None = None
    amount_type: str | None = None
    max_amount: int | None = None
    auth_workflow: str | None = None
    expire_at: datetime | None = None
    pause_start: datetime | None = None
    pause_end: datetime | None = None

    @property
    def is_active(self) -> bool:
        return self.state == SubscriptionState.ACTIVE

    @property
    def is_final(self) -> bool:
        return self.state in SubscriptionState.FINAL


class RedemptionNotice(_Result):
    """A pre-debit notification: the order a later :meth:`redeem` debits.

    ``state`` is PhonePe's order state (``PENDING``, later ``NOTIFIED`` in webhooks,
    ``FAILED`` when the notification could not be delivered)."""

    merchant_order_id: str
    order_id: str | None = None
    state: str = "PENDING"
    expire_at: datetime | None = None
    #: The debit may be made from this time on (PhonePe's ``paymentFlow.validAfter``), if sent.
    valid_after: datetime | None = None
    valid_until: datetime | None = None


class RedemptionResult(_Result):
    """A debit under way: ``state`` is usually ``PENDING``; confirm it with
    ``get_subscription_order_status`` (or wait for the redemption webhook)."""

    merchant_order_id: str
    transaction_id: str | None = None
    state: str = "PENDING"


# -- checks ----------------------------------------------------------------------------


class SubscriptionTerms:
    """The checked terms of a mandate (what :func:`check_subscription_terms` returns)."""

    __slots__ = (
        "amount",
        "amount_type",
        "auth_workflow",
        "expire_at_ms",
        "frequency",
        "max_amount",
    )

    def __init__(
        self, *, amount: int, max_amount: int, frequency: str, amount_type: str,
        auth_workflow: str, expire_at_ms: int | None,
    ) -> None:  # fmt: skip
        self.amount = amount
        self.max_amount = max_amount
        self.frequency = frequency
        self.amount_type = amount_type
        self.auth_workflow = auth_workflow
        self.expire_at_ms = expire_at_ms


def _choice(value: object, allowed: frozenset[str], field: str) -> str:
    if not isinstance(value, str) or value.upper() not in allowed:
        raise ValidationError(
            f"{field} must be one of {', '.join(sorted(allowed))}, not {value!r}.", field=field
        )
    return value.upper()


def check_subscription_terms(
    *,
    amount: object,
    max_amount: object,
    frequency: object,
    amount_type: object = AmountType.VARIABLE,
    auth_workflow: object = AuthWorkflow.TRANSACTION,
    subscription_expire_at: object = None,
    now: float,
) -> SubscriptionTerms:
    """The terms of a mandate, checked as PhonePe would check them; ``now`` is epoch seconds.

    Refused (a :class:`ValidationError` naming the argument):

    * an unknown frequency, amount type or auth workflow;
    * ``amount`` under 100 paise; with ``PENNY_DROP``, an ``amount`` other than 200
      (PhonePe's set-up page);
    * ``max_amount`` under ``amount`` or over :data:`MAX_MANDATE_AMOUNT` (NPCI's ceiling);
    * ``TRANSACTION`` with ``FIXED``: an ``amount`` (the first debit) other than
      ``max_amount``: every debit of a fixed mandate is its amount. PhonePe states this
      for FIXED mandates only through its samples, all with ``amount == maxAmount``;
    * ``subscription_expire_at`` naive, not in the future, more than 30 years ahead
      (PhonePe's default; our limit), or sooner than one period of a scheduled frequency
      (the mandate could never be debited).
    """
    frequency = _choice(frequency, Frequency.ALL, "frequency")
    amount_type = _choice(amount_type, AmountType.ALL, "amount_type")
    auth_workflow = _choice(auth_workflow, AuthWorkflow.ALL, "auth_workflow")
    amount = check_amount(amount, minimum=MIN_AMOUNT)
    max_amount = check_amount(max_amount, field="max_amount", minimum=MIN_AMOUNT)
    if max_amount > MAX_MANDATE_AMOUNT:
        raise ValidationError(
            f"max_amount {max_amount} paise is over ₹1,00,000 ({MAX_MANDATE_AMOUNT} paise), "
            "NPCI's ceiling for a UPI AutoPay debit.",
            field="max_amount",
        )
    if auth_workflow == AuthWorkflow.PENNY_DROP:
        if amount != PENNY_DROP_AMOUNT:
            raise ValidationError(
                f"With auth_workflow PENNY_DROP the set-up amount must be {PENNY_DROP_AMOUNT} "
                f"paise (PhonePe authorises the mandate with a ₹2 debit), not {amount}.",
                field="amount",
            )
    elif amount > max_amount:
        raise ValidationError(
            f"amount (the first debit, {amount} paise) is over max_amount ({max_amount}).",
            field="amount",
        )
    elif amount_type == AmountType.FIXED and amount != max_amount:
        raise ValidationError(
            f"A FIXED mandate debits exactly max_amount ({max_amount} paise) each time, "
            f"so its first debit (amount) must be that too, not {amount}. Use amount_type "
            "VARIABLE for debits that vary.",
            field="amount",
        )
    expire_at_ms = _check_expiry(subscription_expire_at, frequency, now)
    return SubscriptionTerms(
        amount=amount, max_amount=max_amount, frequency=frequency, amount_type=amount_type,
        auth_workflow=auth_workflow, expire_at_ms=expire_at_ms,
    )  # fmt: skip


def _check_expiry(value: object, frequency: str, now: float) -> int | None:
    if value is None:
        return None
    field = "subscription_expire_at"
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValidationError(
            f"{field} must be a timezone-aware datetime (e.g. datetime(..., tzinfo=UTC)).",
            field=field,
        )
    current = datetime.fromtimestamp(now, tz=UTC)
    if value <= current:
        raise ValidationError(f"{field} {value.isoformat()} is not in the future.", field=field)
    if value > current + timedelta(days=365 * MAX_SUBSCRIPTION_YEARS + 8):
        raise ValidationError(
            f"{field} is more than {MAX_SUBSCRIPTION_YEARS} years ahead (PhonePe's default "
            "and the longest this client sends).",
            field=field,
        )
    period = Frequency.PERIOD_DAYS.get(frequency)
    if period is not None and value < current + timedelta(days=period):
        raise ValidationError(
            f"{field} is sooner than one {frequency} period: the mandate could never be debited.",
            field=field,
        )
    return int(value.timestamp() * 1000)


def check_setup_instrument(instrument: object) -> UpiIntent | UpiCollect:
    """AutoPay mandates are set up by UPI intent or UPI collect to a VPA (PhonePe's SDK and
    set-up page offer only these two; collect by phone number is not offered)."""
    if isinstance(instrument, UpiIntent):
        return instrument
    if isinstance(instrument, UpiCollect):
        if instrument.vpa is None:
            raise ValidationError(
                "A mandate is set up by UPI collect to a VPA (UpiCollect(vpa=...)); PhonePe "
                "offers no AutoPay collect by phone number.",
                field="instrument",
            )
        return instrument
    raise ValidationError(
        "instrument must be UpiIntent() or UpiCollect(vpa=...) for a UPI AutoPay set-up, "
        f"not {type(instrument).__name__}.",
        field="instrument",
    )


def check_expire_after_in(value: object, bounds: tuple[int, int], field: str) -> int | None:
    if value is None:
        return None
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationError(
            f"{field} must be a whole number of seconds between {low} and {high}, got {value!r}.",
            field=field,
        )
    return value


# -- declarations ----------------------------------------------------------------------


def _flow(data: dict[str, Any]) -> dict[str, Any]:
    return as_dict(data.get("paymentFlow"))


def setup_call(
    protocol: V2Protocol,
    *,
    merchant_order_id: str,
    merchant_subscription_id: str,
    terms: SubscriptionTerms,
    instrument: UpiIntent | UpiCollect,
    order_expire_at_ms: int | None,
    meta_info: dict[str, str] | None,
) -> Prepared[SubscriptionSetup]:
    flow: dict[str, Any] = {
        "type": "SUBSCRIPTION_SETUP",
        "merchantSubscriptionId": merchant_subscription_id,
        "authWorkflowType": terms.auth_workflow,
        "amountType": terms.amount_type,
        "maxAmount": terms.max_amount,
        "frequency": terms.frequency,
    }
    if terms.expire_at_ms is not None:
        flow["expireAt"] = terms.expire_at_ms
    flow["paymentMode"] = instrument.to_wire()
    body: dict[str, Any] = {"merchantOrderId": merchant_order_id, "amount": terms.amount}
    if order_expire_at_ms is not None:
        body["expireAt"] = order_expire_at_ms
    if meta_info:
        body["metaInfo"] = meta_info
    body["paymentFlow"] = flow
    if isinstance(instrument, UpiIntent):
        # PhonePe's set-up page marks deviceContext.deviceOS mandatory for an intent: the
        # instrument's own context when it has one, else Android (where intents open).
        body["deviceContext"] = instrument.device_context() or {"deviceOS": "ANDROID"}
    spec = protocol._json("setup_subscription", "POST", "/subscriptions/v2/setup", body)

    def parse(data: dict[str, Any]) -> SubscriptionSetup:
        return SubscriptionSetup(
            merchant_order_id=merchant_order_id,
            merchant_subscription_id=merchant_subscription_id,
            order_id=as_str(data.get("orderId")),
            state=as_str(data.get("state")) or "PENDING",
            intent_url=as_str(data.get("intentUrl")),
            expire_at=ms_to_datetime(data.get("expireAt")),
            raw=data,
        )

    def adopt(status: OrderStatus) -> SubscriptionSetup | None:
        if status.amount is not None and status.amount != terms.amount:
            return None  # another order under this id: never adopt it
        sub = as_str(_flow(status.raw).get("merchantSubscriptionId"))
        if sub not in (None, merchant_subscription_id):
            return None
        return SubscriptionSetup(
            merchant_order_id=merchant_order_id,
            merchant_subscription_id=merchant_subscription_id,
            order_id=status.order_id,
            state=status.state,
            expire_at=status.expire_at,
            raw=status.raw,
        )

    status = lambda: subscription_order_status_call(protocol, merchant_order_id, details=False)  # noqa: E731
    return Prepared(spec, parse, needs_token=True, confirm=Confirm(status, adopt))


def subscription_status_call(
    protocol: V2Protocol, merchant_subscription_id: str, *, details: bool
) -> Prepared[SubscriptionStatus]:
    path = f"/subscriptions/v2/{merchant_subscription_id}/status"
    if details:
        path += "?details=true"
    spec = protocol._json("subscription_status", "GET", path, None)

    def parse(data: dict[str, Any]) -> SubscriptionStatus:
        return SubscriptionStatus(
            merchant_subscription_id=as_str(data.get("merchantSubscriptionId"))
            or merchant_subscription_id,
            subscription_id=as_str(data.get("subscriptionId")),
            state=(as_str(data.get("state")) or SubscriptionState.PENDING).upper(),
            frequency=as_str(data.get("frequency")),
            amount_type=as_str(data.get("amountType")),
            max_amount=as_int(data.get("maxAmount")),
            auth_workflow=as_str(data.get("authWorkflowType")),
            expire_at=ms_to_datetime(data.get("expireAt")),
            pause_start=ms_to_datetime(data.get("pauseStartDate")),
            pause_end=ms_to_datetime(data.get("pauseEndDate")),
            raw=data,
        )

    return Prepared(spec, parse, needs_token=True)


def notify_call(
    protocol: V2Protocol,
    *,
    merchant_order_id: str,
    merchant_subscription_id: str,
    amount: int,
    expire_at_ms: int | None,
    auto_debit: bool,
    retry_strategy: str,
    meta_info: dict[str, str] | None,
) -> Prepared[RedemptionNotice]:
    body: dict[str, Any] = {"merchantOrderId": merchant_order_id, "amount": amount}
    if expire_at_ms is not None:
        body["expireAt"] = expire_at_ms
    if meta_info:
        body["metaInfo"] = meta_info
    body["paymentFlow"] = {
        "type": "SUBSCRIPTION_REDEMPTION",
        "merchantSubscriptionId": merchant_subscription_id,
        "redemptionRetryStrategy": retry_strategy,
        "autoDebit": auto_debit,
    }
    spec = protocol._json("notify_redemption", "POST", "/subscriptions/v2/notify", body)

    def notice(data: dict[str, Any], order_id: Any, state: Any, expire: Any) -> RedemptionNotice:
        flow = _flow(data)
        return RedemptionNotice(
            merchant_order_id=merchant_order_id,
            order_id=as_str(order_id),
            state=as_str(state) or "PENDING",
            expire_at=expire if isinstance(expire, datetime) else ms_to_datetime(expire),
            valid_after=ms_to_datetime(flow.get("validAfter")),
            valid_until=ms_to_datetime(flow.get("validUpto")),
            raw=data,
        )

    def parse(data: dict[str, Any]) -> RedemptionNotice:
        return notice(data, data.get("orderId"), data.get("state"), data.get("expireAt"))

    def adopt(status: OrderStatus) -> RedemptionNotice | None:
        if status.amount is not None and status.amount != amount:
            return None
        sub = as_str(_flow(status.raw).get("merchantSubscriptionId"))
        if sub not in (None, merchant_subscription_id):
            return None  # this order id notified another mandate
        return notice(status.raw, status.order_id, status.state, status.expire_at)

    status = lambda: subscription_order_status_call(protocol, merchant_order_id, details=False)  # noqa: E731
    return Prepared(spec, parse, needs_token=True, confirm=Confirm(status, adopt))


def redeem_call(protocol: V2Protocol, merchant_order_id: str) -> Prepared[RedemptionResult]:
    body = {"merchantOrderId": merchant_order_id}
    spec = protocol._json("redeem", "POST", "/subscriptions/v2/redeem", body)

    def parse(data: dict[str, Any]) -> RedemptionResult:
        return RedemptionResult(
            merchant_order_id=merchant_order_id,
            transaction_id=as_str(data.get("transactionId")),
            state=as_str(data.get("state")) or "PENDING",
            raw=data,
        )

    def adopt(status: OrderStatus) -> RedemptionResult | None:
        # The debit exists once the order has an attempt; an order with none was only
        # notified, so the refusal was not about an earlier redeem of ours.
        if not status.payment_details:
            return None
        attempt = status.payment_details[-1]
        return RedemptionResult(
            merchant_order_id=merchant_order_id,
            transaction_id=attempt.transaction_id,
            state=attempt.state or status.state,
            raw=status.raw,
        )

    status = lambda: subscription_order_status_call(protocol, merchant_order_id, details=True)  # noqa: E731
    return Prepared(spec, parse, needs_token=True, confirm=Confirm(status, adopt))


def cancel_call(protocol: V2Protocol, merchant_subscription_id: str) -> Prepared[bool]:
    path = f"/subscriptions/v2/{merchant_subscription_id}/cancel"
    spec = protocol._json("cancel_subscription", "POST", path, None)

    def adopt(status: SubscriptionStatus) -> bool | None:
        return True if status.state == SubscriptionState.CANCELLED else None

    status = lambda: subscription_status_call(protocol, merchant_subscription_id, details=False)  # noqa: E731
    return Prepared(spec, lambda _data: True, needs_token=True, confirm=Confirm(status, adopt))


def subscription_order_status_call(
    protocol: V2Protocol, merchant_order_id: str, *, details: bool
) -> Prepared[OrderStatus]:
    path = f"/subscriptions/v2/order/{merchant_order_id}/status?details={str(details).lower()}"
    spec = protocol._json("subscription_order_status", "GET", path, None)
    return Prepared(spec, lambda data: parse_order_status(data, merchant_order_id), True)


def subscription_transaction_status_call(
    protocol: V2Protocol, transaction_id: str
) -> Prepared[OrderStatus]:
    path = f"/subscriptions/v2/transaction/{transaction_id}/status"
    spec = protocol._json("subscription_transaction_status", "GET", path, None)
    return Prepared(spec, lambda data: parse_order_status(data, ""), True)
