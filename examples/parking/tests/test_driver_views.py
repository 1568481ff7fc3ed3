"""Driver pages: plate errors are explained, foreign tickets and tampered amounts are refused."""

from __future__ import annotations

import socket
from typing import Any

import httpx
import pytest
from django.test import Client

from lots.models import Lot, ParkingSession, SessionState
from phonepe_gateway.django.models import Payment


def test_entry_when_plate_invalid_then_form_explains_and_nothing_parked(lot: Lot) -> None:
    response = Client().post(f"/lots/{lot.slug}/", {"plate": "XY 12 AB 1234"})
    assert response.status_code == 400
    assert "not an Indian state" in response.content.decode()
    assert not ParkingSession.objects.exists()


def test_entry_when_valid_then_ticket_shows_bay_and_running_fee(
    driver: Client, parked: ParkingSession
) -> None:
    page = driver.get(f"/park/{parked.pk}/").content.decode()
    assert "MH 12 AB 1234" in page
    assert "A-01" in page
    assert "₹120" in page  # 2 h 10 min -> three started hours at ₹40


def test_ticket_when_session_id_is_foreign_then_404(parked: ParkingSession) -> None:
    stranger = Client()
    assert stranger.get(f"/park/{parked.pk}/").status_code == 404
    assert stranger.get(f"/park/{parked.pk}/status").status_code == 404
    assert stranger.post(f"/park/{parked.pk}/leave").status_code == 404
    parked.refresh_from_db()
    assert parked.state == SessionState.PARKED


def test_pay_when_session_id_is_foreign_then_404_and_no_payment(
    lot: Lot, due: ParkingSession
) -> None:
    other = Client()
    other.post(f"/lots/{lot.slug}/", {"plate": "KA 01 AB 1234"})
    response = other.post(f"/park/{due.pk}/pay", {"confirmed_fee": due.fee})
    assert response.status_code == 404
    assert not Payment.objects.exists()


def test_return_link_when_token_signed_for_other_ticket_then_404(
    driver: Client, lot: Lot, due: ParkingSession
) -> None:
    from lots import ownership

    other = Client()
    other.post(f"/lots/{lot.slug}/", {"plate": "KA 01 AB 1234"})
    theirs = ParkingSession.objects.get(plate="KA01AB1234")
    token = ownership.return_token(theirs)
    assert Client().get(f"/park/{due.pk}/return?t={token}").status_code == 404
    assert Client().get(f"/park/{due.pk}/return?t=forged").status_code == 404


@pytest.mark.parametrize("tampered", [100, 0, 11999, 12001])
def test_pay_when_amount_tampered_then_refused_and_no_payment(
    driver: Client, due: ParkingSession, tampered: int
) -> None:
    assert due.fee == 12000
    response = driver.post(f"/park/{due.pk}/pay", {"confirmed_fee": tampered, "amount": tampered})
    assert response.status_code == 409
    assert not Payment.objects.exists()


def test_pay_when_amount_missing_then_bad_request(driver: Client, due: ParkingSession) -> None:
    assert driver.post(f"/park/{due.pk}/pay", {"amount": 100}).status_code == 400
    assert not Payment.objects.exists()


def test_pay_when_still_parked_then_nothing_to_pay(driver: Client, parked: ParkingSession) -> None:
    response = driver.post(f"/park/{parked.pk}/pay", {"confirmed_fee": 12000})
    assert response.status_code == 302
    assert not Payment.objects.exists()


def test_staff_pages_when_anonymous_then_login_required(db: None) -> None:
    for url in ("/staff/", "/staff/sessions/", "/staff/payments/", "/staff/dashboard/"):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/staff/login/")


def test_pay_when_fee_confirmed_then_server_amount_sent_to_phonepe(
    driver: Client, due: ParkingSession, gateway: Any
) -> None:
    response = driver.post(f"/park/{due.pk}/pay", {"confirmed_fee": 12000, "amount": 1})
    payment = Payment.objects.get()
    assert (payment.amount, payment.reference) == (12000, f"parking-session:{due.pk}")
    assert response.status_code == 302
    assert response["Location"] == payment.checkout_url
    order = httpx.get(f"{gateway.url}/_sandbox/orders/{payment.merchant_order_id}").json()
    assert order["amount"] == 12000


def test_pay_when_clicked_twice_then_same_open_payment_reused(
    driver: Client, due: ParkingSession, gateway: Any
) -> None:
    first = driver.post(f"/park/{due.pk}/pay", {"confirmed_fee": 12000})
    second = driver.post(f"/park/{due.pk}/pay", {"confirmed_fee": 12000, "method": "redirect"})
    assert Payment.objects.count() == 1
    assert first["Location"] == second["Location"] == Payment.objects.get().checkout_url
    page = driver.get(f"/park/{due.pk}/").content.decode()
    assert "PENDING" in page
    assert 'class="qr"' in page


def test_pay_when_gateway_down_then_driver_told_nothing_charged(
    driver: Client, due: ParkingSession, settings: Any
) -> None:
    settings.PHONEPE = {**settings.PHONEPE, "local_url": f"http://127.0.0.1:{_closed_port()}"}
    response = driver.post(f"/park/{due.pk}/pay", {"confirmed_fee": 12000}, follow=True)
    page = response.content.decode()
    assert "could not be reached" in page
    assert "Pay with PhonePe" in page
    assert Payment.objects.get().state == "FAILED"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_ticket_when_checkout_link_expired_unpaid_then_fresh_payment_offered(
    driver: Client, due: ParkingSession, gateway: Any
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    driver.post(f"/park/{due.pk}/pay", {"confirmed_fee": 12000})
    Payment.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert "Pay with PhonePe" in driver.get(f"/park/{due.pk}/").content.decode()
    driver.post(f"/park/{due.pk}/pay", {"confirmed_fee": 12000})
    assert Payment.objects.count() == 2


def _payment_for(session: ParkingSession, **fields: Any) -> Payment:
    values = {
        "merchant_order_id": "MO-view-1",
        "amount": session.fee,
        "reference": session.reference,
        "state": "PENDING",
        "checkout_url": "http://127.0.0.1:9/transact/OMO1",
        **fields,
    }
    return Payment.objects.create(**values)


def test_ticket_when_pending_for_minutes_then_next_step_is_staff(
    driver: Client, due: ParkingSession
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    payment = _payment_for(due)
    page = driver.get(f"/park/{due.pk}/").content.decode()
    assert 'data-state="PENDING"' in page
    assert "Still waiting?" not in page
    Payment.objects.filter(pk=payment.pk).update(created_at=timezone.now() - timedelta(minutes=3))
    page = driver.get(f"/park/{due.pk}/").content.decode()
    assert "Still waiting?" in page
    assert f"quote ticket #{due.pk}" in page


def test_ticket_when_completed_payment_does_not_settle_then_driver_sent_to_staff(
    driver: Client, due: ParkingSession
) -> None:
    _payment_for(due, state="COMPLETED", amount=100)
    page = driver.get(f"/park/{due.pk}/").content.decode()
    assert 'data-state="REVIEW"' in page
    assert "You will not pay twice" in page
    assert "Pay with PhonePe" not in page


def test_status_json_when_polled_then_version_changes_with_payment_state(
    driver: Client, due: ParkingSession
) -> None:
    payment = _payment_for(due)
    before = driver.get(f"/park/{due.pk}/status").json()
    Payment.objects.filter(pk=payment.pk).update(state="FAILED")
    after = driver.get(f"/park/{due.pk}/status").json()
    assert (before["state"], after["state"]) == ("PENDING", "FAILED")
    assert before["version"] != after["version"]


def test_return_when_attempt_declined_then_retry_same_order_and_no_second_payment(
    driver: Client, due: ParkingSession, gateway: Any
) -> None:
    """A declined attempt is not a failed payment: the order stays open at PhonePe."""
    from lots import ownership

    driver.post(f"/park/{due.pk}/pay", {"confirmed_fee": 12000})
    payment = Payment.objects.get()
    control = f"{gateway.url}/_sandbox/orders/{payment.merchant_order_id}"
    assert httpx.post(control + "/decline", json={}).json()["state"] == "PENDING"
    back = f"/park/{due.pk}/return?t={ownership.return_token(due)}"
    page = driver.get(back, follow=True).content.decode()
    assert 'data-state="RETRY"' in page
    assert "That attempt failed" in page
    assert "try again on the PhonePe page, or start over" in page
    assert f'href="{payment.checkout_url}"' in page  # the same order's checkout page
    assert "Pay with PhonePe" not in page  # no second payment while the first can complete
    assert driver.get(f"/park/{due.pk}/status").json()["state"] == "RETRY"
    again = driver.post(f"/park/{due.pk}/pay", {"confirmed_fee": 12000})
    assert again["Location"] == payment.checkout_url
    assert Payment.objects.count() == 1

    httpx.post(control + "/complete", json={})
    page = driver.get(back, follow=True).content.decode()
    assert "That attempt failed" not in page
    assert Payment.objects.get().state == "COMPLETED"


def test_return_when_nothing_attempted_yet_then_plain_pending(
    driver: Client, due: ParkingSession, gateway: Any
) -> None:
    from lots import ownership

    driver.post(f"/park/{due.pk}/pay", {"confirmed_fee": 12000})
    page = driver.get(
        f"/park/{due.pk}/return?t={ownership.return_token(due)}", follow=True
    ).content.decode()
    assert 'data-state="PENDING"' in page
    assert "That attempt failed" not in page
