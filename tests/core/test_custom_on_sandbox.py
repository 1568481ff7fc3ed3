"""Custom checkout against the real sandbox over loopback: every instrument, the UPI link
paid in the simulated UPI app, a collect request approved, and the client's machinery
(failover, the token refresh, a lost answer after the sandbox acted) on ``/payments/v2``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from phonepe_gateway import (
    AsyncPhonePeClient,
    Card,
    GatewayError,
    NetBanking,
    PhonePeClient,
    PhonePeError,
    Token,
    TransportError,
    UpiCollect,
    UpiIntent,
    UpiQr,
)
from phonepe_gateway._clock import FakeClock

from .servers import refused_port

PAY = "/payments/v2/pay"
BACK = "http://127.0.0.1:8000/back"
CARD = Card(
    encryption_key_id=1,
    encrypted_card_number="ENC-NUMBER",
    encrypted_cvv="ENC-CVV",
    expiry_month="12",
    expiry_year="2030",
)
TOKEN = Token(
    encryption_key_id=1,
    encrypted_token="ENC-TOKEN",
    encrypted_cvv="ENC-CVV",
    cryptogram="CRYPTOGRAM",
    pan_suffix="1111",
    expiry_month="01",
    expiry_year="2031",
)


def control(sandbox: Any, method: str, path: str, body: Any = None) -> Any:
    answer = httpx.request(method, sandbox.url + path, json=body, timeout=5)
    assert answer.status_code in (200, 201), answer.text
    return answer.json()


def options(sandbox: Any, **kw: Any) -> dict[str, Any]:
    return {"env": "local", "local_url": sandbox.url, "read_timeout": 2, "timeout": 10, **kw}


@pytest.fixture
def client(sandbox: Any) -> Iterator[PhonePeClient]:
    with PhonePeClient(clock=FakeClock(), **options(sandbox)) as c:
        yield c


def upi_fields(link: str) -> dict[str, str]:
    parts = urlsplit(link)
    assert (parts.scheme, parts.netloc) == ("upi", "pay"), link
    return {k: v[0] for k, v in parse_qs(parts.query).items()}


@pytest.mark.parametrize(
    ("instrument", "redirect"),
    [
        (UpiIntent(), None),
        (UpiIntent(target_app="com.phonepe.app", device_os="ANDROID"), None),
        (UpiQr(), None),
        (UpiCollect(vpa="driver@ybl", message="Bay 4"), None),
        (UpiCollect(phone="9876543210"), None),
        (NetBanking(bank_id="HDFC"), BACK),
        (CARD, BACK),
        (TOKEN, BACK),
    ],
    ids=lambda v: getattr(v, "mode", None) or str(v),
)
def test_every_instrument_then_what_the_merchant_acts_on(
    sandbox, client, instrument, redirect
) -> None:
    result = client.create_payment(
        amount=1_500, instrument=instrument, redirect_url=redirect, expire_after=900
    )
    assert (result.state, result.instrument) == ("PENDING", instrument.mode)
    assert result.order_id
    assert result.expire_at is not None
    if isinstance(instrument, UpiIntent | UpiQr):
        link = result.intent_url if isinstance(instrument, UpiIntent) else result.qr_data
        assert link is not None
        fields = upi_fields(link)
        assert (fields["am"], fields["cu"], fields["tr"]) == ("15.00", "INR", result.order_id)
        assert "@" in fields["pa"]
    else:
        assert result.intent_url is None
        assert result.qr_data is None
    assert (result.redirect_url is not None) == (redirect is not None)
    status = client.get_order_status(result.merchant_order_id, custom_checkout=True)
    assert (status.state, status.amount) == ("PENDING", 1_500)


def test_intent_paid_in_the_upi_app_then_completed_and_attempt_readable(sandbox, client) -> None:
    result = client.create_payment(amount=2_000, instrument=UpiIntent())
    control(sandbox, "POST", "/_sandbox/upi/pay", {"link": result.intent_url, "outcome": "PAY"})
    status = client.get_order_status(result.merchant_order_id, details=True, custom_checkout=True)
    assert status.state == "COMPLETED"
    paid = status.successful_payment
    assert paid is not None
    assert paid.payment_mode == "UPI_INTENT"
    assert paid.transaction_id
    for custom in (True, False):
        attempt = client.get_transaction_status(paid.transaction_id, custom_checkout=custom)
        assert (attempt.state, attempt.amount) == ("COMPLETED", 2_000)
        assert attempt.payment_details[0].transaction_id == paid.transaction_id


def test_collect_request_approved_then_completed(sandbox, client) -> None:
    result = client.create_payment(amount=700, instrument=UpiCollect(vpa="driver@ybl"))
    control(
        sandbox, "POST", f"/_sandbox/upi/collect/{result.merchant_order_id}", {"outcome": "PAY"}
    )
    status = client.get_order_status(result.merchant_order_id, details=True, custom_checkout=True)
    assert status.state == "COMPLETED"
    assert status.payment_details[0].payment_mode == "UPI_COLLECT"


def test_custom_sdk_order_then_token(sandbox, client) -> None:
    created = client.create_sdk_order(amount=1_000, custom_checkout=True)
    assert created.token
    assert client.get_order_status(created.merchant_order_id, custom_checkout=True).amount == 1_000


@pytest.mark.parametrize("path", [PAY, "/payments/v2/sdk/order"])
def test_answer_dropped_after_commit_then_recovered_not_failed(sandbox, client, path) -> None:
    control(sandbox, "POST", "/_sandbox/faults", {"method": "POST", "path": path,
                                                 "action": "drop_after_commit", "times": 1})  # fmt: skip
    if path == PAY:
        result = client.create_payment(amount=2_500, instrument=UpiQr())
    else:
        result = client.create_sdk_order(amount=2_500, custom_checkout=True)
    assert result.state == "PENDING"
    order = control(sandbox, "GET", f"/_sandbox/orders/{result.merchant_order_id}")
    assert (order["amount"], order["orderId"]) == (2_500, result.order_id)


def test_answer_lost_and_status_refused_then_error_says_maybe_acted(sandbox, client) -> None:
    # The order exists; the status call that would prove it is refused once. The error
    # must not read as "certainly not acted" (a ledger would mark the payment FAILED).
    control(sandbox, "POST", "/_sandbox/faults", {"method": "POST", "path": PAY,
                                                 "action": "drop_after_commit", "times": 1})  # fmt: skip
    control(sandbox, "POST", "/_sandbox/faults", {"method": "GET", "path": "/payments/v2/order/*",
                                                 "action": "status", "status": 400, "times": 1})  # fmt: skip
    with pytest.raises(PhonePeError) as info:
        client.create_payment(amount=2_500, merchant_order_id="sb-maybe-1", instrument=UpiIntent())
    error = info.value
    maybe = error.request_sent if isinstance(error, TransportError) else None
    if isinstance(error, GatewayError):
        maybe = bool(error.details.get("after_maybe_sent"))
    assert maybe, repr(error)
    assert control(sandbox, "GET", "/_sandbox/orders/sb-maybe-1")["amount"] == 2_500


def test_token_rejected_once_then_refreshed_and_paid(sandbox, client) -> None:
    control(sandbox, "POST", "/_sandbox/faults", {"method": "POST", "path": PAY,
                                                 "action": "status", "status": 401, "times": 1})  # fmt: skip
    result = client.create_payment(amount=1_000, instrument=UpiQr())
    assert result.qr_data


def test_first_endpoint_refuses_then_the_next_one_serves(sandbox) -> None:
    dead = f"http://127.0.0.1:{refused_port()}/apis/pg-sandbox"
    urls = f"{dead},{sandbox.base_url}"
    with PhonePeClient(
        clock=FakeClock(), env="local", base_urls=urls, oauth_urls=urls, read_timeout=2, timeout=10
    ) as client:
        result = client.create_payment(amount=1_000, instrument=UpiIntent())
    assert result.intent_url


@pytest.mark.anyio
async def test_async_client_on_the_sandbox(sandbox) -> None:
    control(sandbox, "POST", "/_sandbox/faults", {"method": "POST", "path": PAY,
                                                 "action": "drop_after_commit", "times": 1})  # fmt: skip
    async with AsyncPhonePeClient(clock=FakeClock(), **options(sandbox)) as client:
        lost = await client.create_payment(amount=1_100, instrument=UpiQr())
        intent = await client.create_payment(amount=1_200, instrument=UpiIntent())
        control(sandbox, "POST", "/_sandbox/upi/pay", {"link": intent.intent_url, "outcome": "PAY"})
        status = await client.get_order_status(intent.merchant_order_id, custom_checkout=True)
    assert (lost.state, lost.instrument) == ("PENDING", "UPI_QR")
    assert status.state == "COMPLETED"
