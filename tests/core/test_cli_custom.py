"""``phonepe pay --upi-intent | --upi-qr | --collect VPA`` against a loopback gateway:
the link printed, the UPI QR drawn (and decodable), the collect request named."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from phonepe_gateway.cli import main

from .custom_fakes import CustomGateway, upi_link
from .fakes import CLIENT_ID, CLIENT_SECRET
from .servers import GatewayServer


@pytest.fixture
def gateway(clock) -> CustomGateway:
    return CustomGateway(now=clock.time)


@pytest.fixture
def server(gateway: CustomGateway, monkeypatch: pytest.MonkeyPatch) -> Iterator[GatewayServer]:
    with GatewayServer(gateway) as srv:
        monkeypatch.setenv("PHONEPE_ENV", "local")
        monkeypatch.setenv("PHONEPE_BASE_URLS", srv.url)
        monkeypatch.setenv("PHONEPE_CLIENT_ID", CLIENT_ID)
        monkeypatch.setenv("PHONEPE_CLIENT_SECRET", CLIENT_SECRET)
        yield srv


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def pay_bodies(gateway: CustomGateway) -> list[dict]:
    return [json.loads(r.content) for r in gateway.requests if r.url.path.endswith("/v2/pay")]


def qr_matrix(text: str) -> list[list[bool]]:
    """A compact terminal QR as a bit matrix (each character is two module rows: ▀ ▄ █ or
    space; segno draws the light modules, for dark terminals)."""
    rows: list[list[bool]] = []
    for line in text.splitlines():
        if not line or set(line) - set(" ▀▄█"):
            continue
        rows.append([c in "▀█" for c in line])
        rows.append([c in "▄█" for c in line])
    return rows


def test_pay_upi_intent_then_prints_the_link(server, gateway) -> None:
    result = run("pay", "--amount", "2500", "--order-id", "cli-i1", "--upi-intent")
    assert result.exit_code == 0, result.output
    assert f"intent url          {upi_link('OMOcli-i1', 2500)}" in result.output
    assert "UPI_INTENT" in result.output
    assert "checkout url" not in result.output
    assert pay_bodies(gateway)[0]["paymentFlow"]["paymentMode"] == {"type": "UPI_INTENT"}
    assert gateway.paths()[-1].endswith("/payments/v2/pay")


def test_pay_upi_intent_with_target_app_then_sent(server, gateway) -> None:
    result = run("pay", "--amount", "100", "--upi-intent", "--target-app", "com.phonepe.app")
    assert result.exit_code == 0, result.output
    assert pay_bodies(gateway)[0]["paymentFlow"]["paymentMode"]["targetApp"] == "com.phonepe.app"


def test_pay_upi_qr_then_draws_the_upi_string_as_a_qr(server, gateway) -> None:
    result = run("pay", "--amount", "4000", "--order-id", "cli-q1", "--upi-qr")
    assert result.exit_code == 0, result.output
    link = upi_link("OMOcli-q1", 4000)
    assert f"qr data             {link}" in result.output
    drawn = qr_matrix(result.output)
    assert drawn, result.output
    # The drawing is exactly segno's QR of the UPI string (not of a web page's URL).
    import io

    import segno

    expected = io.StringIO()
    segno.make(link, error="l").terminal(out=expected, compact=True, border=2)
    assert qr_matrix(expected.getvalue()) == drawn
    assert len(drawn[0]) >= 21 + 4  # a version 1 QR at least, with its quiet zone


def test_pay_upi_qr_with_no_qr_then_only_the_data(server) -> None:
    result = run("pay", "--amount", "4000", "--upi-qr", "--no-qr")
    assert result.exit_code == 0
    assert "qr data" in result.output
    assert qr_matrix(result.output) == []


@pytest.mark.parametrize(
    ("target", "details"),
    [
        ("driver@ybl", {"type": "VPA", "vpa": "driver@ybl"}),
        ("9876543210", {"type": "PHONE_NUMBER", "phoneNumber": "9876543210"}),
    ],
)
def test_pay_collect_then_request_sent_to_vpa_or_phone(server, gateway, target, details) -> None:
    result = run("pay", "--amount", "700", "--collect", target, "--message", "Bay 12")
    assert result.exit_code == 0, result.output
    assert f"Collect request sent to {target}" in result.output
    mode = pay_bodies(gateway)[0]["paymentFlow"]["paymentMode"]
    assert mode == {"type": "UPI_COLLECT", "details": details, "message": "Bay 12"}


@pytest.mark.parametrize(
    "args",
    [
        ("--upi-intent", "--upi-qr"),
        ("--upi-qr", "--collect", "driver@ybl"),
        ("--upi-qr", "--target-app", "com.phonepe.app"),
        ("--message", "hi"),
    ],
)
def test_pay_when_flags_conflict_then_usage_error_and_nothing_sent(server, gateway, args) -> None:
    result = run("pay", "--amount", "700", *args)
    assert result.exit_code == 2
    assert gateway.requests == []


def test_pay_collect_when_vpa_malformed_then_one_line_error(server, gateway) -> None:
    result = run("pay", "--amount", "700", "--collect", "not-a-vpa")
    assert result.exit_code == 1
    assert result.output.strip() == "error: vpa must look like name@bank."
    assert gateway.requests == []


def test_pay_upi_qr_when_expiry_beyond_an_hour_then_accepted(server, gateway) -> None:
    result = run("pay", "--amount", "700", "--upi-qr", "--expire-after", "7200", "--no-qr")
    assert result.exit_code == 0, result.output
    assert pay_bodies(gateway)[0]["expireAfter"] == 7200
