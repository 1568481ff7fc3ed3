"""schemathesis over ``POST /api/subscriptions`` with schema-valid bodies: never a 5xx,
every answer in the documented shape.

A mandate has rules JSON Schema cannot state (its amount at most its cap and equal to it
when FIXED, ₹2 with PENNY_DROP, an end at least one period away), so a schema-valid body
may be refused with 422 here; that check alone is left out. The negative run over every
operation is test_openapi_fuzz.py's.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance

from .conftest import API_KEY

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_post_subscriptions_schema_valid_bodies_then_no_5xx_and_documented_shapes(
    live_server, phonepe
) -> None:
    schema = schemathesis.openapi.from_url(live_server.url + "/api/openapi.json")
    [operation] = [
        result.ok()
        for result in schema.get_all_operations()
        if result.ok().method.upper() == "POST" and result.ok().path == "/api/subscriptions"
    ]

    @given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE))
    @settings(
        max_examples=25,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case) -> None:
        case.call_and_validate(
            base_url=live_server.url,
            headers={"Authorization": f"Bearer {API_KEY}"},
            timeout=30,
            excluded_checks=[positive_data_acceptance],
        )

    check()
