"""Admin of mandates: list, search, the debits inline, "sync now" and "cancel" through
the services; nothing about money or state is editable, nothing can be added."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from django.urls import reverse
from phonepe_gateway import UpiIntent
from phonepe_gateway.django import debits, subscriptions
from phonepe_gateway.django.models import Subscription

from . import autopay_fakes

pytestmark = pytest.mark.django_db(transaction=True)
autopay = autopay_fakes.autopay  # the fixture


def _active_with_debit(autopay) -> Subscription:
    sub = subscriptions.create_subscription(
        amount=20_000,
        max_amount=20_000,
        amount_type="FIXED",
        frequency="MONTHLY",
        instrument=UpiIntent(),
        reference="pass:lot-3",
        first_debit_at=datetime.now(UTC) + timedelta(hours=2),
    )
    autopay.approve(sub.merchant_subscription_id)
    subscriptions.sync_subscription(sub)
    Subscription.objects.update(next_check_at=datetime.now(UTC))
    debits.run_debits()
    return Subscription.objects.get(pk=sub.pk)


def test_subscription_admin_list_search_and_change_page_then_debits_shown(
    admin_client, autopay
) -> None:
    sub = _active_with_debit(autopay)
    url = reverse("admin:phonepe_subscription_changelist")
    page = admin_client.get(url, {"q": "pass:lot-3"})
    assert page.status_code == 200
    assert page.context["cl"].result_count == 1
    assert admin_client.get(url, {"state__exact": "ACTIVE"}).context["cl"].result_count == 1
    change = admin_client.get(reverse("admin:phonepe_subscription_change", args=[sub.pk]))
    assert change.status_code == 200
    text = change.content.decode()
    assert sub.debits.get(debit_period=1).merchant_order_id in text
    assert "₹200.00" in admin_client.get(url).content.decode()
    assert admin_client.get(reverse("admin:phonepe_subscription_add")).status_code == 403


def test_subscription_admin_edit_then_only_review_fields_written(admin_client, autopay) -> None:
    sub = _active_with_debit(autopay)
    url = reverse("admin:phonepe_subscription_change", args=[sub.pk])
    admin_client.post(
        url,
        {
            "needs_review": "on",
            "review_reason": "customer called",
            "state": "CANCELLED",
            "amount": 1,
            "debits-TOTAL_FORMS": "0",
            "debits-INITIAL_FORMS": "0",
        },
    )
    sub.refresh_from_db()
    assert sub.needs_review
    assert sub.review_reason == "customer called"
    assert (sub.state, sub.amount) == ("ACTIVE", 20_000)


def test_subscription_admin_actions_then_through_the_services(admin_client, autopay) -> None:
    sub = _active_with_debit(autopay)
    url = reverse("admin:phonepe_subscription_changelist")
    autopay.set_mandate(sub.merchant_subscription_id, "PAUSED")
    admin_client.post(url, {"action": "sync_now", "_selected_action": [sub.pk]})
    sub.refresh_from_db()
    assert sub.state == "PAUSED"
    admin_client.post(url, {"action": "cancel", "_selected_action": [sub.pk]})
    sub.refresh_from_db()
    assert sub.state == "CANCELLED"
    assert autopay.calls["cancel"] == 1
