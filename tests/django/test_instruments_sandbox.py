"""Custom checkout on the real path: services -> PhonePeClient -> loopback -> the sandbox's
`/payments/v2/pay`, paid (or declined, or abandoned) in the sandbox's simulated UPI app or
bank page, settled by the reconciler; the ledger keeps the link only while it can pay."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.utils import timezone

from phonepe_gateway import NetBanking, UpiCollect, UpiIntent, UpiQr
from phonepe_gateway.django import reconcile, services
from phonepe_gateway.django.exceptions import GatewayUnavailable
from phonepe_gateway.django.models import Payment

pytestmark = pytest.mark.django_db(transaction=True)


def upi_app(sandbox, link: str, outcome: str, **extra) -> None:
    sandbox.control("POST", "/upi/pay", json={"link": link, "outcome": outcome, **extra})


def settle_by_reconciler(payment: Payment) -> Payment:
    """One reconciler pass with the payment due (the real status call decides)."""
    Payment.objects.filter(pk=payment.pk).update(next_check_at=timezone.now())
    assert reconcile.run_once() >= 1
    return Payment.objects.get(pk=payment.pk)


def test_upi_intent_paid_in_upi_app_then_completed_by_reconciler_and_link_cleared(
    phonepe_sandbox, signal_log
) -> None:
    payment = services.create_payment(amount=4200, reference="bay:12", instrument=UpiIntent())
    assert payment.state == "PENDING"
    assert payment.instrument == "UPI_INTENT"
    link = urlsplit(payment.intent_url)
    assert (link.scheme, link.netloc) == ("upi", "pay")
    query = parse_qs(link.query)
    assert query["am"] == ["42.00"]
    assert query["cu"] == ["INR"]
    assert payment.expires_at is not None

    upi_app(phonepe_sandbox, payment.intent_url, "PAY")
    payment = settle_by_reconciler(payment)
    assert payment.state == "COMPLETED"
    assert payment.transaction_id
    assert payment.instrument_data == {}
    assert payment.intent_url is None
    assert payment.instrument == "UPI_INTENT"
    assert signal_log.of(payment.merchant_order_id) == ["payment_completed"]
    refund = services.refund_payment(payment, amount=1000)
    assert refund.state in ("PENDING", "COMPLETED")


def test_upi_qr_declined_in_upi_app_then_failed_and_qr_cleared(phonepe_sandbox, signal_log) -> None:
    payment = services.create_payment(amount=1500, instrument=UpiQr())
    assert payment.qr_data.startswith("upi://pay?")
    upi_app(phonepe_sandbox, payment.qr_data, "DECLINE", reason="INVALID_MPIN")
    payment = services.sync_payment(payment)
    assert payment.state == "FAILED"
    assert payment.error_code
    assert payment.instrument_data == {}
    assert payment.qr_data is None
    assert signal_log.of(payment.merchant_order_id) == ["payment_failed"]


def test_upi_qr_left_pending_then_still_open_with_its_qr(phonepe_sandbox) -> None:
    payment = services.create_payment(amount=1500, instrument=UpiQr())
    upi_app(phonepe_sandbox, payment.qr_data, "PENDING")
    payment = services.sync_payment(payment)
    assert payment.state == "PENDING"
    assert payment.qr_data


def test_upi_collect_paid_from_the_inbox_then_completed(phonepe_sandbox) -> None:
    payment = services.create_payment(
        amount=2500, instrument=UpiCollect(vpa="driver@okaxis", message="Bay 12")
    )
    assert payment.state == "PENDING"
    assert payment.instrument_data == {}
    inbox = httpx.get(phonepe_sandbox.url + "/upi-app", params={"vpa": "driver@okaxis"})
    assert inbox.status_code == 200
    phonepe_sandbox.control(
        "POST", f"/upi/collect/{payment.merchant_order_id}", json={"outcome": "PAY"}
    )
    assert services.sync_payment(payment).state == "COMPLETED"


def test_upi_intent_abandoned_then_order_expires_and_link_cleared(
    phonepe_sandbox, signal_log
) -> None:
    payment = services.create_payment(amount=4200, instrument=UpiIntent())
    lifetime = (payment.expires_at - timezone.now()).total_seconds()
    phonepe_sandbox.advance(lifetime + 60)
    payment = settle_by_reconciler(payment)
    assert payment.state == "FAILED"
    assert payment.instrument_data == {}
    assert signal_log.of(payment.merchant_order_id) == ["payment_failed"]


def test_net_banking_then_bank_page_with_otp_served(phonepe_sandbox) -> None:
    payment = services.create_payment(amount=9900, instrument=NetBanking(bank_id="HDFC"))
    assert payment.checkout_url == ""
    assert payment.pay_url.startswith(phonepe_sandbox.url)
    page = httpx.get(payment.pay_url, timeout=5)
    assert page.status_code == 200
    assert "OTP" in page.text
    phonepe_sandbox.complete(payment.merchant_order_id)
    payment = services.sync_payment(payment)
    assert payment.state == "COMPLETED"
    assert payment.pay_url is None


@pytest.mark.parametrize("custom", [False, True])
def test_sdk_order_then_token_until_completed(phonepe_sandbox, custom) -> None:
    payment = services.create_sdk_order(amount=3000, custom_checkout=custom)
    assert payment.instrument == ("SDK_CUSTOM" if custom else "SDK")
    assert payment.sdk_token
    assert phonepe_sandbox.order(payment.merchant_order_id)["amount"] == 3000
    phonepe_sandbox.complete(payment.merchant_order_id)
    payment = services.sync_payment(payment)
    assert payment.state == "COMPLETED"
    assert payment.sdk_token is None


def test_intent_answer_lost_once_then_new_attempt_with_its_own_link(phonepe_sandbox) -> None:
    phonepe_sandbox.fault(
        method="POST", path="/payments/v2/pay", action="drop_after_commit", times=1
    )
    payment = services.create_payment(
        amount=5000, merchant_order_id="LOSTI-1", reference="t:i", instrument=UpiIntent()
    )
    assert payment.merchant_order_id == "LOSTI-1-L1"
    assert payment.instrument == "UPI_INTENT"
    assert payment.intent_url.startswith("upi://pay?")
    lost = Payment.objects.get(merchant_order_id="LOSTI-1")
    assert lost.superseded_by == "LOSTI-1-L1"
    assert lost.instrument == "UPI_INTENT"
    assert phonepe_sandbox.order("LOSTI-1-L1")["amount"] == 5000


def test_expired_by_local_clock_then_reconciler_clears_link_before_the_gateway_says(
    phonepe_sandbox,
) -> None:
    payment = services.create_payment(amount=4200, instrument=UpiIntent())
    later = payment.expires_at + timedelta(seconds=1)
    assert reconcile.run_once(now=later) == 1  # the sandbox's clock has not moved: PENDING
    payment.refresh_from_db()
    assert payment.state == "PENDING"
    assert payment.instrument_data == {}


def test_every_answer_lost_then_unknown_reconciled_and_retry_gets_a_fresh_link(
    phonepe_sandbox,
) -> None:
    phonepe_sandbox.fault(method="POST", path="/payments/v2/pay", action="drop_after_commit")
    with pytest.raises(GatewayUnavailable) as caught:
        services.create_payment(
            amount=5000, merchant_order_id="LOSTI-2", instrument=UpiQr(), resume=True
        )
    assert caught.value.code == "gateway_outcome_unknown"
    payment = Payment.objects.get(merchant_order_id="LOSTI-2")
    assert payment.state == "UNKNOWN"
    assert payment.instrument == "UPI_QR"
    phonepe_sandbox.control("DELETE", "/faults")
    payment = settle_by_reconciler(payment)
    assert payment.state == "PENDING"  # the gateway has it; its QR was in the lost answer
    assert payment.qr_data is None

    # The caller retries under the same Idempotency-Key: a new attempt with its own QR.
    again = services.create_payment(
        amount=5000, merchant_order_id="LOSTI-2", instrument=UpiQr(), resume=True
    )
    assert again.merchant_order_id == "LOSTI-2-L1"
    assert again.qr_data.startswith("upi://pay?")
    assert Payment.objects.get(pk=payment.pk).superseded_by == "LOSTI-2-L1"
