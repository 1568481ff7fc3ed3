"""Custom checkout, SDK orders, transaction status and the hosted page's options:
the requests the client builds, the answers it reads, what it refuses before sending,
and the shared machinery (token, failover, lost-answer recovery) on the new calls.

Over ``httpx.MockTransport`` with :class:`~tests.core.custom_fakes.CustomGateway`.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from phonepe_gateway import (
    AsyncPhonePeClient,
    CallEvent,
    Card,
    ConfigurationError,
    DuplicateRequestError,
    NetBanking,
    NotFoundError,
    PaymentModes,
    PhonePeClient,
    Settings,
    Token,
    UpiCollect,
    UpiIntent,
    UpiQr,
    ValidationError,
)
from phonepe_gateway._clock import FakeClock

from .custom_fakes import CustomGateway, upi_link
from .fakes import EXPIRE_AT_MS, FakeGateway

BACK = "http://127.0.0.1:8000/back"


@pytest.fixture
def gateway(clock: FakeClock) -> CustomGateway:
    return CustomGateway(now=clock.time)


def make(settings: Settings, gateway: FakeGateway, clock: FakeClock, **kw: Any) -> PhonePeClient:
    return PhonePeClient(settings, transport=gateway.transport(), clock=clock, **kw)


def sent(gateway: FakeGateway, index: int = -1) -> dict[str, Any]:
    return dict(json.loads(gateway.requests[index].content))


CARD = Card(
    encryption_key_id=7,
    encrypted_card_number="ENC-NUMBER",
    encrypted_cvv="ENC-CVV",
    expiry_month="12",
    expiry_year="2030",
    card_holder_name="A Driver",
)
TOKEN = Token(
    encryption_key_id=7,
    encrypted_token="ENC-TOKEN",
    encrypted_cvv="ENC-CVV",
    cryptogram="CRYPTO",
    pan_suffix="1111",
    expiry_month="01",
    expiry_year="2031",
)

# -- every instrument ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("instrument", "redirect", "expect"),
    [
        (UpiIntent(), None, "intent_url"),
        (UpiIntent(target_app="com.phonepe.app"), None, "intent_url"),
        (UpiQr(), None, "qr_data"),
        (UpiCollect(vpa="driver@ybl", message="Parking"), None, None),
        (UpiCollect(phone="9876543210"), None, None),
        (NetBanking(bank_id="HDFC"), BACK, "redirect_url"),
        (CARD, BACK, "redirect_url"),
        (TOKEN, BACK, "redirect_url"),
    ],
    ids=lambda v: getattr(v, "mode", None) or str(v),
)
def test_create_payment_with_instrument_then_custom_checkout_request_and_typed_result(
    settings, gateway, clock, instrument, redirect, expect
) -> None:
    with make(settings, gateway, clock) as client:
        result = client.create_payment(
            amount=4_500, merchant_order_id="cc-1", instrument=instrument, redirect_url=redirect
        )
    assert gateway.paths() == [
        "/apis/pg-sandbox/v1/oauth/token",
        "/apis/pg-sandbox/payments/v2/pay",
    ]
    body = sent(gateway)
    assert body["merchantOrderId"] == "cc-1"
    assert body["amount"] == 4_500
    assert body["paymentFlow"]["type"] == "PG"
    assert body["paymentFlow"]["paymentMode"] == instrument.to_wire()
    if redirect:
        assert body["paymentFlow"]["merchantUrls"] == {"redirectUrl": redirect}
    else:
        assert "merchantUrls" not in body["paymentFlow"]
    assert gateway.requests[-1].headers["authorization"] == "O-Bearer " + gateway.tokens[0]
    assert result.instrument == instrument.mode
    assert (result.merchant_order_id, result.order_id, result.state) == (
        "cc-1",
        "OMOcc-1",
        "PENDING",
    )
    assert result.expire_at is not None
    links = {"intent_url": result.intent_url, "qr_data": result.qr_data}
    links["redirect_url"] = result.redirect_url
    for name, value in links.items():
        assert (value is not None) == (name == expect), name
    if expect in ("intent_url", "qr_data"):
        assert links[expect] == upi_link("OMOcc-1", 4_500)
    assert result.token is None


def test_upi_intent_with_device_then_device_context_sent(settings, gateway, clock) -> None:
    intent = UpiIntent(target_app="PHONEPE", device_os="IOS", merchant_callback_scheme="parkapp")
    with make(settings, gateway, clock) as client:
        client.create_payment(amount=100, merchant_order_id="ios-1", instrument=intent)
    assert sent(gateway)["deviceContext"] == {
        "deviceOS": "IOS",
        "merchantCallbackScheme": "parkapp",
    }
    with make(settings, gateway, clock) as client:
        client.create_payment(amount=100, merchant_order_id="and-1", instrument=UpiIntent())
    assert "deviceContext" not in sent(gateway)


def test_upi_qr_when_answer_has_only_intent_url_then_qr_data_is_that_link(
    settings, gateway, clock
) -> None:
    # PhonePe's UPI QR page: "intentUrl … present in case of UPI_INTENT or UPI_QR", and its
    # sample answers with "qrData": "". The UPI string is what the QR encodes.
    link = upi_link("OMOqr-2", 100)
    answer = {"orderId": "OMOqr-2", "state": "PENDING", "expireAt": EXPIRE_AT_MS}
    gateway.queue(
        "/payments/v2/pay", httpx.Response(200, json={**answer, "intentUrl": link, "qrData": ""})
    )
    with make(settings, gateway, clock) as client:
        result = client.create_payment(amount=100, merchant_order_id="qr-2", instrument=UpiQr())
    assert result.qr_data == link
    assert result.intent_url == link


def test_custom_pay_when_state_created_then_read_as_pending(settings, gateway, clock) -> None:
    # The custom-checkout pay page: "state … Expected value is CREATED".
    answer = {"orderId": "OMOc-3", "state": "CREATED", "expireAt": EXPIRE_AT_MS}
    gateway.queue("/payments/v2/pay", httpx.Response(200, json={**answer, "surprise": [1]}))
    with make(settings, gateway, clock) as client:
        result = client.create_payment(
            amount=100, merchant_order_id="c-3", instrument=UpiCollect(vpa="ab@ybl")
        )
    assert result.state == "PENDING"
    assert result.raw["surprise"] == [1]


# -- the hosted page's options --------------------------------------------------------


def test_hosted_page_options_then_sent_in_phonepes_fields(settings, gateway, clock) -> None:
    modes = PaymentModes(enabled=("UPI_INTENT", "UPI_QR", "DEBIT_CARD"))
    with make(settings, gateway, clock) as client:
        result = client.create_payment(
            amount=2_000,
            merchant_order_id="page-1",
            redirect_url=BACK,
            payment_modes=modes,
            disable_payment_retry=True,
            prefill_phone="9876543210",
        )
    assert gateway.paths()[-1] == "/apis/pg-sandbox/checkout/v2/pay"
    body = sent(gateway)
    assert body["paymentFlow"] == {
        "type": "PG_CHECKOUT",
        "merchantUrls": {"redirectUrl": BACK},
        "paymentModeConfig": modes.to_wire(),
    }
    assert body["disablePaymentRetry"] is True
    assert body["prefillUserLoginDetails"] == {"phoneNumber": "9876543210"}
    assert result.instrument is None
    assert result.redirect_url == "http://127.0.0.1/checkout/page-1"


def test_hosted_page_without_options_then_body_unchanged(settings, gateway, clock) -> None:
    with make(settings, gateway, clock) as client:
        client.create_payment(amount=2_000, merchant_order_id="page-2")
    body = sent(gateway)
    assert body == {
        "merchantOrderId": "page-2",
        "amount": 2_000,
        "paymentFlow": {"type": "PG_CHECKOUT"},
    }


# -- refused before sending ----------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        (
            {"instrument": UpiQr(), "payment_modes": PaymentModes(disabled=("CARD",))},
            "payment_modes",
        ),
        ({"instrument": UpiQr(), "prefill_phone": "9876543210"}, "prefill_phone"),
        ({"instrument": UpiQr(), "disable_payment_retry": True}, "disable_payment_retry"),
        ({"instrument": NetBanking(bank_id="HDFC")}, "redirect_url"),
        ({"instrument": CARD}, "redirect_url"),
        ({"instrument": TOKEN}, "redirect_url"),
        ({"instrument": {"type": "UPI_QR"}}, "instrument"),
        ({"instrument": UpiQr(), "expire_after": 5_184_001}, "expire_after"),
        ({"instrument": UpiQr(), "expire_after": 299}, "expire_after"),
        ({"instrument": UpiQr(), "amount": 99}, "amount"),
        ({"instrument": UpiQr(), "merchant_order_id": "has space"}, "merchant_order_id"),
        ({"prefill_phone": "+919876543210"}, "prefill_phone"),
        ({"prefill_phone": "12345"}, "prefill_phone"),
        ({"payment_modes": ("UPI_QR",)}, "payment_modes"),
        ({"disable_payment_retry": "yes"}, "disable_payment_retry"),
        (
            {"expire_after": 3_601, "payment_modes": PaymentModes(enabled=("UPI_QR",))},
            "expire_after",
        ),
    ],
)
def test_create_payment_when_invalid_then_validation_error_and_nothing_sent(
    settings, gateway, clock, kwargs, field
) -> None:
    with make(settings, gateway, clock) as client, pytest.raises(ValidationError) as info:
        client.create_payment(**{"amount": 100, **kwargs})
    assert info.value.field == field
    assert gateway.requests == []


def test_custom_pay_when_expiry_beyond_an_hour_then_allowed(settings, gateway, clock) -> None:
    with make(settings, gateway, clock) as client:
        client.create_payment(
            amount=100, merchant_order_id="long-1", instrument=UpiQr(), expire_after=86_400
        )
    assert sent(gateway)["expireAfter"] == 86_400


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.create_payment(amount=100, instrument=UpiQr()),
        lambda c: c.create_payment(amount=100, disable_payment_retry=True),
        lambda c: c.create_payment(amount=100, prefill_phone="9876543210"),
        lambda c: c.create_sdk_order(amount=100),
        lambda c: c.get_transaction_status("OM123"),
        lambda c: c.get_order_status("o1", custom_checkout=True),
    ],
)
def test_generation_1_client_when_custom_call_then_configuration_error_naming_it(
    v1_settings, gateway, clock, call
) -> None:
    with make(v1_settings, gateway, clock) as client, pytest.raises(ConfigurationError) as info:
        call(client)
    assert "generation 2" in str(info.value)
    assert gateway.requests == []


# -- SDK orders ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("custom", "path"), [(False, "/checkout/v2/sdk/order"), (True, "/payments/v2/sdk/order")]
)
def test_create_sdk_order_then_token_from_the_right_path(
    settings, gateway, clock, custom, path
) -> None:
    with make(settings, gateway, clock) as client:
        result = client.create_sdk_order(
            amount=1_500,
            merchant_order_id="sdk-1",
            redirect_url=BACK,
            custom_checkout=custom,
            disable_payment_retry=True,
            meta_info={"udf1": "bay 4"},
        )
    assert gateway.paths()[-1] == "/apis/pg-sandbox" + path
    body = sent(gateway)
    assert body["paymentFlow"]["type"] == "PG_CHECKOUT"
    assert ("merchantUrls" in body["paymentFlow"]) is (not custom)
    assert body["disablePaymentRetry"] is True
    assert body["metaInfo"] == {"udf1": "bay 4"}
    assert result.token == "sdk-token-sdk-1"
    assert (result.order_id, result.state, result.instrument) == ("OMOsdk-1", "PENDING", None)


def test_create_sdk_order_when_invalid_then_nothing_sent(settings, gateway, clock) -> None:
    with make(settings, gateway, clock) as client:
        with pytest.raises(ValidationError):
            client.create_sdk_order(amount=100, expire_after=3_601)
        with pytest.raises(ValidationError):
            client.create_sdk_order(amount=100, custom_checkout="yes")  # type: ignore[arg-type]
        client.create_sdk_order(amount=100, expire_after=7_200, custom_checkout=True)
    assert len(gateway.paths()) == 2  # the token and the one valid order


# -- statuses ------------------------------------------------------------------------------


@pytest.mark.parametrize(("custom", "prefix"), [(False, "/checkout/v2/"), (True, "/payments/v2/")])
def test_get_transaction_status_then_attempt_in_order_status_shape(
    settings, gateway, clock, custom, prefix
) -> None:
    with make(settings, gateway, clock) as client:
        client.create_payment(amount=900, merchant_order_id="tx-1", instrument=UpiIntent())
        gateway.attempt("tx-1", "OM9001", "UPI_INTENT")
        status = client.get_transaction_status("OM9001", custom_checkout=custom)
    assert gateway.paths()[-1] == f"/apis/pg-sandbox{prefix}transaction/OM9001/status"
    assert status.state == "PENDING"
    assert status.amount == 900
    assert status.order_id == "OMOtx-1"
    assert status.merchant_order_id == ""  # PhonePe's answer does not name it
    assert [(d.transaction_id, d.payment_mode) for d in status.payment_details] == [
        ("OM9001", "UPI_INTENT")
    ]


def test_get_transaction_status_when_unknown_then_not_found(settings, gateway, clock) -> None:
    with make(settings, gateway, clock) as client, pytest.raises(NotFoundError):
        client.get_transaction_status("OMnope")


@pytest.mark.parametrize("bad", ["../oauth", "", "a b", "x" * 129, 42])
def test_get_transaction_status_when_id_unsafe_then_validation_error(
    settings, gateway, clock, bad
) -> None:
    with make(settings, gateway, clock) as client, pytest.raises(ValidationError) as info:
        client.get_transaction_status(bad)
    assert info.value.field == "transaction_id"
    assert gateway.requests == []


def test_get_order_status_custom_checkout_then_payments_path(settings, gateway, clock) -> None:
    with make(settings, gateway, clock) as client:
        client.create_payment(amount=900, merchant_order_id="st-1", instrument=UpiQr())
        status = client.get_order_status("st-1", details=True, custom_checkout=True)
    assert gateway.paths()[-1] == "/apis/pg-sandbox/payments/v2/order/st-1/status"
    assert gateway.requests[-1].url.params["details"] == "true"
    assert status.state == "PENDING"


# -- the shared machinery on the new calls ----------------------------------------------


def test_custom_pay_when_answer_lost_then_recovered_through_custom_status(
    settings, gateway, clock
) -> None:
    def commit_then_drop(request: httpx.Request) -> httpx.Response:
        gateway._route(request)
        raise httpx.ReadTimeout("timed out", request=request)

    events: list[CallEvent] = []
    with make(settings, gateway, clock, on_event=events.append) as client:
        gateway.queue("/payments/v2/pay", commit_then_drop)
        result = client.create_payment(amount=700, merchant_order_id="lost-c1", instrument=UpiQr())
    assert (result.merchant_order_id, result.order_id, result.state) == (
        "lost-c1",
        "OMOlost-c1",
        "PENDING",
    )
    assert result.instrument == "UPI_QR"
    assert result.qr_data is None  # the status API does not repeat it
    assert [e.call for e in events] == [
        "oauth_token",
        "custom_payment",
        "custom_payment",
        "order_status",
    ]
    assert gateway.paths()[-1] == "/apis/pg-sandbox/payments/v2/order/lost-c1/status"


def test_custom_pay_when_answer_lost_and_id_is_another_orders_then_duplicate(
    settings, gateway, clock
) -> None:
    def other_order(request: httpx.Request) -> httpx.Response:
        gateway.orders["lost-c2"] = {
            "merchantOrderId": "lost-c2",
            "state": "PENDING",
            "amount": 999,
        }
        raise httpx.ReadTimeout("timed out", request=request)

    with make(settings, gateway, clock) as client:
        gateway.queue("/payments/v2/pay", other_order)
        with pytest.raises(DuplicateRequestError):
            client.create_payment(amount=700, merchant_order_id="lost-c2", instrument=UpiIntent())


@pytest.mark.parametrize("custom", [False, True])
def test_sdk_order_when_answer_lost_then_recovered_through_matching_status(
    settings, gateway, clock, custom
) -> None:
    def commit_then_reset(request: httpx.Request) -> httpx.Response:
        gateway._route(request)
        raise httpx.RemoteProtocolError(
            "Server disconnected without sending a response.", request=request
        )

    with make(settings, gateway, clock) as client:
        gateway.queue("/sdk/order", commit_then_reset)
        result = client.create_sdk_order(
            amount=700, merchant_order_id="lost-s1", custom_checkout=custom
        )
    assert (result.order_id, result.state, result.token) == ("OMOlost-s1", "PENDING", None)
    prefix = "/payments/v2/" if custom else "/checkout/v2/"
    assert gateway.paths()[-1] == f"/apis/pg-sandbox{prefix}order/lost-s1/status"


def test_custom_pay_when_first_endpoint_refuses_then_fails_over(gateway, clock) -> None:
    settings = Settings.build(
        env="local",
        base_urls="http://127.0.0.1:7/apis/pg-sandbox,http://127.0.0.1:9/apis/pg-sandbox",
        connect_timeout=0.5,
        read_timeout=1,
        timeout=5,
    )

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.port == 7:
            raise httpx.ConnectError("connection refused", request=request)
        return gateway(request)

    with PhonePeClient(settings, transport=httpx.MockTransport(handler), clock=clock) as client:
        result = client.create_payment(amount=300, merchant_order_id="fo-1", instrument=UpiIntent())
    assert result.intent_url == upi_link("OMOfo-1", 300)
    assert clock.sleeps == []  # certainly not sent: the next endpoint at once


def test_custom_pay_when_token_rejected_then_refreshed_once(settings, gateway, clock) -> None:
    with make(settings, gateway, clock) as client:
        gateway.queue("/payments/v2/pay", httpx.Response(401, json={"code": "UNAUTHORIZED"}))
        result = client.create_payment(amount=300, merchant_order_id="auth-1", instrument=UpiQr())
    assert len(gateway.tokens) == 2
    assert result.qr_data is not None


def test_custom_pay_when_server_error_then_retried_with_the_same_id(
    settings, gateway, clock
) -> None:
    with make(settings, gateway, clock) as client:
        gateway.queue(
            "/payments/v2/pay", httpx.Response(503, json={"code": "INTERNAL_SERVER_ERROR"})
        )
        result = client.create_payment(amount=300, instrument=UpiQr())
    pays = [r for r in gateway.requests if r.url.path.endswith("/payments/v2/pay")]
    assert len(pays) == 2
    assert {json.loads(r.content)["merchantOrderId"] for r in pays} == {result.merchant_order_id}


# -- asyncio twin ----------------------------------------------------------------------


@pytest.mark.anyio
async def test_async_client_when_custom_calls_then_same_results(settings, gateway, clock) -> None:
    async with AsyncPhonePeClient(settings, transport=gateway.transport(), clock=clock) as client:
        intent = await client.create_payment(
            amount=500, merchant_order_id="a-i", instrument=UpiIntent()
        )
        qr = await client.create_payment(amount=500, merchant_order_id="a-q", instrument=UpiQr())
        page = await client.create_payment(
            amount=500, merchant_order_id="a-p", prefill_phone="9876543210"
        )
        sdk = await client.create_sdk_order(
            amount=500, merchant_order_id="a-s", custom_checkout=True
        )
        gateway.attempt("a-q", "OMa1", "UPI_QR")
        attempt = await client.get_transaction_status("OMa1", custom_checkout=True)
        status = await client.get_order_status("a-q", custom_checkout=True)
        with pytest.raises(ValidationError):
            await client.create_payment(amount=500, instrument=UpiQr(), prefill_phone="9876543210")
    assert intent.intent_url == upi_link("OMOa-i", 500)
    assert qr.qr_data == upi_link("OMOa-q", 500)
    assert page.redirect_url == "http://127.0.0.1/checkout/a-p"
    assert sdk.token == "sdk-token-a-s"
    assert attempt.payment_details[0].transaction_id == "OMa1"
    assert status.order_id == "OMOa-q"
    assert len(gateway.tokens) == 1


@pytest.mark.anyio
async def test_async_custom_pay_when_answer_lost_then_recovered(settings, gateway, clock) -> None:
    def commit_then_drop(request: httpx.Request) -> httpx.Response:
        gateway._route(request)
        raise httpx.ReadTimeout("timed out", request=request)

    async with AsyncPhonePeClient(settings, transport=gateway.transport(), clock=clock) as client:
        gateway.queue("/payments/v2/pay", commit_then_drop)
        result = await client.create_payment(
            amount=700, merchant_order_id="alost-c", instrument=UpiIntent()
        )
    assert (result.order_id, result.instrument) == ("OMOalost-c", "UPI_INTENT")


@pytest.mark.parametrize(
    "kwargs",
    [{"device_os": "android"}, {"device_os": "WINDOWS"}, {"merchant_callback_scheme": ""}],
)
def test_upi_intent_when_device_fields_invalid_then_validation_error(kwargs) -> None:
    with pytest.raises(ValidationError):
        UpiIntent(**kwargs)
