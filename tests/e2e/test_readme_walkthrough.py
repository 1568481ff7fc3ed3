"""The README's demo walk-through, followed word for word in a phone-sized Chromium.

The steps are read from README.md (between the ``walkthrough`` markers), not copied here,
so the README cannot promise a screen the demo does not show. Each step is made of:

* ``Choose **X**`` -- follow the link named X;
* ``Type `V` in **L**`` -- fill the field labelled L with V;
* ``press **B**`` -- press the button named B;
* any other ``**text**`` -- must then be on the page.

The database is a fresh one loaded the way ``make demo`` loads it (``load_demo`` with the
demo's staff login, then ``demo_traffic`` through the running site and sandbox), so the
walk-through meets the same parked cars and payments a newcomer's demo has.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from .conftest import Site, shoot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

README = Path(__file__).resolve().parents[2] / "README.md"
DEMO_URL = "http://127.0.0.1:8000/"
_ACTION = re.compile(
    r"Choose \*\*(?P<link>[^*]+)\*\*"
    r"|Type `(?P<value>[^`]+)` in \*\*(?P<label>[^*]+)\*\*"
    r"|[Pp]ress \*\*(?P<button>[^*]+)\*\*"
    r"|\*\*(?P<shown>[^*]+)\*\*"
)


def walkthrough_steps() -> tuple[str, list[str]]:
    """The README's sentence that opens the demo, and its numbered steps (one string each)."""
    text = README.read_text(encoding="utf-8")
    match = re.search(
        r"(?P<intro>[^\n]*\n)\n<!-- walkthrough[^>]*-->\n(?P<body>.*?)<!-- /walkthrough -->",
        text,
        re.S,
    )
    assert match, "README.md has no <!-- walkthrough --> section"
    steps = re.split(r"^\d+\. ", match["body"], flags=re.M)
    assert steps[0].strip() == "", "the walk-through must be a numbered list"
    return match["intro"], [" ".join(step.split()) for step in steps[1:]]


def load_demo_like_make_demo(site: Site) -> None:
    from scripts import demo

    call_command("load_demo", "--username", demo.STAFF_USER, "--password", demo.STAFF_PASSWORD)
    call_command("demo_traffic", "--sandbox-url", site.sandbox_url, "--site-url", site.url)


def do_step(page: Any, step: str) -> None:
    actions = list(_ACTION.finditer(step))
    assert actions, f"README step says nothing the test can do or check: {step!r}"
    for action in actions:
        if action["link"]:
            page.get_by_role("link", name=action["link"]).click()
        elif action["label"]:
            page.get_by_label(action["label"]).fill(action["value"])
        elif action["button"]:
            page.get_by_role("button", name=action["button"], exact=True).click()
        else:
            expect(page.locator("body")).to_contain_text(action["shown"])


def test_readme_walkthrough_when_followed_on_fresh_demo_then_paid_exit_pass(
    site: Site, phone: Any
) -> None:
    from lots.demo_data import DEMO_LOT_SLUG, WALKTHROUGH_PLATE
    from lots.models import ParkingSession

    intro, steps = walkthrough_steps()
    assert f"Open {DEMO_URL} and:" in intro
    assert f"Type `{WALKTHROUGH_PLATE}`" in steps[1]
    load_demo_like_make_demo(site)
    # The demo's own data must leave the walk-through plate free to park.
    assert not ParkingSession.objects.filter(plate="MH12AB1234").exists()

    page = phone.new_page()
    page.goto(site.url + "/")
    shoot(page, "walkthrough-0-home")
    for number, step in enumerate(steps, start=1):
        do_step(page, step)
        page.wait_for_load_state()
        shoot(page, f"walkthrough-{number}")

    expect(page).to_have_url(re.compile("^" + re.escape(site.url) + r"/park/\d+/$"))
    expect(page.locator("[data-state=PAID]")).to_be_visible()
    expect(page.locator(".pass-qr svg")).to_be_visible()
    session = ParkingSession.objects.get(plate="MH12AB1234")
    assert (session.lot.slug, session.state, session.fee) == (DEMO_LOT_SLUG, "PAID", 2000)
