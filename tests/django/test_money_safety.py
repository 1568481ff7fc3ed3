"""Money is never lost or double-counted where an answer goes missing: a write that may
have reached PhonePe stays UNKNOWN (its refund amount reserved), never FAILED; a refund id
used elsewhere is never adopted; a FAILED order that turns up at the gateway is flagged.

Each test goes through the real path (services -> PhonePeClient -> loopback -> the
local sandbox with fault rules).
"""

from __future__ import annotations

import pytest

from phonepe_gateway.django import services
from phonepe_gateway.django.exceptions import GatewayUnavailable
from phonepe_gateway.django.models import Payment, Refund

pytestmark = pytest.mark.django_db(transaction=True)

REFUND = "/payments/v2/refund"
REFUND_STATUS = "/payments/v2/refund/*"
ORDER_STATUS = "/checkout/v2/order/*"


def _completed_payment(phonepe_sandbox, amount: int = 10_000) -> Payment:
    payment = services.create_payment(amount=amount)
    phonepe_sandbox.complete(payment.merchant_order_id)
    payment = services.sync_payment(payment)
    assert payment.state == "COMPLETED"
    return payment


def test_refund_answer_lost_then_retry_refused_then_unknown_and_amount_kept_reserved(
    phonepe_sandbox, signal_log
) -> None:
    # Attempt 1 reaches the gateway (which refunds) and the answer is lost; the retry
    # gets a 4xx and the status check that would resolve it is refused too. The 4xx says
    # nothing about attempt 1: the refund may exist.
    payment = _completed_payment(phonepe_sandbox)
    phonepe_sandbox.fault(method="POST", path=REFUND, action="drop_after_commit", times=1)
    phonepe_sandbox.fault(method="POST", path=REFUND, action="status", status=400, times=1)
    phonepe_sandbox.fault(method="GET", path=REFUND_STATUS, action="status", status=400, times=1)
    with pytest.raises(GatewayUnavailable) as info:
        services.refund_payment(payment, amount=6000, merchant_refund_id="RV-LOST-1")
    assert info.value.code == "gateway_outcome_unknown"
    refund = Refund.objects.get(merchant_refund_id="RV-LOST-1")
    assert refund.state == "UNKNOWN"
    payment.refresh_from_db()
    assert payment.refunded_amount == 6000  # never released on maybe-sent
    assert signal_log.of("RV-LOST-1") == []
    # The remainder stays protected: a second refund of 6000 would double-refund.
    with pytest.raises(Exception, match="remainder"):
        services.refund_payment(payment, amount=6000, merchant_refund_id="RV-LOST-2")
    # And the reconciler finds the truth: the gateway did refund.
    assert services.sync_refund(refund).state == "PENDING"


def test_create_payment_answer_lost_then_retry_refused_then_unknown_not_failed(
    phonepe_sandbox, signal_log
) -> None:
    pay = "/checkout/v2/pay"
    phonepe_sandbox.fault(method="POST", path=pay, action="drop_after_commit", times=1)
    phonepe_sandbox.fault(method="POST", path=pay, action="status", status=400, times=1)
    phonepe_sandbox.fault(method="GET", path=ORDER_STATUS, action="status", status=400, times=1)
    with pytest.raises(GatewayUnavailable):
        services.create_payment(amount=5000, merchant_order_id="RV-PAY-1")
    payment = Payment.objects.get(merchant_order_id="RV-PAY-1")
    assert payment.state == "UNKNOWN"
    assert signal_log.of("RV-PAY-1") == []
    assert phonepe_sandbox.order("RV-PAY-1")["state"] == "PENDING"  # it does exist


def test_refund_answer_lost_then_retry_refused_then_recovered_through_status(
    phonepe_sandbox, signal_log
) -> None:
    # As real PhonePe answers a reused merchantRefundId: a plain 400 BAD_REQUEST. The client
    # asks the refund status, finds attempt 1's refund and adopts it: PENDING, not UNKNOWN.
    payment = _completed_payment(phonepe_sandbox)
    phonepe_sandbox.fault(method="POST", path=REFUND, action="drop_after_commit", times=1)
    refund = services.refund_payment(payment, amount=6000, merchant_refund_id="RV-ADOPT-1")
    assert refund.state == "PENDING"
    payment.refresh_from_db()
    assert payment.refunded_amount == 6000
    assert len(phonepe_sandbox.order(payment.merchant_order_id)["refunds"]) == 1


def test_create_payment_answer_lost_then_retry_refused_then_recovered_through_status(
    phonepe_sandbox,
) -> None:
    phonepe_sandbox.fault(
        method="POST", path="/checkout/v2/pay", action="drop_after_commit", times=1
    )
    # Adopted through the order status: the order is known (PENDING, followed by the
    # reconciler), only its checkout link was in the lost answer, so the service heals it
    # with a new attempt under the same purpose and the caller sees one successful create.
    created = services.create_payment(amount=5000, merchant_order_id="RV-ADOPT-2")
    assert created.merchant_order_id == "RV-ADOPT-2-L1"
    assert created.checkout_url
    lost = Payment.objects.get(merchant_order_id="RV-ADOPT-2")
    assert lost.state == "PENDING"
    assert lost.superseded_by == "RV-ADOPT-2-L1"
    assert lost.gateway_order_id == phonepe_sandbox.order("RV-ADOPT-2")["orderId"]


def test_api_refund_answer_lost_then_retry_refused_then_502_unknown_not_422(
    phonepe_sandbox, settings, client
) -> None:
    # A 422 tells the merchant "rejected, nothing happened"; the refund may exist.
    settings.PHONEPE = {**settings.PHONEPE, "service_api_keys": ["rv-key-0001"]}
    payment = _completed_payment(phonepe_sandbox)
    phonepe_sandbox.fault(method="POST", path=REFUND, action="drop_after_commit", times=1)
    phonepe_sandbox.fault(method="POST", path=REFUND, action="status", status=400, times=1)
    phonepe_sandbox.fault(method="GET", path=REFUND_STATUS, action="status", status=400, times=1)
    response = client.post(
        f"/api/payments/{payment.merchant_order_id}/refunds",
        {"amount": 3000, "merchant_refund_id": "RV-API-1"},
        content_type="application/json",
        headers={"Authorization": "Bearer rv-key-0001"},
    )
    assert response.status_code == 502, response.content
    error = response.json()["error"]
    assert error["code"] == "gateway_outcome_unknown"
    assert error["details"]["state"] == "UNKNOWN"


def test_generation_1_refund_callback_then_confirmed_as_refund_not_unknown_order(
    phonepe_sandbox, settings, signal_log
) -> None:
    import base64
    import hashlib
    import json

    from phonepe_gateway.sandbox.views import gen1_refund_json

    salt = "sandbox-salt-key"
    settings.PHONEPE = {
        **settings.PHONEPE,
        "api_version": "v1",
        "merchant_id": "PGSANDBOXMERCHANT",
        "salt_key": salt,
        "salt_index": 1,
    }
    payment = _completed_payment(phonepe_sandbox, amount=2500)
    refund = services.refund_payment(payment, amount=1000, merchant_refund_id="RV-G1-R1")
    assert refund.state == "PENDING"
    phonepe_sandbox.advance(60)  # the sandbox settles the refund
    # The callback PhonePe sends for it: generation 1 names the refund merchantTransactionId.
    record = phonepe_sandbox.running.state.get_refund("RV-G1-R1")
    response = base64.b64encode(json.dumps(gen1_refund_json(record)).encode()).decode()
    x_verify = hashlib.sha256((response + salt).encode()).hexdigest() + "###1"
    event = services.receive_webhook(
        {"X-VERIFY": x_verify, "Content-Type": "application/json"},
        json.dumps({"response": response}).encode(),
    )
    services.process_webhook(event)
    event.refresh_from_db()
    assert event.processing_result == "applied", event.processing_result
    assert Refund.objects.get(merchant_refund_id="RV-G1-R1").state == "COMPLETED"
    assert signal_log.of("RV-G1-R1") == ["refund_completed"]


def test_refund_id_used_outside_this_ledger_then_other_orders_refund_never_adopted(
    phonepe_sandbox, signal_log
) -> None:
    # Another system on the same merchant account already refunded order A under
    # "RV-SHARED-1". Our refund of order B with that id is refused (PhonePe's plain 400
    # BAD_REQUEST: nothing was sent before, so nothing of ours exists); the gateway's
    # refund "RV-SHARED-1" is A's, and must never complete B's refund.
    from phonepe_gateway import PhonePeClient

    a = _completed_payment(phonepe_sandbox, amount=5000)
    b = _completed_payment(phonepe_sandbox, amount=5000)
    with PhonePeClient(env="local", local_url=phonepe_sandbox.url) as other_system:
        other_system.refund(
            original_merchant_order_id=a.merchant_order_id,
            amount=1000,
            merchant_refund_id="RV-SHARED-1",
        )
    with pytest.raises(GatewayUnavailable) as info:
        services.refund_payment(b, amount=1000, merchant_refund_id="RV-SHARED-1")
    assert "already used" in str(info.value)  # the caller is told why
    phonepe_sandbox.advance(60)  # A's refund settles at the gateway
    refund = services.sync_refund("RV-SHARED-1")
    assert refund.state != "COMPLETED"
    assert refund.needs_review
    assert "refund_completed" not in signal_log.of("RV-SHARED-1")
    b.refresh_from_db()
    assert b.refunded_amount == 0


def test_failed_as_never_received_then_gateway_has_it_pending_then_flagged(
    phonepe_sandbox,
) -> None:
    # Marked FAILED because the gateway did not know the order; then the held-up pay
    # request lands. FAILED is not re-checked, so the first answer that shows the order
    # exists must put it in front of a human before the customer pays.
    from datetime import timedelta

    from phonepe_gateway import PhonePeClient

    payment = Payment.objects.create(merchant_order_id="RV-HELD-1", amount=1000, state="UNKNOWN")
    later = payment.created_at + timedelta(minutes=5)
    assert services.sync_payment(payment, now=later).state == "FAILED"
    with PhonePeClient(env="local", local_url=phonepe_sandbox.url) as held_up_request:
        held_up_request.create_payment(amount=1000, merchant_order_id="RV-HELD-1")
    payment = services.sync_payment("RV-HELD-1")
    assert payment.state == "FAILED"
    assert payment.needs_review
    assert "late authorisation" in payment.review_reason


def test_sync_of_refused_payment_then_not_found_is_no_news_and_not_flagged(
    phonepe_sandbox,
) -> None:
    payment = Payment.objects.create(merchant_order_id="RV-REFUSED-1", amount=1000, state="FAILED")
    payment = services.sync_payment(payment)
    assert payment.state == "FAILED"
    assert not payment.needs_review


def test_api_refund_id_already_used_at_the_gateway_then_4xx_that_says_so(
    phonepe_sandbox, settings, client
) -> None:
    # The merchant really reused a refund id (used outside this ledger): PhonePe's plain
    # 400 on a first attempt is the caller's error, a clear 4xx, never a 5xx.
    from phonepe_gateway import PhonePeClient

    settings.PHONEPE = {**settings.PHONEPE, "service_api_keys": ["rv-key-0002"]}
    a = _completed_payment(phonepe_sandbox, amount=5000)
    b = _completed_payment(phonepe_sandbox, amount=5000)
    with PhonePeClient(env="local", local_url=phonepe_sandbox.url) as other_system:
        other_system.refund(
            original_merchant_order_id=a.merchant_order_id,
            amount=1000,
            merchant_refund_id="RV-SHARED-API",
        )
    response = client.post(
        f"/api/payments/{b.merchant_order_id}/refunds",
        {"amount": 1000, "merchant_refund_id": "RV-SHARED-API"},
        content_type="application/json",
        headers={"Authorization": "Bearer rv-key-0002"},
    )
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["code"] == "gateway_rejected"
    assert "already used" in error["message"]
    assert Refund.objects.get(merchant_refund_id="RV-SHARED-API").state == "FAILED"
