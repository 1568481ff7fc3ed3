"""Demo lots (Mumbai, Bengaluru, Hyderabad, and a pay-at-once demo lot) and a few parked cars.

Loaded idempotently by ``manage.py load_demo`` (which ``make demo`` runs on every start).
The README's walk-through plate (:data:`WALKTHROUGH_PLATE`) is never parked here, so a
newcomer can always park it; the demo lot has no grace period, so leaving at once costs
the first hour and the payment flow is reached without waiting.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from . import services
from .models import HOLDING_STATES, Lot, ParkingSession
from .models_pass import PassPlan

#: The plate the README tells a newcomer to type; the demo data leaves it free.
WALKTHROUGH_PLATE = "MH 12 AB 1234"
#: The demo-only car park the README's walk-through uses.
DEMO_LOT_SLUG = "demo-pay-at-once"

LOTS = [
    {
        # Demo only: real car parks here give 10-20 free minutes, which would make a
        # car parked a moment ago leave for free and never reach the payment.
        "slug": DEMO_LOT_SLUG,
        "name": "Demo car park · pay at once",
        "address": "Demo only: no free minutes, so the first hour is charged at once",
        "grace_minutes": 0,
        "hourly_rate": 2000,
        "daily_cap": 10000,
        "bays": 40,
    },
    {
        "slug": "phoenix-b2",
        "name": "Phoenix Marketcity · B2",
        "address": "LBS Marg, Kurla West, Mumbai",
        "grace_minutes": 15,
        "hourly_rate": 4000,
        "daily_cap": 30000,
        "bays": 24,
    },
    {
        "slug": "mg-road-metro",
        "name": "MG Road Metro",
        "address": "MG Road, Bengaluru",
        "grace_minutes": 10,
        "hourly_rate": 3000,
        "daily_cap": 20000,
        "bays": 16,
    },
    {
        "slug": "hitech-city-p1",
        "name": "Hitech City Tower · P1",
        "address": "HITEC City, Hyderabad",
        "grace_minutes": 20,
        "hourly_rate": 2000,
        "daily_cap": 15000,
        "bays": 12,
    },
]

#: Monthly pass prices (paise per month) of the car parks that sell one.
PASS_PRICES = {"phoenix-b2": 150000, "mg-road-metro": 120000, DEMO_LOT_SLUG: 50000}

#: (lot slug, plate, minutes ago) -- cars already parked when the demo starts
PARKED = [
    ("phoenix-b2", "MH 02 CD 4821", 95),
    ("phoenix-b2", "MH 02 AB 5678", 40),
    ("phoenix-b2", "22 BH 4567 AA", 210),
    ("phoenix-b2", "MH 04 GH 9090", 12),
    ("mg-road-metro", "KA 01 AB 1234", 65),
    ("mg-road-metro", "KA 05 MN 7777", 300),
    ("hitech-city-p1", "TS 09 EZ 3141", 130),
    ("hitech-city-p1", "DL 3C AB 0001", 55),
]


def load(*, parked: bool = True) -> list[Lot]:
    lots = []
    for spec in LOTS:
        values = {k: v for k, v in spec.items() if k not in ("slug", "bays")}
        lot, _ = Lot.objects.update_or_create(slug=spec["slug"], defaults=values)
        missing = int(spec["bays"]) - lot.bays.count()
        if missing > 0:
            lot.add_bays(missing)
        lots.append(lot)
        if spec["slug"] in PASS_PRICES:
            PassPlan.objects.update_or_create(
                lot=lot, defaults={"monthly_price": PASS_PRICES[str(spec["slug"])]}
            )
    if parked:
        now = timezone.now()
        by_slug = {lot.slug: lot for lot in lots}
        for slug, plate, minutes in PARKED:
            lot = by_slug[slug]
            if ParkingSession.objects.filter(lot=lot, state__in=HOLDING_STATES).count() >= 8:
                continue
            try:
                services.start_session(lot, plate, now=now - timedelta(minutes=minutes))
            except services.ParkingError:
                continue  # already parked from an earlier load
    return lots
