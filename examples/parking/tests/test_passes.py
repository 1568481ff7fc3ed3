"""Monthly passes: the rules (what the mandate and its debits do to a pass) and free entry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from lots import passes, services
from lots.models import Lot, ParkingSession, SessionState
from lots.models_pass import MonthlyPass, PassPlan, PassState, PassUse, SuspendReason
from lots.plates import InvalidPlate

MANDATE = "MS-PASS-1"


@pytest.fixture
def plan(lot: Lot) -> PassPlan:
    return PassPlan.objects.create(lot=lot, monthly_price=150000)


@pytest.fixture
def setup_pass(plan: PassPlan) -> MonthlyPass:
    """A pass whose AutoPay set-up was sent and waits for the driver's approval."""
    monthly_pass = passes.create_pass(plan.lot, "MH 12 AB 1234")
    MonthlyPass.objects.filter(pk=monthly_pass.pk).update(
        merchant_subscription_id=MANDATE, mandate_state="PENDING", setups=1
    )
    monthly_pass.refresh_from_db()
    return monthly_pass


@pytest.fixture
def active_pass(setup_pass: MonthlyPass) -> MonthlyPass:
    result = passes.apply_mandate(setup_pass.pk, MANDATE, "ACTIVE")
    assert result is not None
    assert result.state == PassState.ACTIVE
    return result


def _at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "then"),
    [
        (_at(2026, 1, 31, 9), _at(2026, 2, 28, 9)),
        (_at(2028, 1, 31, 9), _at(2028, 2, 29, 9)),
        (_at(2026, 12, 15, 23, 30), _at(2027, 1, 15, 23, 30)),
        (_at(2026, 3, 31), _at(2026, 4, 30)),
    ],
)
def test_add_month_when_day_missing_next_month_then_last_day(
    start: datetime, then: datetime
) -> None:
    assert passes.add_month(start) == then


def test_create_pass_when_plate_invalid_then_nothing_created(plan: PassPlan) -> None:
    with pytest.raises(InvalidPlate):
        passes.create_pass(plan.lot, "XY 12 AB 1234")
    assert not MonthlyPass.objects.exists()


def test_create_pass_when_lot_sells_none_then_refused(lot: Lot) -> None:
    with pytest.raises(passes.NoPlan):
        passes.create_pass(lot, "MH 12 AB 1234")
    PassPlan.objects.create(lot=lot, monthly_price=10000, available=False)
    with pytest.raises(passes.NoPlan):
        passes.create_pass(lot, "MH 12 AB 1234")


def test_create_pass_when_vehicle_has_live_pass_then_refused_with_it(
    setup_pass: MonthlyPass,
) -> None:
    with pytest.raises(passes.PassExists) as caught:
        passes.create_pass(setup_pass.lot, "mh-12-ab-1234")
    assert caught.value.existing.pk == setup_pass.pk
    assert MonthlyPass.objects.count() == 1


def test_create_pass_when_earlier_pass_ended_then_new_one_allowed(
    setup_pass: MonthlyPass,
) -> None:
    MonthlyPass.objects.filter(pk=setup_pass.pk).update(state=PassState.ENDED)
    fresh = passes.create_pass(setup_pass.lot, "MH 12 AB 1234")
    assert (fresh.state, fresh.monthly_price) == (PassState.SETUP, 150000)


def test_mandate_when_approved_then_active_and_first_month_paid(setup_pass: MonthlyPass) -> None:
    approved = _at(2026, 11, 26, 5)
    result = passes.apply_mandate(setup_pass.pk, MANDATE, "ACTIVE", at=approved)
    assert result is not None
    assert (result.state, result.activated_at) == (PassState.ACTIVE, approved)
    assert result.paid_until == _at(2026, 12, 26, 5)
    # The same news again (signal, then a status check) changes nothing.
    again = passes.apply_mandate(setup_pass.pk, MANDATE, "ACTIVE", at=approved + timedelta(hours=1))
    assert again is not None
    assert again.paid_until == _at(2026, 12, 26, 5)


@pytest.mark.parametrize(
    ("state", "says"),
    [("FAILED", "not approved"), ("EXPIRED", "expired"), ("REVOKED", "declined")],
)
def test_mandate_when_setup_refused_then_pass_waits_with_reason(
    setup_pass: MonthlyPass, state: str, says: str
) -> None:
    result = passes.apply_mandate(setup_pass.pk, MANDATE, state)
    assert result is not None
    assert result.state == PassState.SETUP
    assert says in result.setup_error


def test_mandate_when_news_of_replaced_mandate_then_ignored(active_pass: MonthlyPass) -> None:
    result = passes.apply_mandate(active_pass.pk, "MS-OLD", "REVOKED")
    assert result is not None
    assert result.state == PassState.ACTIVE


def test_mandate_when_revoked_in_upi_app_then_suspended_and_message_says_so(
    active_pass: MonthlyPass,
) -> None:
    result = passes.apply_mandate(active_pass.pk, MANDATE, "REVOKED")
    assert result is not None
    assert (result.state, result.suspend_reason) == (
        PassState.SUSPENDED,
        SuspendReason.MANDATE_REVOKED,
    )
    assert "revoked in your UPI app" in passes.suspension_message(result)
    # A revoked mandate never comes back: only a new set-up reactivates the pass.
    assert passes.apply_mandate(active_pass.pk, MANDATE, "ACTIVE").state == PassState.SUSPENDED  # type: ignore[union-attr]


def test_mandate_when_paused_then_suspended_and_resume_reactivates(
    active_pass: MonthlyPass,
) -> None:
    paused = passes.apply_mandate(active_pass.pk, MANDATE, "PAUSED")
    assert paused is not None
    assert (paused.state, paused.suspend_reason) == (
        PassState.SUSPENDED,
        SuspendReason.MANDATE_PAUSED,
    )
    resumed = passes.apply_mandate(active_pass.pk, MANDATE, "ACTIVE")
    assert resumed is not None
    assert (resumed.state, resumed.suspend_reason) == (PassState.ACTIVE, "")
    assert resumed.paid_until == active_pass.paid_until  # resuming pays nothing


def test_debit_when_completed_then_paid_until_moves_once_per_period(
    active_pass: MonthlyPass,
) -> None:
    assert active_pass.paid_until is not None
    period = active_pass.paid_until
    for _ in range(2):  # the signal and a later sync report the same debit
        result = passes.apply_debit(active_pass.pk, MANDATE, completed=True, period_start=period)
        assert result is not None
        assert result.paid_until == passes.add_month(period)


def test_debit_when_failed_then_suspended_with_reason_and_later_debit_reactivates(
    active_pass: MonthlyPass,
) -> None:
    failed = passes.apply_debit(
        active_pass.pk, MANDATE, completed=False, error="INSUFFICIENT_BALANCE"
    )
    assert failed is not None
    assert (failed.state, failed.suspend_reason) == (
        PassState.SUSPENDED,
        SuspendReason.DEBIT_FAILED,
    )
    message = passes.suspension_message(failed)
    assert "₹1,500" in message
    assert "did not have enough money" in message
    retried = passes.apply_debit(
        active_pass.pk, MANDATE, completed=True, period_start=active_pass.paid_until
    )
    assert retried is not None
    assert retried.state == PassState.ACTIVE


def test_debit_when_of_replaced_mandate_then_ignored(active_pass: MonthlyPass) -> None:
    result = passes.apply_debit(active_pass.pk, "MS-OLD", completed=False, error="X")
    assert result is not None
    assert result.state == PassState.ACTIVE


def test_pass_when_ended_then_no_news_revives_it(active_pass: MonthlyPass) -> None:
    MonthlyPass.objects.filter(pk=active_pass.pk).update(state=PassState.ENDED)
    passes.apply_mandate(active_pass.pk, MANDATE, "ACTIVE")
    passes.apply_debit(active_pass.pk, MANDATE, completed=True)
    assert MonthlyPass.objects.get(pk=active_pass.pk).state == PassState.ENDED


# --- free entry ---------------------------------------------------------------------------


def _park_and_leave(lot: Lot, plate: str) -> ParkingSession:
    entered = timezone.now() - timedelta(hours=2, minutes=10)  # three started hours
    session = services.start_session(lot, plate, now=entered)
    return services.request_exit(session)


def test_entry_when_pass_active_then_stay_free_and_recorded(active_pass: MonthlyPass) -> None:
    session = _park_and_leave(active_pass.lot, "MH 12 AB 1234")
    assert (session.state, session.fee) == (SessionState.FREE, 0)
    assert PassUse.objects.get(session=session).monthly_pass_id == active_pass.pk


def test_entry_when_pass_suspended_then_normal_fee(active_pass: MonthlyPass) -> None:
    passes.apply_mandate(active_pass.pk, MANDATE, "REVOKED")
    session = _park_and_leave(active_pass.lot, "MH 12 AB 1234")
    assert (session.state, session.fee) == (SessionState.PAYMENT_DUE, 12000)
    assert not PassUse.objects.exists()


def test_entry_when_pass_still_in_setup_then_normal_fee(setup_pass: MonthlyPass) -> None:
    session = _park_and_leave(setup_pass.lot, "MH 12 AB 1234")
    assert session.fee == 12000


def test_entry_when_other_vehicle_or_other_lot_then_normal_fee(active_pass: MonthlyPass) -> None:
    other_car = _park_and_leave(active_pass.lot, "KA 01 AB 1234")
    assert other_car.fee == 12000
    elsewhere = Lot.objects.create(
        name="Elsewhere", slug="elsewhere", grace_minutes=0, hourly_rate=2000, daily_cap=10000
    )
    elsewhere.add_bays(1)
    assert _park_and_leave(elsewhere, "MH 12 AB 1234").fee == 6000


def test_entry_when_paid_month_long_over_then_normal_fee(active_pass: MonthlyPass) -> None:
    # The month ended beyond the grace period and no debit came: the pass no longer covers.
    MonthlyPass.objects.filter(pk=active_pass.pk).update(
        paid_until=timezone.now() - passes.GRACE - timedelta(hours=4)
    )
    assert _park_and_leave(active_pass.lot, "MH 12 AB 1234").fee == 12000


def test_entry_when_pass_suspended_during_stay_then_stay_still_free(
    active_pass: MonthlyPass,
) -> None:
    session = services.start_session(
        active_pass.lot, "MH 12 AB 1234", now=timezone.now() - timedelta(hours=3)
    )
    passes.apply_debit(active_pass.pk, MANDATE, completed=False, error="INSUFFICIENT_BALANCE")
    assert services.current_fee(session) == 0
    assert services.request_exit(session).fee == 0


# --- pages ---------------------------------------------------------------------------------


def test_pass_page_when_pass_is_foreign_then_404(setup_pass: MonthlyPass) -> None:
    stranger = Client()
    assert stranger.get(f"/passes/{setup_pass.pk}/").status_code == 404
    assert stranger.get(f"/passes/{setup_pass.pk}/status").status_code == 404
    assert stranger.post(f"/passes/{setup_pass.pk}/end").status_code == 404
    assert stranger.post(f"/passes/{setup_pass.pk}/setup").status_code == 404
    assert MonthlyPass.objects.get(pk=setup_pass.pk).state == PassState.SETUP


def test_pass_form_when_plate_invalid_then_explained_and_nothing_created(plan: PassPlan) -> None:
    response = Client().post(f"/lots/{plan.lot.slug}/pass/", {"plate": "XY 12 AB 1234"})
    assert response.status_code == 400
    assert "not an Indian state" in response.content.decode()
    assert not MonthlyPass.objects.exists()


def test_pass_form_when_lot_sells_passes_then_price_shown(plan: PassPlan) -> None:
    page = Client().get(f"/lots/{plan.lot.slug}/pass/").content.decode()
    assert "₹1,500" in page
    assert "UPI AutoPay" in page
    entry = Client().get(f"/lots/{plan.lot.slug}/").content.decode()
    assert f"/lots/{plan.lot.slug}/pass/" in entry


def test_pass_form_when_lot_sells_none_then_no_form(lot: Lot) -> None:
    page = Client().get(f"/lots/{lot.slug}/pass/").content.decode()
    assert "does not sell monthly passes" in page
    assert "Set up UPI AutoPay" not in page
    assert Client().post(f"/lots/{lot.slug}/pass/", {"plate": "MH 12 AB 1234"}).status_code == 200
    assert not MonthlyPass.objects.exists()


def test_staff_pass_pages_when_anonymous_then_login_required(setup_pass: MonthlyPass) -> None:
    for url in ("/staff/passes/", f"/staff/passes/{setup_pass.pk}/"):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/staff/login/")


def test_mandate_when_cancelled_to_be_replaced_then_suspension_reason_kept(
    active_pass: MonthlyPass,
) -> None:
    passes.apply_debit(active_pass.pk, MANDATE, completed=False, error="INSUFFICIENT_BALANCE")
    result = passes.apply_mandate(active_pass.pk, MANDATE, "CANCELLED")
    assert result is not None
    assert (result.state, result.suspend_reason) == (
        PassState.SUSPENDED,
        SuspendReason.DEBIT_FAILED,
    )


def test_mandate_when_ended_while_active_then_suspended(active_pass: MonthlyPass) -> None:
    result = passes.apply_mandate(active_pass.pk, MANDATE, "EXPIRED")
    assert result is not None
    assert (result.state, result.suspend_reason) == (
        PassState.SUSPENDED,
        SuspendReason.MANDATE_ENDED,
    )
    assert "has ended" in passes.suspension_message(result)


def test_replace_when_pass_was_active_then_refused(active_pass: MonthlyPass) -> None:
    passes.apply_mandate(active_pass.pk, MANDATE, "REVOKED")  # suspended, not unapproved
    with pytest.raises(passes.PassExists):
        passes.replace_unapproved(MonthlyPass.objects.get(pk=active_pass.pk))
    assert MonthlyPass.objects.get(pk=active_pass.pk).state == PassState.SUSPENDED
