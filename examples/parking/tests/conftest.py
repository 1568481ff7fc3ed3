"""Fixtures for the Smart Parking tests: a small lot, a clock, and a parked car."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from lots import services
from lots.models import Lot, ParkingSession


@pytest.fixture
def lot(db: None) -> Lot:
    lot = Lot.objects.create(
        name="Test Lot", slug="test-lot", grace_minutes=15, hourly_rate=4000, daily_cap=30000
    )
    lot.add_bays(3)
    return lot


@pytest.fixture
def entered_at() -> datetime:
    return timezone.now() - timedelta(hours=2, minutes=10)


@pytest.fixture
def driver(lot: Lot) -> Client:
    """A browser that parked MH 12 AB 1234 in ``lot`` (its ticket is in the session)."""
    client = Client()
    response = client.post(f"/lots/{lot.slug}/", {"plate": "mh 12 ab 1234"})
    assert response.status_code == 302
    return client


@pytest.fixture
def parked(driver: Client, entered_at: datetime) -> ParkingSession:
    session = ParkingSession.objects.get(plate="MH12AB1234")
    ParkingSession.objects.filter(pk=session.pk).update(entry_at=entered_at)
    session.refresh_from_db()
    return session


@pytest.fixture
def due(parked: ParkingSession) -> ParkingSession:
    return services.request_exit(parked)


@pytest.fixture
def gateway(settings: Any) -> Iterator[Any]:
    """A real local PhonePe sandbox on a loopback port, with the site's client pointed at it."""
    from phonepe_gateway.sandbox.testing import serve_sandbox

    with serve_sandbox() as sandbox:
        settings.PHONEPE = {**settings.PHONEPE, "local_url": sandbox.url}
        yield sandbox
