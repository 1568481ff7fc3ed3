"""UPI AutoPay rules and records for the sandbox: what PhonePe allows, the two state
machines (mandate, set-up/redemption order), the failures a debit can meet, and the
mandate and redemption records. Pure data and checks; :mod:`.subscriptions` applies them.
Which rules are PhonePe's and which are the sandbox's own is listed in docs/SANDBOX.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .failures import FAILURES, Failure
from .state import StateError

__all__ = [
    "AMOUNT_TYPES",
    "AUTH_WORKFLOWS",
    "CUSTOM_TRIES",
    "DEBIT_FAILURES",
    "DEFAULT_PAUSE",
    "DEFAULT_VALIDITY",
    "FREQUENCIES",
    "MANDATE_TRANSITIONS",
    "NOTICE_PERIOD",
    "ORDER_OPEN",
    "ORDER_TRANSITIONS",
    "PENNY_DROP_AMOUNT",
    "REDEMPTION_WINDOW",
    "RETRY_STRATEGIES",
    "SETUP_EXPIRY",
    "SETUP_MODES",
    "Mandate",
    "Redemption",
    "check_debit_amount",
    "check_setup",
    "failure_for_state",
]

FREQUENCIES = frozenset(
    {
        "DAILY",
        "WEEKLY",
        "FORTNIGHTLY",
        "MONTHLY",
        "BIMONTHLY",
        "QUARTERLY",
        "HALFYEARLY",
        "YEARLY",
        "ON_DEMAND",
    }
)
AMOUNT_TYPES = frozenset({"FIXED", "VARIABLE"})
AUTH_WORKFLOWS = frozenset({"TRANSACTION", "PENNY_DROP"})
RETRY_STRATEGIES = frozenset({"STANDARD", "CUSTOM"})

#: The mandate's state machine: the only moves :meth:`Subscriptions._move` makes.
MANDATE_TRANSITIONS: dict[str, frozenset[str]] = {
    "PENDING": frozenset({"ACTIVE", "FAILED"}),
    "ACTIVE": frozenset({"PAUSED", "REVOKED", "CANCELLED", "EXPIRED"}),
    "PAUSED": frozenset({"ACTIVE", "REVOKED", "CANCELLED", "EXPIRED"}),
    "FAILED": frozenset(),
    "REVOKED": frozenset(),
    "CANCELLED": frozenset(),
    "EXPIRED": frozenset(),
}
#: Set-up and redemption orders. A CUSTOM-retry debit that fails with tries left goes
#: back to NOTIFIED (the merchant may redeem again inside the window).
ORDER_TRANSITIONS: dict[str, frozenset[str]] = {
    "NOTIFICATION_IN_PROGRESS": frozenset({"NOTIFIED", "FAILED"}),
    "NOTIFIED": frozenset({"PENDING", "FAILED"}),
    "PENDING": frozenset({"COMPLETED", "FAILED", "NOTIFIED"}),
    "COMPLETED": frozenset(),
    "FAILED": frozenset(),
}

#: PhonePe: the debit may run only 24 hours after the customer was notified.
NOTICE_PERIOD = 24 * 3600.0
#: PhonePe: a notified order expires 48 hours after notify unless ``expireAt`` says otherwise.
REDEMPTION_WINDOW = 48 * 3600.0
#: PhonePe: CUSTOM retries are one attempt plus three retries.
CUSTOM_TRIES = 4
#: Sandbox's choice: a set-up order waits 10 minutes for the customer (PhonePe's pages say 5 or 10).
SETUP_EXPIRY = 600.0
#: Sandbox's choice: a mandate without ``expireAt`` runs 30 years.
DEFAULT_VALIDITY = 30 * 365 * 86400.0
#: Sandbox's choice: a pause without an end date lasts 30 days.
DEFAULT_PAUSE = 30 * 86400.0
#: Sandbox's choice: PENNY_DROP set-ups debit (and verify) exactly this much.
PENNY_DROP_AMOUNT = 200

ORDER_OPEN = frozenset({"NOTIFICATION_IN_PROGRESS", "NOTIFIED", "PENDING"})

#: Why a debit fails; the mandate ones are the sandbox's own codes (PhonePe publishes none).
DEBIT_FAILURES: dict[str, Failure] = {
    "INSUFFICIENT_BALANCE": FAILURES["INSUFFICIENT_BALANCE"],
    "PAUSED": Failure(
        "MANDATE_PAUSED",
        "MANDATE_PAUSED_BY_PAYER",
        "AUTHORIZATION",
        "CUSTOMER",
        "The customer paused the AutoPay mandate.",
        "MANDATE_PAUSED_BY_PAYER",
    ),
    "REVOKED": Failure(
        "MANDATE_REVOKED",
        "MANDATE_REVOKED_BY_PAYER",
        "AUTHORIZATION",
        "CUSTOMER",
        "The customer revoked the AutoPay mandate.",
        "MANDATE_REVOKED_BY_PAYER",
    ),
    "CANCELLED": Failure(
        "MANDATE_CANCELLED",
        "MANDATE_CANCELLED_BY_MERCHANT",
        "AUTHORIZATION",
        "MERCHANT",
        "The merchant cancelled the AutoPay mandate.",
        "MANDATE_CANCELLED_BY_MERCHANT",
    ),
    "EXPIRED": Failure(
        "MANDATE_EXPIRED",
        "MANDATE_VALIDITY_ENDED",
        "AUTHORIZATION",
        "MERCHANT",
        "The AutoPay mandate has expired.",
        "MANDATE_VALIDITY_ENDED",
    ),
    "BANK_TECHNICAL_ISSUE": FAILURES["BANK_TECHNICAL_ISSUE"],
}
_NOT_ACTIVE = Failure(
    "MANDATE_NOT_ACTIVE",
    "MANDATE_INACTIVE",
    "AUTHORIZATION",
    "MERCHANT",
    "The AutoPay mandate is not active.",
    "MANDATE_INACTIVE",
)


def failure_for_state(state: str) -> Failure:
    """Why a notification or debit fails on a mandate in ``state`` (not ACTIVE)."""
    return DEBIT_FAILURES.get(state, _NOT_ACTIVE)


SETUP_MODES = {"UPI_INTENT": "UPI_INTENT", "UPI_COLLECT": "UPI_COLLECT"}


@dataclass
class Mandate:
    merchant_subscription_id: str
    subscription_id: str
    merchant_id: str
    setup_order_id: str
    auth_workflow: str
    amount_type: str
    max_amount: int
    frequency: str
    expire_at: float
    instrument: str
    created_at: float
    payer_vpa: str
    target_app: str | None = None
    state: str = "PENDING"
    pause_start: float | None = None
    pause_end: float | None = None
    #: Money in the payer's account in paise; None = enough for anything.
    balance: int | None = None
    #: (at, from, to) for every move, oldest first.
    history: list[tuple[float, str, str]] = field(default_factory=list)
    redemption_ids: list[str] = field(default_factory=list)


@dataclass
class Redemption:
    merchant_order_id: str
    merchant_subscription_id: str
    retry_strategy: str
    auto_debit: bool
    requested_at: float
    notified_at: float
    valid_after: float
    valid_upto: float
    #: When the debit now running resolves (None: no debit running).
    debit_at: float | None = None
    tries: int = 0


def check_setup(
    amount: int,
    max_amount: int,
    auth_workflow: str,
    amount_type: str,
    frequency: str,
    instrument: str,
) -> None:
    for value, allowed, name in (
        (auth_workflow, AUTH_WORKFLOWS, "paymentFlow.authWorkflowType"),
        (amount_type, AMOUNT_TYPES, "paymentFlow.amountType"),
        (frequency, FREQUENCIES, "paymentFlow.frequency"),
        (instrument, frozenset(SETUP_MODES), "paymentFlow.paymentMode.type"),
    ):
        if value not in allowed:
            raise StateError("BAD_REQUEST", f"{name} must be one of {', '.join(sorted(allowed))}.")
    if auth_workflow == "PENNY_DROP" and amount < PENNY_DROP_AMOUNT:
        raise StateError("BAD_REQUEST", "amount must be at least 200 paise for PENNY_DROP.")
    if max_amount < amount and auth_workflow == "TRANSACTION":
        raise StateError(
            "BAD_REQUEST", "paymentFlow.maxAmount must be at least the first debit (amount)."
        )


def check_debit_amount(mandate: Mandate, amount: int) -> None:
    if amount > mandate.max_amount:
        raise StateError(
            "BAD_REQUEST",
            f"amount {amount} exceeds the subscription's maxAmount {mandate.max_amount}.",
        )
    if mandate.amount_type == "FIXED" and amount != mandate.max_amount:
        raise StateError(
            "BAD_REQUEST",
            f"A FIXED subscription debits exactly its maxAmount ({mandate.max_amount}).",
        )
