"""``manage.py demo_traffic``: a few real payments through the running sandbox, for the demo.

Drivers park, leave and pay through the payments app exactly like the site does; the
sandbox's control API plays the drivers' phones (complete or decline). One status call
meets an injected connection reset, so the dashboard has every picture to show. The
running site receives the webhooks and settles the tickets. Loopback only.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import httpx
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from lots import ownership, services
from lots.models import Lot
from phonepe_gateway.django import services as payments
from phonepe_gateway.django.exceptions import PaymentsError

#: (lot slug, plate, minutes parked, what the driver's phone does)
DRIVERS = [
    ("phoenix-b2", "MH 01 AB 2345", 75, "complete"),
    ("phoenix-b2", "MH 43 BK 1010", 190, "complete"),
    ("mg-road-metro", "KA 51 MJ 8080", 45, "fail"),
    ("mg-road-metro", "KA 03 NA 4521", 130, "complete"),
    ("hitech-city-p1", "TS 07 FA 2222", 260, "complete"),
    ("hitech-city-p1", "23 BH 0456 C", 95, "complete"),
    ("phoenix-b2", "MH 14 GT 7001", 35, "fail"),
    ("mg-road-metro", "KA 02 HH 3003", 500, "complete"),
]


class Command(BaseCommand):
    help = "Run a handful of real demo payments through the local sandbox."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--sandbox-url", required=True)
        parser.add_argument("--site-url", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        base_url = options["sandbox_url"].rstrip("/") + "/_sandbox"
        with httpx.Client(base_url=base_url, timeout=10) as control:
            self._drive(control, options["site_url"].rstrip("/"))

    def _drive(self, control: httpx.Client, site: str) -> None:
        made = []
        now = timezone.now()
        for slug, plate, minutes, outcome in DRIVERS:
            lot = Lot.objects.filter(slug=slug).first()
            if lot is None:
                raise CommandError("Load the demo car parks first (manage.py load_demo).")
            try:
                session = services.start_session(lot, plate, now=now - timedelta(minutes=minutes))
            except services.ParkingError:
                continue  # already there from an earlier run
            session = services.request_exit(session, now=now)
            if not session.fee:
                continue
            return_url = f"{site}/park/{session.pk}/return?t={ownership.return_token(session)}"
            try:
                payment = services.start_payment(
                    session, confirmed_fee=session.fee, redirect_url=return_url
                )
            except PaymentsError as exc:
                self.stderr.write(f"payment for {plate} not started: {exc}")
                continue
            body = {"errorCode": "PAYMENT_DECLINED"} if outcome == "fail" else {}
            control.post(f"/orders/{payment.merchant_order_id}/{outcome}", json=body)
            made.append((payment, outcome))
        completed = [p for p, outcome in made if outcome == "complete"]
        if completed:
            self._connection_error(control, completed[0])
        self.stdout.write(f"Ran {len(made)} demo payments through the sandbox.")

    def _connection_error(self, control: httpx.Client, payment: Any) -> None:
        """One status check that meets a reset connection (as PhonePe outages look).

        Waits until the site has settled this payment from its webhook, so the fault
        hits only our own check (every attempt of it), not the site's confirmation.
        """
        deadline = time.monotonic() + 15
        while payment.state != "COMPLETED" and time.monotonic() < deadline:
            time.sleep(0.1)
            payment.refresh_from_db()
        rule = {
            "method": "GET",
            "path": f"/checkout/v2/order/{payment.merchant_order_id}/status",
            "action": "reset",
            "times": 10,
        }
        control.post("/faults", json=rule)
        try:
            payments.sync_payment(payment)
        except PaymentsError:
            pass  # expected: that is the connection error the dashboard shows
        finally:
            control.delete("/faults")
