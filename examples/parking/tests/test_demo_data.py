"""The demo data ``make demo`` loads: the walk-through plate stays free, one lot charges at once."""

from __future__ import annotations

from django.core.management import call_command

from lots import demo_data
from lots.models import HOLDING_STATES, Lot, ParkingSession
from lots.plates import normalise_plate


def test_load_demo_when_run_twice_then_same_lots_and_cars(db: None) -> None:
    call_command("load_demo", "--username", "staff", "--password", "parking-demo")
    first = (Lot.objects.count(), ParkingSession.objects.count())
    call_command("load_demo", "--username", "staff", "--password", "parking-demo")
    assert (
        (Lot.objects.count(), ParkingSession.objects.count())
        == first
        == (
            len(demo_data.LOTS),
            len(demo_data.PARKED),
        )
    )


def test_load_demo_when_loaded_then_walkthrough_plate_is_free_to_park(db: None) -> None:
    demo_data.load()
    plate = normalise_plate(demo_data.WALKTHROUGH_PLATE)
    assert not ParkingSession.objects.filter(plate=plate, state__in=HOLDING_STATES).exists()


def test_demo_lot_when_loaded_then_no_grace_and_named_as_demo(db: None) -> None:
    demo_data.load(parked=False)
    lot = Lot.objects.get(slug=demo_data.DEMO_LOT_SLUG)
    assert lot.grace_minutes == 0
    assert lot.name.startswith("Demo")
    assert lot.address.startswith("Demo only")
    real = Lot.objects.exclude(slug=demo_data.DEMO_LOT_SLUG)
    assert all(10 <= other.grace_minutes <= 20 for other in real)


def test_demo_cars_when_loaded_then_plates_keep_their_real_form(db: None) -> None:
    demo_data.load()
    shown = {session.plate_display for session in ParkingSession.objects.all()}
    assert {"DL 3C AB 0001", "22 BH 4567 AA"} <= shown
