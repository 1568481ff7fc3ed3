"""``phonepe pay / status / refund`` against a real loopback gateway; failures are one line."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from phonepe_gateway.cli import main

from .fakes import CLIENT_ID, CLIENT_SECRET, FakeGateway
from .servers import GatewayServer, refused_port


@pytest.fixture
def server(gateway: FakeGateway, monkeypatch: pytest.MonkeyPatch) -> Iterator[GatewayServer]:
    with GatewayServer(gateway) as srv:
        monkeypatch.setenv("PHONEPE_ENV", "local")
        monkeypatch.setenv("PHONEPE_BASE_URLS", srv.url)
        monkeypatch.setenv("PHONEPE_CLIENT_ID", CLIENT_ID)
        monkeypatch.setenv("PHONEPE_CLIENT_SECRET", CLIENT_SECRET)
        yield srv


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_pay_when_gateway_up_then_prints_checkout_url_and_qr(server) -> None:
    result = run("pay", "--amount", "1500", "--order-id", "cli-1")
    assert result.exit_code == 0, result.output
    assert "cli-1" in result.output
    assert "http://127.0.0.1/checkout/cli-1" in result.output
    assert "₹15.00" in result.output
    assert "▀" in result.output or "█" in result.output  # the terminal QR


def test_status_and_refund_when_order_exists_then_printed(server, gateway) -> None:
    assert run("pay", "--amount", "500", "--order-id", "cli-2", "--no-qr").exit_code == 0
    gateway.complete("cli-2", mode="UPI_INTENT")
    status = run("status", "cli-2", "--details")
    assert status.exit_code == 0
    assert "COMPLETED" in status.output
    assert "UPI_INTENT" in status.output
    refund = run("refund", "cli-2", "--amount", "200", "--refund-id", "rf-cli")
    assert refund.exit_code == 0
    assert "rf-cli" in refund.output
    assert "PENDING" in refund.output


def test_status_when_unknown_order_then_one_line_error_exit_1(server) -> None:
    result = run("status", "nope")
    assert result.exit_code == 1
    assert result.output.strip().startswith("error:")
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_pay_when_invalid_amount_then_validation_message_exit_1(server) -> None:
    result = run("pay", "--amount", "5")
    assert result.exit_code == 1
    assert "at least 100 paise" in result.output


def test_pay_when_gateway_unreachable_then_category_in_message(monkeypatch) -> None:
    monkeypatch.setenv("PHONEPE_ENV", "local")
    monkeypatch.setenv("PHONEPE_LOCAL_URL", f"http://127.0.0.1:{refused_port()}")
    monkeypatch.setenv("PHONEPE_MAX_RETRIES", "0")
    monkeypatch.delenv("PHONEPE_BASE_URLS", raising=False)
    result = run("pay", "--amount", "100")
    assert result.exit_code == 1
    assert "CONNECTION_REFUSED" in result.output
    assert "phonepe sandbox" in result.output


def test_pay_when_settings_invalid_then_configuration_message_exit_1(monkeypatch) -> None:
    monkeypatch.setenv("PHONEPE_ENV", "production")
    monkeypatch.delenv("PHONEPE_CLIENT_ID", raising=False)
    monkeypatch.delenv("PHONEPE_MERCHANT_ID", raising=False)
    result = run("pay", "--amount", "100")
    assert result.exit_code == 1
    assert "PHONEPE_CLIENT_ID" in result.output
