"""Custom checkout in the ledger (fake gateway): a payment by instrument records the
instrument and keeps what the customer pays with (intent link, QR data, bank page, SDK
token) only while the order is open; lost links heal with the same instrument; the
state machine, webhooks and the reconciler settle it like any payment.
(tests/django/test_instruments_sandbox.py does the same over the real sandbox.)"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from phonepe_gateway import (
    CreatePaymentResult,
    NetBanking,
    UpiCollect,
    UpiIntent,
    UpiQr,
)
from phonepe_gateway.django import conf, reconcile, services, states
from phonepe_gateway.django.exceptions import Conflict, GatewayUnavailable, InvalidRequest
from phonepe_gateway.django.models import Payment

from .conftest import FakeGateway

pytestmark = pytest.mark.django_db(transaction=True)


@dataclass
class CheckoutGateway(FakeGateway):
    """The fake gateway, answering custom-checkout and SDK orders as PhonePe does."""

    #: the instrument each order was created with (None: the hosted page)
    instruments: dict[str, Any] = field(default_factory=dict)
    sdk_orders: dict[str, bool] = field(default_factory=dict)
    #: the next N answers come back without their link (recovered through the status API)
    lose_links: int = 0

    def create_payment(self, *, instrument: Any = None, **kw: Any) -> CreatePaymentResult:
        result = super().create_payment(**kw)
        self.instruments[result.merchant_order_id] = instrument
        if instrument is None:
            return result
        upi = (
            f"upi://pay?pa=merchant@ybl&pn=Test&tr={result.order_id}"
            f"&am={kw['amount'] / 100:.2f}&cu=INR"
        )
        links = {
            "UPI_INTENT": {"intent_url": upi},
            "UPI_QR": {"qr_data": upi, "intent_url": upi},  # both, as PhonePe answers
        }.get(instrument.mode)
        if links is None and instrument.mode != "UPI_COLLECT":  # card, token, net banking
            links = {"redirect_url": f"http://127.0.0.1:9/bank/{result.order_id}"}
        return self._answer(result, instrument.mode, links or {})

    def create_sdk_order(self, *, custom_checkout: bool = False, **kw: Any) -> CreatePaymentResult:
        result = super().create_payment(**kw)
        self.sdk_orders[result.merchant_order_id] = custom_checkout
        return self._answer(result, None, {"token": f"SDKTOKEN-{result.order_id}"})

    def _answer(
        self, result: CreatePaymentResult, mode: str | None, links: dict[str, str]
    ) -> CreatePaymentResult:
        if self.lose_links:
            self.lose_links -= 1
            links = {}
        values = {**result.model_dump(), "redirect_url": None, **links, "instrument": mode}
        return CreatePaymentResult.model_validate(values)


@pytest.fixture
def checkout_gateway() -> Any:
    fake = CheckoutGateway()
    conf.set_client(fake)
    yield fake
    conf.reset_client()


def test_upi_intent_then_intent_url_while_open_and_instrument_recorded(checkout_gateway) -> None:
    payment = services.create_payment(amount=4200, instrument=UpiIntent())
    assert payment.state == "PENDING"
    assert payment.instrument == "UPI_INTENT"
    assert payment.intent_url.startswith("upi://pay?")
    assert "am=42.00" in payment.intent_url
    assert payment.qr_data is None
    assert payment.sdk_token is None
    assert payment.checkout_url == ""
    assert payment.pay_url is None
    assert checkout_gateway.instruments[payment.merchant_order_id] == UpiIntent()
    stored = Payment.objects.get(pk=payment.pk)
    assert stored.instrument_data == {"intent_url": payment.intent_url}


def test_upi_qr_then_qr_data(checkout_gateway) -> None:
    payment = services.create_payment(amount=1500, instrument=UpiQr())
    assert payment.instrument == "UPI_QR"
    assert payment.qr_data.startswith("upi://pay?")
    assert payment.intent_url == payment.qr_data  # PhonePe answers the link for both


def test_net_banking_then_bank_page_is_where_the_customer_goes(checkout_gateway) -> None:
    payment = services.create_payment(amount=1500, instrument=NetBanking(bank_id="HDFC"))
    assert payment.instrument == "NET_BANKING"
    assert payment.pay_url == f"http://127.0.0.1:9/bank/{payment.gateway_order_id}"
    assert payment.checkout_url == ""


def test_upi_collect_then_no_link_and_no_successor(checkout_gateway) -> None:
    payment = services.create_payment(amount=1500, instrument=UpiCollect(vpa="driver@okaxis"))
    assert payment.state == "PENDING"
    assert payment.instrument == "UPI_COLLECT"
    assert payment.instrument_data == {}
    assert payment.pay_url is None
    assert not payment.superseded_by  # the request went to the customer's app: nothing lost
    assert checkout_gateway.calls["create_payment"] == 1


def test_hosted_page_default_then_unchanged(checkout_gateway) -> None:
    payment = services.create_payment(amount=1500)
    assert payment.instrument == ""
    assert payment.instrument_data == {}
    assert payment.checkout_url.startswith("http://127.0.0.1:9/checkout/")
    assert payment.pay_url == payment.checkout_url
    assert checkout_gateway.instruments[payment.merchant_order_id] is None


def test_sdk_order_then_token_while_open(checkout_gateway) -> None:
    payment = services.create_sdk_order(amount=2500)
    assert payment.instrument == "SDK"
    assert payment.sdk_token == f"SDKTOKEN-{payment.gateway_order_id}"
    assert checkout_gateway.sdk_orders[payment.merchant_order_id] is False
    custom = services.create_sdk_order(amount=2500, custom_checkout=True)
    assert custom.instrument == "SDK_CUSTOM"
    assert checkout_gateway.sdk_orders[custom.merchant_order_id] is True


def test_not_an_instrument_then_invalid_and_nothing_stored(checkout_gateway) -> None:
    with pytest.raises(InvalidRequest) as caught:
        services.create_payment(amount=1500, instrument={"type": "UPI_INTENT"})  # type: ignore[arg-type]
    assert caught.value.details == {"field": "instrument"}
    assert not Payment.objects.exists()
    assert checkout_gateway.calls["create_payment"] == 0


@pytest.mark.parametrize("outcome", ["COMPLETED", "FAILED"])
def test_webhook_closes_order_then_intent_data_cleared(checkout_gateway, outcome) -> None:
    payment = services.create_payment(amount=4200, instrument=UpiIntent())
    checkout_gateway.settle(payment.merchant_order_id, outcome)
    event = services.receive_webhook(*checkout_gateway.order_webhook(payment.merchant_order_id))
    services.process_webhook(event)
    payment.refresh_from_db()
    assert payment.state == outcome
    assert payment.instrument == "UPI_INTENT"  # the record of how it was paid stays
    assert payment.instrument_data == {}
    assert payment.intent_url is None


def test_reconciler_completes_then_qr_data_cleared(checkout_gateway, signal_log) -> None:
    payment = services.create_payment(amount=4200, instrument=UpiQr())
    checkout_gateway.settle(payment.merchant_order_id, "COMPLETED")
    assert reconcile.run_once(now=payment.next_check_at) == 1
    payment.refresh_from_db()
    assert (payment.state, payment.instrument_data) == ("COMPLETED", {})
    assert signal_log.of(payment.merchant_order_id) == ["payment_completed"]


def test_reconciler_asks_custom_checkouts_status_path_for_instrument_orders(
    checkout_gateway,
) -> None:
    # PhonePe's CustomCheckoutClient asks /payments/v2/order/{id}/status for these orders;
    # the hosted page's and the standard SDK order's stay on /checkout/v2/.
    intent = services.create_payment(amount=4200, instrument=UpiIntent())
    hosted = services.create_payment(amount=4200)
    sdk = services.create_sdk_order(amount=4200)
    custom_sdk = services.create_sdk_order(amount=4200, custom_checkout=True)
    for payment in (intent, hosted, sdk, custom_sdk):
        before = checkout_gateway.calls["order_status_custom"]
        services.sync_payment(payment)
        asked_custom = checkout_gateway.calls["order_status_custom"] - before
        assert asked_custom == (payment in (intent, custom_sdk)), payment.instrument


def test_reconciler_finds_it_expired_then_data_cleared_state_kept(checkout_gateway) -> None:
    payment = services.create_payment(amount=4200, instrument=UpiIntent())
    assert reconcile.run_once(now=payment.expires_at + timedelta(seconds=1)) == 1
    payment.refresh_from_db()
    assert payment.state == "PENDING"  # only the gateway's answer closes it
    assert payment.instrument_data == {}
    # ... and a late completion still settles it.
    checkout_gateway.settle(payment.merchant_order_id, "COMPLETED")
    services.sync_payment(payment)
    assert Payment.objects.get(pk=payment.pk).state == "COMPLETED"


def test_expired_data_is_not_shown_even_before_the_reconciler_clears_it(checkout_gateway) -> None:
    payment = services.create_payment(amount=4200, instrument=UpiIntent())
    Payment.objects.filter(pk=payment.pk).update(
        expires_at=payment.created_at - timedelta(seconds=1)
    )
    payment.refresh_from_db()
    assert payment.instrument_data
    assert payment.intent_url is None


def test_create_answer_after_completion_then_data_not_kept(checkout_gateway) -> None:
    """The webhook can complete a CREATED payment before its own create answer is recorded."""
    payment = Payment.objects.create(merchant_order_id="MO-race-1", amount=1000)
    states.move_payment(payment.pk, "COMPLETED", info={"gateway_order_id": "OMO1"})
    late = states.acknowledge_payment(
        payment, info={"instrument_data": {"intent_url": "upi://pay?pa=x@y&am=10.00"}}
    )
    assert late.state == "COMPLETED"
    assert Payment.objects.get(pk=payment.pk).instrument_data == {}


def test_lost_intent_link_then_successor_with_same_instrument(checkout_gateway) -> None:
    checkout_gateway.lose_links = 1
    payment = services.create_payment(
        amount=4200, merchant_order_id="MO-lost-1", reference="r:1", instrument=UpiIntent()
    )
    assert payment.merchant_order_id == "MO-lost-1-L1"
    assert payment.instrument == "UPI_INTENT"
    assert payment.intent_url
    assert checkout_gateway.instruments["MO-lost-1-L1"] == UpiIntent()
    lost = Payment.objects.get(merchant_order_id="MO-lost-1")
    assert lost.superseded_by == "MO-lost-1-L1"
    assert lost.instrument == "UPI_INTENT"


def test_links_lost_past_the_heal_limit_then_a_retry_heals_once_more(checkout_gateway) -> None:
    # Found by the fault campaign: every answer of a request (and its heals) lost, so it
    # ends in 502 checkout_link_lost; the retry under the same key must not count the
    # successors it merely walks along as heals of its own, or it answers 502 for ever.
    checkout_gateway.lose_links = 4  # the order and its three heals
    with pytest.raises(GatewayUnavailable) as first:
        services.create_payment(
            amount=4200, merchant_order_id="MO-chain", instrument=UpiIntent(), resume=True
        )
    assert first.value.code == "checkout_link_lost"
    assert Payment.objects.get(merchant_order_id="MO-chain-L3").superseded_by == ""
    retry = services.create_payment(
        amount=4200, merchant_order_id="MO-chain", instrument=UpiIntent(), resume=True
    )
    assert retry.merchant_order_id == "MO-chain-L4"
    assert retry.intent_url


def test_lost_sdk_token_then_successor_sdk_order(checkout_gateway) -> None:
    checkout_gateway.lose_links = 1
    payment = services.create_sdk_order(amount=4200, merchant_order_id="MO-sdk-1")
    assert payment.merchant_order_id == "MO-sdk-1-L1"
    assert payment.sdk_token
    assert checkout_gateway.sdk_orders["MO-sdk-1-L1"] is False


def test_resume_with_same_instrument_then_same_payment(checkout_gateway) -> None:
    first = services.create_payment(
        amount=4200, merchant_order_id="MO-key-1", instrument=UpiQr(), resume=True
    )
    again = services.create_payment(
        amount=4200, merchant_order_id="MO-key-1", instrument=UpiQr(), resume=True
    )
    assert again.pk == first.pk
    assert again.qr_data == first.qr_data
    assert checkout_gateway.calls["create_payment"] == 1


def test_resume_with_other_instrument_then_conflict(checkout_gateway) -> None:
    services.create_payment(
        amount=4200, merchant_order_id="MO-key-2", instrument=UpiQr(), resume=True
    )
    with pytest.raises(Conflict):
        services.create_payment(
            amount=4200, merchant_order_id="MO-key-2", instrument=UpiIntent(), resume=True
        )
    with pytest.raises(Conflict):
        services.create_payment(amount=4200, merchant_order_id="MO-key-2", resume=True)


def test_admin_lists_and_filters_by_instrument(admin_client, checkout_gateway) -> None:
    from django.urls import reverse

    qr = services.create_payment(amount=4200, instrument=UpiQr())
    hosted = services.create_payment(amount=4200)
    url = reverse("admin:phonepe_payment_changelist")
    page = admin_client.get(url).content.decode()
    assert "UPI_QR" in page
    assert "hosted page" in page
    only_qr = admin_client.get(url, {"instrument__exact": "UPI_QR"})
    assert [p.pk for p in only_qr.context["cl"].result_list] == [qr.pk]
    change = admin_client.get(reverse("admin:phonepe_payment_change", args=[hosted.pk]))
    assert set(change.context["adminform"].form.fields) == {"needs_review", "review_reason"}


@pytest.mark.parametrize(
    "bad",
    [
        {"reference": "bay\x0012"},
        {"metadata": {"plate": "KA\x0001"}},
        {"metadata": {"\x00": "x"}},
        {"metadata": {"nested": ["ok", {"deep": "\x00"}]}},
    ],
)
def test_nul_character_then_invalid_and_nothing_stored(checkout_gateway, bad) -> None:
    """PostgreSQL stores no NUL in text or jsonb: refused as bad input, never a 503."""
    with pytest.raises(InvalidRequest):
        services.create_payment(amount=1500, instrument=UpiQr(), **bad)
    assert not Payment.objects.exists()
    assert checkout_gateway.calls["create_payment"] == 0


def test_refund_reason_with_nul_then_invalid_and_nothing_reserved(checkout_gateway) -> None:
    payment = services.create_payment(amount=1500, instrument=UpiQr())
    checkout_gateway.settle(payment.merchant_order_id, "COMPLETED")
    payment = services.sync_payment(payment)
    with pytest.raises(InvalidRequest):
        services.refund_payment(payment, amount=500, reason="oops\x00")
    assert Payment.objects.get(pk=payment.pk).refunded_amount == 0
