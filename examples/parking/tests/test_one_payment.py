"""One ticket, one payment: a link that only looks expired is synced before a new one is
issued, and a second completed payment for a ticket is refunded automatically."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from django.utils import timezone

from lots import services
from lots.models import ParkingSession, SessionState
from phonepe_gateway.django import services as payments
from phonepe_gateway.django.models import Payment, Refund

RETURN = "http://127.0.0.1:8000/return"
# The payments app signals after commit: the tests need real commits.
pytestmark = pytest.mark.django_db(transaction=True)


def _complete(gateway: Any, order_id: str) -> None:
    url = f"{gateway.url}/_sandbox/orders/{order_id}/complete"
    httpx.post(url, json={}, timeout=10).raise_for_status()


def test_new_link_when_old_one_looks_expired_but_was_paid_then_refused_and_ticket_paid(
    due: ParkingSession, gateway: Any
) -> None:
    first = services.start_payment(due, confirmed_fee=due.fee or 0, redirect_url=RETURN)
    _complete(gateway, first.merchant_order_id)  # paid; no webhook reached the site
    Payment.objects.filter(pk=first.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    with pytest.raises(services.ParkingError, match="already paid"):
        services.start_payment(due, confirmed_fee=due.fee or 0, redirect_url=RETURN)
    due.refresh_from_db()
    assert (due.state, due.paid_order_id) == (SessionState.PAID, first.merchant_order_id)
    assert Payment.objects.filter(reference=due.reference).count() == 1


def test_ticket_paid_twice_then_second_refunded_automatically_with_reason(
    due: ParkingSession, gateway: Any
) -> None:
    first = services.start_payment(due, confirmed_fee=due.fee or 0, redirect_url=RETURN)
    # A second tab opened while the first link was still open at the gateway.
    second = payments.create_payment(amount=due.fee or 0, reference=due.reference)
    _complete(gateway, first.merchant_order_id)
    _complete(gateway, second.merchant_order_id)
    payments.sync_payment(first)
    payments.sync_payment(second)
    due.refresh_from_db()
    assert (due.state, due.paid_order_id) == (SessionState.PAID, first.merchant_order_id)
    refund = Refund.objects.get()
    assert refund.payment.merchant_order_id == second.merchant_order_id
    assert refund.amount == due.fee
    assert first.merchant_order_id in refund.reason
    assert Payment.objects.get(pk=second.pk).needs_review
