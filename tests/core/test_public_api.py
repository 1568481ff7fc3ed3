"""The public face: exactly these names (changing the list is changing the API), every one
resolvable, and all of it importable without Django."""

from __future__ import annotations

import subprocess
import sys

import phonepe_gateway

EXPECTED = [
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


def test_all_when_imported_then_matches_the_documented_names() -> None:
    # The order is ruff's (RUF022: constants, classes, then the rest), checked by the linter.
    assert phonepe_gateway.__all__ == EXPECTED


def test_all_when_imported_then_every_name_resolves() -> None:
    for name in phonepe_gateway.__all__:
        assert getattr(phonepe_gateway, name) is not None


def test_errors_when_public_then_all_rooted_at_phonepe_error() -> None:
    for name in EXPECTED:
        obj = getattr(phonepe_gateway, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, phonepe_gateway.PhonePeError)


def test_import_when_core_used_then_django_not_imported() -> None:
    code = (
        "import sys, phonepe_gateway; c = phonepe_gateway.PhonePeClient(); c.close(); "
        "print('django' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
