"""Browser end-to-end fixtures: the Smart Parking site (live server), a real sandbox, Chromium.

The site runs in pytest-django's live server thread on a file SQLite database; the sandbox
runs in its own uvicorn thread and sends webhooks to the site's /api/webhooks/phonepe.
Chromium is the system one (/usr/bin/chromium or $CHROMIUM), headless; nothing is
downloaded. Screenshots go to $TEST_OUTPUT_DIR/screenshots (default ./test-output).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

# Playwright's sync API keeps an event loop running in the test thread; the ORM calls the
# tests make between browser steps are still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

VIEWPORT = {"width": 412, "height": 915}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WEBHOOK_PATH = "/api/webhooks/phonepe"


def _chromium() -> str:
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).exists():
            return candidate
    pytest.fail("No system Chromium found (set CHROMIUM=/path/to/chromium); none is downloaded.")


def screenshot_dir() -> Path:
    out = Path(os.environ.get("TEST_OUTPUT_DIR", "test-output")) / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    return out


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import expect, sync_playwright

    # A shared machine can be slow; assertions poll up to this long (they never sleep).
    expect.set_options(timeout=15_000)

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=_chromium(), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    """A browser context the size of a phone (cookies persist like a phone's browser)."""
    context = browser.new_context(
        viewport=VIEWPORT, device_scale_factor=1, locale="en-IN", timezone_id="Asia/Kolkata"
    )
    context.set_default_timeout(15_000)
    try:
        yield context
    finally:
        context.close()


@dataclass
class Site:
    url: str
    sandbox: Any

    @property
    def sandbox_url(self) -> str:
        return str(self.sandbox.url)

    def control(self, method: str, path: str, **kwargs: Any) -> Any:
        response = httpx.request(method, f"{self.sandbox_url}/_sandbox{path}", timeout=10, **kwargs)
        response.raise_for_status()
        return response.json()


@pytest.fixture
def site(live_server: Any, settings: Any) -> Iterator[Site]:
    """The site on a live server and a sandbox whose webhooks reach it."""
    from phonepe_gateway.sandbox.testing import serve_sandbox

    with serve_sandbox(webhook_url=live_server.url + WEBHOOK_PATH) as sandbox:
        settings.PHONEPE = {**settings.PHONEPE, "local_url": sandbox.url}
        yield Site(url=live_server.url, sandbox=sandbox)


@pytest.fixture
def lot(transactional_db: None) -> Any:
    from lots.models import Lot

    lot = Lot.objects.create(
        name="Phoenix Marketcity · B2",
        slug="phoenix-b2",
        address="LBS Marg, Kurla West, Mumbai",
        grace_minutes=15,
        hourly_rate=4000,
        daily_cap=30000,
    )
    lot.add_bays(12)
    return lot


def wait_for(condition: Callable[[], Any], *, timeout: float = 15.0, what: str = "") -> Any:
    """Poll ``condition`` until it returns something truthy, or fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what or condition}")
        time.sleep(0.05)


def backdate_entry(ticket: int, minutes: int) -> None:
    """Stand in for time passing while parked (the tariff reads the stored entry time)."""
    from django.utils import timezone
    from lots.models import ParkingSession

    updated = ParkingSession.objects.filter(pk=ticket, state="PARKED").update(
        entry_at=timezone.now() - timedelta(minutes=minutes)
    )
    assert updated == 1


def shoot(page: Any, name: str) -> Path:
    path = screenshot_dir() / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
