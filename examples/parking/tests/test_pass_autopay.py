"""Monthly passes against a real sandbox on loopback: the mandate is set up, checked and
cancelled through the payments app, never faked."""

from __future__ import annotations

import socket
from typing import Any

import httpx
import pytest
from django.test import Client

from lots.models import Lot
from lots.models_pass import MonthlyPass, PassPlan, PassState
from phonepe_gateway.django.models import Payment, Subscription

PLATE = "MH 12 AB 1234"


@pytest.fixture
def plan(lot: Lot) -> PassPlan:
    return PassPlan.objects.create(lot=lot, monthly_price=150000)


def _buy(client: Client, lot: Lot) -> MonthlyPass:
    response = client.post(f"/lots/{lot.slug}/pass/", {"plate": PLATE})
    assert response.status_code == 302
    monthly_pass = MonthlyPass.objects.get()
    assert response["Location"] == f"/passes/{monthly_pass.pk}/"
    return monthly_pass


def _control(gateway: Any, msid: str, action: str) -> None:
    response = httpx.post(
        f"{gateway.url}/_sandbox/subscriptions/{msid}", json={"action": action}, timeout=10
    )
    response.raise_for_status()


def test_buy_when_gateway_up_then_monthly_fixed_mandate_waits_for_approval(
    plan: PassPlan, gateway: Any
) -> None:
    client = Client()
    monthly_pass = _buy(client, plan.lot)
    sub = Subscription.objects.get()
    assert sub.merchant_subscription_id == monthly_pass.merchant_subscription_id
    assert (sub.amount, sub.max_amount, sub.frequency) == (150000, 150000, "MONTHLY")
    assert sub.amount_type == "FIXED"
    assert sub.reference == f"parking-pass:{monthly_pass.pk}"
    assert (monthly_pass.state, sub.state) == (PassState.SETUP, "PENDING")
    page = client.get(f"/passes/{monthly_pass.pk}/").content.decode()
    assert "Approve AutoPay in your UPI app" in page
    assert f'href="{sub.intent_url}"'.replace("&", "&amp;") in page
    assert f"{gateway.url}/upi-app/" in page  # the sandbox's UPI app stands in locally


def test_check_when_approved_in_upi_app_then_active_without_webhook(
    plan: PassPlan, gateway: Any
) -> None:
    client = Client()
    monthly_pass = _buy(client, plan.lot)
    _control(gateway, monthly_pass.merchant_subscription_id, "APPROVE")
    assert client.post(f"/passes/{monthly_pass.pk}/check").status_code == 302
    monthly_pass.refresh_from_db()
    assert monthly_pass.state == PassState.ACTIVE
    assert monthly_pass.paid_until is not None
    page = client.get(f"/passes/{monthly_pass.pk}/").content.decode()
    assert "PASS ACTIVE" in page
    assert "first month (AutoPay set-up)" in page


def test_check_when_declined_in_upi_app_then_reason_and_set_up_again_offered(
    plan: PassPlan, gateway: Any
) -> None:
    client = Client()
    monthly_pass = _buy(client, plan.lot)
    first = monthly_pass.merchant_subscription_id
    _control(gateway, first, "DECLINE")
    client.post(f"/passes/{monthly_pass.pk}/check")
    monthly_pass.refresh_from_db()
    assert monthly_pass.state == PassState.SETUP
    assert monthly_pass.setup_error
    page = client.get(f"/passes/{monthly_pass.pk}/").content.decode()
    assert "Set up AutoPay again" in page
    client.post(f"/passes/{monthly_pass.pk}/setup")
    monthly_pass.refresh_from_db()
    assert monthly_pass.merchant_subscription_id not in ("", first)
    assert monthly_pass.setup_error == ""
    assert Subscription.objects.count() == 2


def test_end_when_active_then_mandate_cancelled_at_gateway(plan: PassPlan, gateway: Any) -> None:
    client = Client()
    monthly_pass = _buy(client, plan.lot)
    msid = monthly_pass.merchant_subscription_id
    _control(gateway, msid, "APPROVE")
    client.post(f"/passes/{monthly_pass.pk}/check")
    client.post(f"/passes/{monthly_pass.pk}/end")
    monthly_pass.refresh_from_db()
    assert monthly_pass.state == PassState.ENDED
    assert Subscription.objects.get(merchant_subscription_id=msid).state == "CANCELLED"
    mandate = httpx.get(f"{gateway.url}/_sandbox/subscriptions/{msid}", timeout=10).json()
    assert mandate["state"] == "CANCELLED"


def _gateway_down(settings: Any) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.PHONEPE = {**settings.PHONEPE, "local_url": f"http://127.0.0.1:{port}"}


def test_end_when_gateway_down_then_pass_and_mandate_unchanged(
    plan: PassPlan, gateway: Any, settings: Any
) -> None:
    client = Client()
    monthly_pass = _buy(client, plan.lot)
    _control(gateway, monthly_pass.merchant_subscription_id, "APPROVE")
    client.post(f"/passes/{monthly_pass.pk}/check")
    _gateway_down(settings)
    page = client.post(f"/passes/{monthly_pass.pk}/end", follow=True).content.decode()
    assert "could not be reached to stop AutoPay" in page
    monthly_pass.refresh_from_db()
    assert monthly_pass.state == PassState.ACTIVE  # never ended while it may still be debited
    assert Subscription.objects.get().state == "ACTIVE"


def test_buy_when_gateway_down_then_driver_told_and_can_set_up_later(
    plan: PassPlan, settings: Any
) -> None:
    _gateway_down(settings)
    client = Client()
    response = client.post(f"/lots/{plan.lot.slug}/pass/", {"plate": PLATE}, follow=True)
    page = response.content.decode()
    assert "could not be reached" in page
    assert "Set up UPI AutoPay" in page
    monthly_pass = MonthlyPass.objects.get()
    assert (monthly_pass.state, monthly_pass.merchant_subscription_id) == (PassState.SETUP, "")


def test_buy_when_stranger_left_unapproved_pass_then_replaced(plan: PassPlan, gateway: Any) -> None:
    stranger = Client()
    abandoned = _buy(stranger, plan.lot)
    driver = Client()
    response = driver.post(f"/lots/{plan.lot.slug}/pass/", {"plate": PLATE})
    assert response.status_code == 302
    abandoned.refresh_from_db()
    assert abandoned.state == PassState.ENDED
    fresh = MonthlyPass.objects.exclude(pk=abandoned.pk).get()
    assert response["Location"] == f"/passes/{fresh.pk}/"
    assert fresh.state == PassState.SETUP

    # PhonePe cannot cancel an unanswered set-up request. Should the stranger still
    # approve it, the mandate is cancelled and its set-up charge refunded.
    old_id = abandoned.merchant_subscription_id
    _control(gateway, old_id, "APPROVE")
    stranger.post(f"/passes/{abandoned.pk}/check")
    old = Subscription.objects.get(merchant_subscription_id=old_id)
    assert old.state == "CANCELLED"
    setup_charge = Payment.objects.get(subscription=old, state="COMPLETED")
    assert setup_charge.refunded_amount == setup_charge.amount == 150000
    assert MonthlyPass.objects.get(pk=abandoned.pk).state == PassState.ENDED


def test_buy_when_vehicle_has_active_pass_elsewhere_then_refused(
    plan: PassPlan, gateway: Any
) -> None:
    holder = Client()
    monthly_pass = _buy(holder, plan.lot)
    _control(gateway, monthly_pass.merchant_subscription_id, "APPROVE")
    holder.post(f"/passes/{monthly_pass.pk}/check")
    response = Client().post(f"/lots/{plan.lot.slug}/pass/", {"plate": PLATE})
    assert response.status_code == 400
    assert "already has a monthly pass" in response.content.decode()
    assert MonthlyPass.objects.get().state == PassState.ACTIVE


def test_buy_when_this_browser_has_the_pass_already_then_sent_to_it(
    plan: PassPlan, gateway: Any
) -> None:
    client = Client()
    monthly_pass = _buy(client, plan.lot)
    response = client.post(f"/lots/{plan.lot.slug}/pass/", {"plate": "mh12ab1234"})
    assert response["Location"] == f"/passes/{monthly_pass.pk}/"
    assert MonthlyPass.objects.count() == 1
    assert Subscription.objects.count() == 1  # no second AutoPay request
