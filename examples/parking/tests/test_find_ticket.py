"""A lost ticket page: found again by plate + mobile digits, never by a stranger; no dead end."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from lots import recovery
from lots.models import Lot, ParkingSession, SessionState

MOBILE = "+91 98765 43210"


@pytest.fixture
def with_mobile(lot: Lot) -> ParkingSession:
    """A driver parked KA 01 AB 1234 giving a mobile number, then lost the page."""
    response = Client().post(f"/lots/{lot.slug}/", {"plate": "KA 01 AB 1234", "mobile": MOBILE})
    assert response.status_code == 302
    return ParkingSession.objects.get(plate="KA01AB1234")


def test_entry_when_mobile_given_then_only_last_four_digits_stored(
    with_mobile: ParkingSession,
) -> None:
    assert with_mobile.phone_last4 == "3210"
    row = ParkingSession.objects.filter(pk=with_mobile.pk).values().get()
    assert not any("98765" in str(value) for value in row.values())


@pytest.mark.parametrize("mobile", ["12345", "5876543210", "98765 4321x", "+1 98765 43210"])
def test_entry_when_mobile_malformed_then_explains_and_nothing_parked(
    lot: Lot, mobile: str
) -> None:
    response = Client().post(f"/lots/{lot.slug}/", {"plate": "KA 01 AB 1234", "mobile": mobile})
    assert response.status_code == 400
    assert "10-digit Indian mobile number" in response.content.decode()
    assert not ParkingSession.objects.exists()


def test_entry_when_plate_already_parked_by_someone_else_then_links_to_find_not_dead_end(
    lot: Lot, with_mobile: ParkingSession
) -> None:
    response = Client().post(f"/lots/{lot.slug}/", {"plate": "ka-01-ab-1234"})
    page = response.content.decode()
    assert response.status_code == 400
    assert "This vehicle is already parked." in page
    assert 'href="/find/?plate=KA01AB1234"' in page
    assert ParkingSession.objects.count() == 1


def test_entry_when_plate_already_parked_by_this_browser_then_opens_its_ticket(
    driver: Client, lot: Lot
) -> None:
    response = driver.post(f"/lots/{lot.slug}/", {"plate": "MH 12 AB 1234"})
    session = ParkingSession.objects.get(plate="MH12AB1234")
    assert response.status_code == 302
    assert response["Location"] == f"/park/{session.pk}/"


def test_find_when_plate_and_digits_match_then_ticket_opens_on_this_phone(
    with_mobile: ParkingSession,
) -> None:
    phone = Client()
    assert phone.get(f"/park/{with_mobile.pk}/").status_code == 404
    response = phone.post("/find/", {"plate": "KA 01 AB 1234", "digits": "3210"})
    assert response.status_code == 302
    assert response["Location"] == f"/park/{with_mobile.pk}/"
    page = phone.get(f"/park/{with_mobile.pk}/").content.decode()
    assert "Found your ticket" in page
    assert "End parking &amp; pay" in page


def test_find_when_digits_wrong_then_same_answer_as_no_ticket_and_nothing_opens(
    lot: Lot, with_mobile: ParkingSession
) -> None:
    stranger = Client()
    wrong = stranger.post("/find/", {"plate": "KA 01 AB 1234", "digits": "0000"})
    absent = stranger.post("/find/", {"plate": "KA 09 ZZ 9999", "digits": "0000"})
    assert wrong.status_code == absent.status_code == 400
    message = "No ticket matches that vehicle number and those digits."
    assert message in wrong.content.decode()
    assert message in absent.content.decode()
    assert stranger.get(f"/park/{with_mobile.pk}/").status_code == 404
    with_mobile.refresh_from_db()
    assert with_mobile.find_failures == 1


def test_find_when_too_many_wrong_tries_then_locked_even_for_the_right_digits(
    with_mobile: ParkingSession,
) -> None:
    stranger = Client()
    for guess in range(recovery.MAX_FAILURES - 1):
        response = stranger.post("/find/", {"plate": "KA01AB1234", "digits": f"{guess:04d}"})
        assert response.status_code == 400
    response = stranger.post("/find/", {"plate": "KA01AB1234", "digits": "9999"})
    assert response.status_code == 429
    assert "ask the attendant" in response.content.decode()

    owner = Client()
    response = owner.post("/find/", {"plate": "KA01AB1234", "digits": "3210"})
    assert response.status_code == 429
    assert owner.get(f"/park/{with_mobile.pk}/").status_code == 404
    with_mobile.refresh_from_db()
    assert with_mobile.find_failures == recovery.MAX_FAILURES


def test_find_when_no_mobile_was_given_then_not_found_and_pointed_to_attendant(
    driver: Client, parked: ParkingSession
) -> None:
    assert parked.phone_last4 == ""
    response = Client().post("/find/", {"plate": "MH 12 AB 1234", "digits": "0000"})
    assert response.status_code == 400
    assert "the attendant at the exit can find your" in response.content.decode()


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"plate": "XY 12 AB 1234", "digits": "3210"}, "not an Indian state"),
        ({"plate": "KA 01 AB 1234", "digits": "32a0"}, "Enter the last 4 digits"),
        ({"plate": "KA 01 AB 1234", "digits": "321"}, "at least 4 characters"),
    ],
)
def test_find_when_input_malformed_then_explains_and_no_try_counted(
    with_mobile: ParkingSession, form: dict[str, str], message: str
) -> None:
    response = Client().post("/find/", form)
    assert response.status_code == 400
    assert message in response.content.decode()
    with_mobile.refresh_from_db()
    assert with_mobile.find_failures == 0


def test_find_when_paid_recently_then_exit_pass_is_found_again(
    with_mobile: ParkingSession,
) -> None:
    ParkingSession.objects.filter(pk=with_mobile.pk).update(
        state=SessionState.PAID, exit_at=timezone.now() - timedelta(minutes=5), fee=4000
    )
    phone = Client()
    response = phone.post("/find/", {"plate": "KA 01 AB 1234", "digits": "3210"}, follow=True)
    assert "Exit pass" in response.content.decode()


def test_find_when_left_long_ago_then_not_found(with_mobile: ParkingSession) -> None:
    ParkingSession.objects.filter(pk=with_mobile.pk).update(
        state=SessionState.PAID,
        exit_at=timezone.now() - recovery.RECENT_EXIT - timedelta(minutes=1),
        fee=4000,
    )
    with pytest.raises(recovery.NotFound):
        recovery.find("KA 01 AB 1234", "3210")


def test_find_page_when_opened_from_already_parked_link_then_plate_prefilled(db: None) -> None:
    page = Client().get("/find/?plate=KA01AB1234").content.decode()
    assert 'value="KA 01 AB 1234"' in page
