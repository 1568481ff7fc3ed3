"""The generation 2 happy path and its edges, over httpx.MockTransport."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from phonepe_gateway import (
    AsyncPhonePeClient,
    AuthenticationError,
    CallEvent,
    ConfigurationError,
    DuplicateRequestError,
    NotFoundError,
    PhonePeClient,
    Settings,
    TransportError,
    ValidationError,
)
from phonepe_gateway._clock import FakeClock

from .fakes import FakeGateway


def make(settings: Settings, gateway: FakeGateway, clock: FakeClock, **kw: object) -> PhonePeClient:
    return PhonePeClient(settings, transport=gateway.transport(), clock=clock, **kw)  # type: ignore[arg-type]


def test_construction_when_created_then_no_request_is_made(settings, gateway, clock) -> None:
    with make(settings, gateway, clock):
        pass
    assert gateway.requests == []


def test_create_payment_when_valid_then_returns_checkout(settings, gateway, clock) -> None:
    with make(settings, gateway, clock) as client:
        result = client.create_payment(
            amount=10_000, merchant_order_id="order-1", redirect_url="http://127.0.0.1/back"
        )
    assert result.merchant_order_id == "order-1"
    assert result.order_id == "OMOorder-1"
    assert result.state == "PENDING"
    assert result.redirect_url == "http://127.0.0.1/checkout/order-1"
    assert result.expire_at == datetime(2025, 6, 15, 15, 26, 40, tzinfo=UTC)
    assert gateway.paths() == [
        "/apis/pg-sandbox/v1/oauth/token",
        "/apis/pg-sandbox/checkout/v2/pay",
    ]
    pay = gateway.requests[1]
    assert pay.headers["authorization"] == "O-Bearer " + gateway.tokens[0]
    assert b'"merchantUrls":{"redirectUrl":"http://127.0.0.1/back"}' in pay.content


def test_create_payment_when_no_id_then_generates_short_sortable_id(
    settings, gateway, clock
) -> None:
    with make(settings, gateway, clock) as client:
        first = client.create_payment(amount=100)
        second = client.create_payment(amount=100)
    assert first.merchant_order_id != second.merchant_order_id
    assert len(first.merchant_order_id) <= 35
    assert first.merchant_order_id.startswith("PP")
    assert first.merchant_order_id[:14] <= second.merchant_order_id[:14]


def test_calls_when_token_cached_then_one_token_request(settings, gateway, clock) -> None:
    with make(settings, gateway, clock) as client:
        client.create_payment(amount=500, merchant_order_id="o1")
        gateway.complete("o1")
        status = client.get_order_status("o1", details=True)
        refund = client.refund(original_merchant_order_id="o1", amount=200, merchant_refund_id="r1")
        refund_status = client.get_refund_status("r1")
    assert len(gateway.tokens) == 1
    assert status.state == "COMPLETED"
    assert status.amount == 500
    assert status.payment_details[0].payment_mode == "UPI_QR"
    assert status.payment_details[0].raw["someNewField"] == {"x": 1}
    assert status.successful_payment is not None
    assert refund.refund_id == "Rr1"
    assert refund.state == "PENDING"
    assert refund.amount == 200
    assert refund_status.state == "PENDING"
    assert refund_status.original_merchant_order_id == "o1"
    assert gateway.requests[2].url.query == b"details=true"


def test_status_when_unknown_payment_mode_then_kept_as_string(settings, gateway, clock) -> None:
    with make(settings, gateway, clock) as client:
        client.create_payment(amount=500, merchant_order_id="o2")
        gateway.complete("o2", mode="BRAND_NEW_MODE_2031")
        status = client.get_order_status("o2")
    assert status.payment_details[0].payment_mode == "BRAND_NEW_MODE_2031"


def test_token_when_past_refresh_point_then_refetched(settings, gateway, clock) -> None:
    with make(settings, gateway, clock) as client:
        client.create_payment(amount=500, merchant_order_id="o3")
        clock.advance(1700)  # before half-life of the 3600 s token
        client.get_order_status("o3")
        assert len(gateway.tokens) == 1
        clock.advance(200)  # past half-life
        client.get_order_status("o3")
    assert len(gateway.tokens) == 2


def test_call_when_401_then_refreshes_token_once_and_retries(settings, gateway, clock) -> None:
    with make(settings, gateway, clock) as client:
        client.create_payment(amount=500, merchant_order_id="o4")
        gateway.queue("/status", httpx.Response(401, json={"code": "UNAUTHORIZED"}))
        status = client.get_order_status("o4")
    assert status.state == "PENDING"
    assert len(gateway.tokens) == 2
    assert gateway.paths()[-3:] == [
        "/apis/pg-sandbox/checkout/v2/order/o4/status",
        "/apis/pg-sandbox/v1/oauth/token",
        "/apis/pg-sandbox/checkout/v2/order/o4/status",
    ]


def test_call_when_401_twice_then_authentication_error(settings, gateway, clock) -> None:
    with make(settings, gateway, clock) as client:
        gateway.queue("/status", httpx.Response(401, json={"code": "UNAUTHORIZED"}), times=2)
        with pytest.raises(AuthenticationError) as info:
            client.get_order_status("o5")
    assert info.value.http_status == 401
    assert len(gateway.tokens) == 2


def test_token_when_bad_credentials_then_authentication_error_names_fix(gateway, clock) -> None:
    settings = Settings.build(
        env="local", client_secret="wrong-secret-value", base_urls="http://127.0.0.1:9/x"
    )
    with make(settings, gateway, clock) as client, pytest.raises(AuthenticationError) as info:
        client.create_payment(amount=100)
    assert info.value.code == "INVALID_CLIENT"
    assert "PHONEPE_ENV" in str(info.value)
    assert "wrong-secret-value" not in str(info.value) + repr(info.value)


def test_status_when_unknown_order_then_not_found(settings, gateway, clock) -> None:
    with make(settings, gateway, clock) as client, pytest.raises(NotFoundError):
        client.get_order_status("nope")


def test_pay_when_duplicate_without_lost_answer_then_duplicate_error(
    settings, gateway, clock
) -> None:
    with make(settings, gateway, clock) as client:
        client.create_payment(amount=500, merchant_order_id="dup")
        with pytest.raises(DuplicateRequestError) as info:
            client.create_payment(amount=500, merchant_order_id="dup")
    assert info.value.code == "DUPLICATE_ORDER"


def test_pay_when_answer_lost_then_duplicate_resolved_by_status(settings, gateway, clock) -> None:
    def commit_then_drop(request: httpx.Request) -> httpx.Response:
        gateway._route(request)
        raise httpx.ReadTimeout("timed out", request=request)

    events: list[CallEvent] = []
    with make(settings, gateway, clock, on_event=events.append) as client:
        client.get_order_status  # noqa: B018 - no call: the token comes with the pay
        gateway.queue("/checkout/v2/pay", commit_then_drop)
        result = client.create_payment(amount=700, merchant_order_id="lost-1")
    assert result.merchant_order_id == "lost-1"
    assert result.order_id == "OMOlost-1"
    assert result.state == "PENDING"
    assert [e.call for e in events] == [
        "oauth_token",
        "create_payment",
        "create_payment",
        "order_status",
    ]
    assert [e.outcome for e in events] == ["ok", "transport_error", "gateway_error", "ok"]
    assert clock.sleeps
    assert clock.sleeps[0] > 0


def test_pay_when_answer_lost_and_amount_differs_then_duplicate_error(
    settings, gateway, clock
) -> None:
    def other_order(request: httpx.Request) -> httpx.Response:
        gateway.orders["lost-2"] = {"merchantOrderId": "lost-2", "state": "PENDING", "amount": 999}
        raise httpx.ReadTimeout("timed out", request=request)

    with make(settings, gateway, clock) as client:
        gateway.queue("/checkout/v2/pay", other_order)
        with pytest.raises(DuplicateRequestError):
            client.create_payment(amount=700, merchant_order_id="lost-2")


def test_refund_when_answer_lost_then_resolved_by_refund_status(settings, gateway, clock) -> None:
    def commit_then_reset(request: httpx.Request) -> httpx.Response:
        gateway._route(request)
        raise httpx.RemoteProtocolError(
            "Server disconnected without sending a response.", request=request
        )

    with make(settings, gateway, clock) as client:
        gateway.queue("/payments/v2/refund", commit_then_reset)
        result = client.refund(
            original_merchant_order_id="o9", amount=150, merchant_refund_id="rf-9"
        )
    assert result.merchant_refund_id == "rf-9"
    assert result.state == "PENDING"
    assert result.amount == 150


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"amount": 99}, "amount"),
        ({"amount": 100.0}, "amount"),
        ({"amount": True}, "amount"),
        ({"amount": 100, "merchant_order_id": "x" * 64}, "merchant_order_id"),
        ({"amount": 100, "merchant_order_id": "bad id"}, "merchant_order_id"),
        ({"amount": 100, "expire_after": 299}, "expire_after"),
        ({"amount": 100, "expire_after": 3601}, "expire_after"),
        ({"amount": 100, "meta_info": {"udf16": "x"}}, "meta_info"),
        ({"amount": 100, "meta_info": {"udf1": "x" * 257}}, "meta_info"),
        ({"amount": 100, "meta_info": {"udf11": "a#b"}}, "meta_info"),
        ({"amount": 100, "redirect_url": "javascript:alert(1)"}, "redirect_url"),
    ],
)
def test_create_payment_when_invalid_then_validation_error_and_nothing_sent(
    settings, gateway, clock, kwargs, field
) -> None:
    with make(settings, gateway, clock) as client, pytest.raises(ValidationError) as info:
        client.create_payment(**kwargs)
    assert info.value.field == field
    assert gateway.requests == []


def test_status_when_id_has_path_characters_then_validation_error(settings, gateway, clock) -> None:
    with make(settings, gateway, clock) as client, pytest.raises(ValidationError):
        client.get_order_status("../../v1/oauth/token")
    assert gateway.requests == []


def test_refund_when_amount_one_paisa_then_allowed(settings, gateway, clock) -> None:
    with make(settings, gateway, clock) as client:
        assert client.refund(original_merchant_order_id="o", amount=1).amount == 1


def test_refund_when_amount_zero_then_validation_error(settings, gateway, clock) -> None:
    with make(settings, gateway, clock) as client, pytest.raises(ValidationError):
        client.refund(original_merchant_order_id="o", amount=0)


def test_from_env_when_options_given_then_they_win(gateway, clock) -> None:
    env = {"PHONEPE_BASE_URLS": "http://127.0.0.1:1/a", "PHONEPE_MAX_RETRIES": "5"}
    client = PhonePeClient.from_env(env, transport=gateway.transport(), clock=clock, max_retries=0)
    assert client.settings.max_retries == 0
    assert client.settings.base_urls == ("http://127.0.0.1:1/a",)
    client.close()


def test_client_when_options_only_then_settings_built_without_environment(monkeypatch) -> None:
    monkeypatch.setenv("PHONEPE_MAX_RETRIES", "7")
    client = PhonePeClient(max_retries=1)
    assert client.settings.max_retries == 1
    assert "PhonePeClient(env='local'" in repr(client)
    client.close()


def test_transport_error_when_raised_then_carries_category_and_attempts(
    settings, gateway, clock
) -> None:
    gateway.queue("/oauth/token", httpx.ConnectError("[Errno 111] Connection refused"), times=10)
    with make(settings, gateway, clock) as client, pytest.raises(TransportError) as info:
        client.get_order_status("o1")
    err = info.value
    assert err.category == "CONNECTION_REFUSED"
    assert err.request_sent is False
    assert err.attempts == 3
    assert err.endpoint == settings.base_urls[0]
    assert "phonepe sandbox" in err.message


# -- asyncio twin ----------------------------------------------------------------------


@pytest.mark.anyio
async def test_async_client_when_happy_path_then_same_results(settings, gateway, clock) -> None:
    events: list[CallEvent] = []
    async with AsyncPhonePeClient(
        settings, transport=gateway.transport(), clock=clock, on_event=events.append
    ) as client:
        created = await client.create_payment(amount=300, merchant_order_id="a1")
        gateway.complete("a1")
        status = await client.get_order_status("a1", details=True)
        refund = await client.refund(
            original_merchant_order_id="a1", amount=100, merchant_refund_id="ar1"
        )
        refund_status = await client.get_refund_status("ar1")
    assert created.redirect_url == "http://127.0.0.1/checkout/a1"
    assert status.state == "COMPLETED"
    assert refund.refund_id == "Rar1"
    assert refund_status.amount == 100
    assert len(gateway.tokens) == 1
    assert [e.call for e in events] == [
        "oauth_token",
        "create_payment",
        "order_status",
        "refund",
        "refund_status",
    ]
    assert all(e.final and e.outcome == "ok" and e.attempt == 1 for e in events)


@pytest.mark.anyio
async def test_async_client_when_401_then_refreshes_once(settings, gateway, clock) -> None:
    async with AsyncPhonePeClient(settings, transport=gateway.transport(), clock=clock) as client:
        gateway.queue("/status", httpx.Response(401, json={"code": "UNAUTHORIZED"}))
        with pytest.raises(NotFoundError):
            await client.get_order_status("missing")
    assert len(gateway.tokens) == 2


@pytest.mark.anyio
async def test_async_pay_when_answer_lost_then_resolved(settings, gateway, clock) -> None:
    def commit_then_drop(request: httpx.Request) -> httpx.Response:
        gateway._route(request)
        raise httpx.ReadTimeout("timed out", request=request)

    async with AsyncPhonePeClient(settings, transport=gateway.transport(), clock=clock) as client:
        gateway.queue("/checkout/v2/pay", commit_then_drop)
        result = await client.create_payment(amount=700, merchant_order_id="alost")
    assert result.order_id == "OMOalost"


def test_client_when_settings_and_options_then_options_validated_and_applied(settings) -> None:
    client = PhonePeClient(
        settings, base_urls=["http://127.0.0.1:7/a", "http://127.0.0.1:8/b"], max_retries="1"
    )
    assert client.settings.base_urls == ("http://127.0.0.1:7/a", "http://127.0.0.1:8/b")
    assert client.settings.oauth_urls == client.settings.base_urls
    assert client.settings.max_retries == 1
    assert client.settings.client_secret == settings.client_secret
    client.close()
    with pytest.raises(ConfigurationError):
        PhonePeClient(settings, max_retries="many")
