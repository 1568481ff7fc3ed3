"""The API docs page renders in a real browser from this server alone (no CDN, CSP on)."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.e2e


def test_api_docs_when_opened_then_swagger_renders_without_other_origins(
    site: Any, phone: Any
) -> None:
    page = phone.new_page()
    requested: list[str] = []
    errors: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(site.url + "/api/docs")
    page.wait_for_selector(".opblock")
    assert page.locator(".opblock").count() >= 4  # the payments, refunds, webhook operations
    assert [url for url in requested if not url.startswith(site.url)] == []
    assert errors == []
