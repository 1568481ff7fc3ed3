"""Admin: lists, filters and search work; money and states are read-only; "sync now" and
"reprocess event" go through the services to the real sandbox; no secret on any page."""

from __future__ import annotations

import pytest

from django.urls import reverse
from phonepe_gateway.django import services
from phonepe_gateway.django.models import Payment, WebhookEvent

from .test_sandbox_flows import completed_event, signed

pytestmark = pytest.mark.django_db(transaction=True)

PAGES = ["payment", "refund", "webhookevent", "gatewaycalllog", "idempotencyrecord"]


@pytest.mark.parametrize("model", PAGES)
def test_admin_changelist_with_filters_and_search_then_200(
    admin_client, phonepe_sandbox, model
) -> None:
    payment = services.create_payment(amount=5000, reference="parking-session:9")
    url = reverse(f"admin:phonepe_{model}_changelist")
    assert admin_client.get(url).status_code == 200
    assert admin_client.get(url, {"q": payment.merchant_order_id}).status_code == 200
    assert admin_client.get(reverse(f"admin:phonepe_{model}_add")).status_code == 403


def test_admin_payment_search_by_reference_then_found(admin_client, phonepe_sandbox) -> None:
    payment = services.create_payment(amount=5000, reference="parking-session:9")
    services.create_payment(amount=6000, reference="booking:1")
    page = admin_client.get(reverse("admin:phonepe_payment_changelist"), {"q": "parking-session:9"})
    assert payment.merchant_order_id in page.content.decode()
    assert page.context["cl"].result_count == 1
    filtered = admin_client.get(
        reverse("admin:phonepe_payment_changelist"), {"state__exact": "FAILED"}
    )
    assert filtered.context["cl"].result_count == 0


def test_admin_payment_change_page_then_money_and_state_read_only(
    admin_client, phonepe_sandbox
) -> None:
    payment = services.create_payment(amount=5000)
    url = reverse("admin:phonepe_payment_change", args=[payment.pk])
    form = admin_client.get(url).context["adminform"].form
    assert set(form.fields) == {"needs_review", "review_reason"}
    # A crafted POST cannot change the amount or the state either.
    admin_client.post(
        url,
        {
            "amount": 1,
            "state": "COMPLETED",
            "needs_review": "on",
            "review_reason": "checked",
            "refunds-TOTAL_FORMS": "0",
            "refunds-INITIAL_FORMS": "0",
        },
    )
    payment.refresh_from_db()
    assert (payment.amount, payment.state) == (5000, "PENDING")
    assert payment.needs_review
    assert payment.review_reason == "checked"


def test_admin_sync_now_action_then_state_from_gateway(
    admin_client, phonepe_sandbox, signal_log
) -> None:
    payment = services.create_payment(amount=5000)
    phonepe_sandbox.complete(payment.merchant_order_id)
    response = admin_client.post(
        reverse("admin:phonepe_payment_changelist"),
        {"action": "sync_now", "_selected_action": [payment.pk]},
        follow=True,
    )
    assert response.status_code == 200
    payment.refresh_from_db()
    assert payment.state == "COMPLETED"
    assert signal_log.of(payment.merchant_order_id) == ["payment_completed"]


def test_admin_reprocess_event_action_then_confirmed_with_gateway(
    admin_client, phonepe_sandbox
) -> None:
    payment = services.create_payment(amount=5000)
    event = services.receive_webhook(*signed(completed_event(payment)))
    services.process_webhook(event)
    phonepe_sandbox.complete(payment.merchant_order_id)
    response = admin_client.post(
        reverse("admin:phonepe_webhookevent_changelist"),
        {"action": "reprocess", "_selected_action": [event.pk]},
        follow=True,
    )
    assert "Reprocessed 1 (applied: 1)" in response.content.decode()
    assert Payment.objects.get(pk=payment.pk).state == "COMPLETED"
    assert WebhookEvent.objects.get(pk=event.pk).attempts == 2


def test_admin_pages_then_no_webhook_secret(admin_client, phonepe_sandbox) -> None:
    payment = services.create_payment(amount=5000)
    headers, body = signed(completed_event(payment))
    event = services.receive_webhook(headers, body)
    pages = [
        reverse("admin:phonepe_webhookevent_changelist"),
        reverse("admin:phonepe_webhookevent_change", args=[event.pk]),
        reverse("admin:phonepe_payment_change", args=[payment.pk]),
    ]
    for url in pages:
        html = admin_client.get(url).content.decode()
        assert headers["Authorization"] not in html
        assert "sandboxpass1" not in html


def test_admin_save_with_stale_object_then_state_not_overwritten(
    rf, admin_user, phonepe_sandbox
) -> None:
    from django.contrib.admin.sites import site

    from phonepe_gateway.django import states

    stale = services.create_payment(amount=5000)
    states.move_payment(stale.pk, "COMPLETED")  # the reconciler, while the page was open
    stale.needs_review = True
    request = rf.post("/")
    request.user = admin_user
    site._registry[Payment].save_model(request, stale, None, True)
    fresh = Payment.objects.get(pk=stale.pk)
    assert fresh.state == "COMPLETED"
    assert fresh.needs_review
