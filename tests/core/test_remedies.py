"""Remedies: one text per transport category, quoted as written by the client's errors."""

from __future__ import annotations

import httpx
import pytest

from phonepe_gateway import Category, PhonePeClient, Settings, TransportError
from phonepe_gateway._classify import read_response
from phonepe_gateway._remedies import remedy


@pytest.mark.parametrize("category", list(Category))
@pytest.mark.parametrize("env", ["production", "local"])
def test_remedy_when_any_category_then_whole_sentences_that_say_what_to_do(category, env) -> None:
    text = remedy(category, env=env)
    assert len(text) > 60
    assert text[0].isupper()
    assert text.endswith(".")


def test_remedy_when_every_endpoint_refused_then_names_ports_hosts_and_who_fixes_it() -> None:
    text = remedy(
        Category.CONNECTION_REFUSED,
        hosts="api.phonepe.com:443, api2.phonepe.com:8443",
        ports="443/8443",
        every_endpoint=True,
    )
    assert "outbound connections to port 443/8443 are blocked" in text
    assert "api.phonepe.com:443, api2.phonepe.com:8443" in text
    assert "hosting provider" in text
    assert "PHONEPE_PROXY" in text
    assert "phonepe doctor" in text
    assert "phonepe doctor" not in remedy(
        Category.CONNECTION_REFUSED, every_endpoint=True, doctor_hint=False
    )


def test_remedy_when_local_then_sandbox_not_hosting_provider() -> None:
    text = remedy(Category.CONNECTION_REFUSED, env="local", every_endpoint=True)
    assert "phonepe sandbox" in text
    assert "hosting provider" not in text


def test_read_response_when_2xx_html_then_quotes_remedy_with_its_case_intact() -> None:
    with pytest.raises(TransportError) as info:
        read_response(
            200, {"content-type": "text/html"}, b"<html>proxy login</html>",
            call="order_status", endpoint="https://h/x", attempts=1,
        )  # fmt: skip
    assert remedy(Category.PROTOCOL_ERROR) in info.value.message
    assert "PHONEPE_BASE_URLS" in info.value.message


def test_client_error_when_every_endpoint_refuses_then_quotes_the_one_remedy() -> None:
    settings = Settings.build(
        env="production", client_id="C", client_secret="client-secret-1",
        base_urls="https://api.phonepe.invalid/apis/pg", max_retries=0,
    )  # fmt: skip

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused")

    with (
        PhonePeClient(settings, transport=httpx.MockTransport(refuse)) as client,
        pytest.raises(TransportError) as info,
    ):
        client.get_order_status("o1")
    expected = remedy(
        Category.CONNECTION_REFUSED,
        hosts="api.phonepe.invalid:443",
        ports="443",
        every_endpoint=True,
    )
    assert expected in info.value.message
