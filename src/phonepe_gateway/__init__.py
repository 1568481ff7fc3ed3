"""phonepe-gateway: a resilient, typed PhonePe client (sync and asyncio).

This module only re-exports the public API; the code lives in private modules.
It never imports Django (see ``phonepe_gateway.django``).
"""

from __future__ import annotations

from ._client import AsyncPhonePeClient, PhonePeClient
from ._config import Secret, Settings, mask
from ._errors import (
    AuthenticationError,
    Category,
    CircuitOpenError,
    ConfigurationError,
    DuplicateRequestError,
    GatewayError,
    GatewayServerError,
    NotFoundError,
    PhonePeError,
    RateLimitedError,
    TransportError,
    ValidationError,
    WebhookVerificationError,
)
from ._events import CallEvent
from ._instruments import (
    Card,
    Instrument,
    NetBanking,
    PaymentModes,
    Token,
    UpiCollect,
    UpiIntent,
    UpiQr,
)
from ._models import (
    CreatePaymentResult,
    OrderState,
    OrderStatus,
    PaymentDetail,
    RefundResult,
    RefundState,
    RefundStatus,
    WebhookEvent,
)
from ._safety import is_loopback_url
from ._subscriptions import (
    AmountType,
    AuthWorkflow,
    Frequency,
    RedemptionNotice,
    RedemptionResult,
    RetryStrategy,
    SubscriptionSetup,
    SubscriptionState,
    SubscriptionStatus,
    check_subscription_terms,
)
from ._validation import (
    MIN_AMOUNT,
    MIN_REFUND_AMOUNT,
    check_amount,
    check_merchant_id,
    new_merchant_id,
)
from ._version import __version__

__all__ = [
    "MIN_AMOUNT",
    "MIN_REFUND_AMOUNT",
    "AmountType",
    "AsyncPhonePeClient",
    "AuthWorkflow",
    "AuthenticationError",
    "CallEvent",
    "Card",
    "Category",
    "CircuitOpenError",
    "ConfigurationError",
    "CreatePaymentResult",
    "DuplicateRequestError",
    "Frequency",
    "GatewayError",
    "GatewayServerError",
    "Instrument",
    "NetBanking",
    "NotFoundError",
    "OrderState",
    "OrderStatus",
    "PaymentDetail",
    "PaymentModes",
    "PhonePeClient",
    "PhonePeError",
    "RateLimitedError",
    "RedemptionNotice",
    "RedemptionResult",
    "RefundResult",
    "RefundState",
    "RefundStatus",
    "RetryStrategy",
    "Secret",
    "Settings",
    "SubscriptionSetup",
    "SubscriptionState",
    "SubscriptionStatus",
    "Token",
    "TransportError",
    "UpiCollect",
    "UpiIntent",
    "UpiQr",
    "ValidationError",
    "WebhookEvent",
    "WebhookVerificationError",
    "__version__",
    "check_amount",
    "check_merchant_id",
    "check_subscription_terms",
    "is_loopback_url",
    "mask",
    "new_merchant_id",
]
