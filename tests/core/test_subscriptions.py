"""UPI AutoPay through both clients over a real loopback socket.

The gateway is :class:`AutoPayGateway` behind :class:`GatewayServer` (a real HTTP/1.1
server on 127.0.0.1), so every call goes through httpx, the transport, the token, the
classification and the parse. Covered: a mandate's whole life (set-up by intent and by
collect, approval, status, notify, redeem, order and transaction status, refund of a
debit, cancel), the requests on the wire, refusals before sending, generation 1,
lost answers recovered through the status calls, failover, and lenient parsing.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from phonepe_gateway import (
    AmountType,
    AsyncPhonePeClient,
    AuthWorkflow,
    ConfigurationError,
    DuplicateRequestError,
    Frequency,
    NotFoundError,
    PhonePeClient,
    RedemptionNotice,
    RedemptionResult,
    Settings,
    SubscriptionSetup,
    SubscriptionState,
    SubscriptionStatus,
    UpiCollect,
    UpiIntent,
    UpiQr,
    ValidationError,
    check_subscription_terms,
)
from phonepe_gateway._clock import FakeClock

from .autopay_fake import AutoPayGateway
from .fakes import CLIENT_ID, CLIENT_SECRET
from .servers import GatewayServer, refused_port

NOW = 1_750_000_000.0


@pytest.fixture
def autopay(clock: FakeClock) -> AutoPayGateway:
    return AutoPayGateway(now=clock.time)


@pytest.fixture
def server(autopay: AutoPayGateway) -> Iterator[GatewayServer]:
    with GatewayServer(autopay) as running:
        yield running


def settings_for(*urls: str, **kw: Any) -> Settings:
    options: dict[str, Any] = {
        "env": "local",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "base_urls": ",".join(urls),
        "connect_timeout": 0.5,
        "read_timeout": 2,
        "timeout": 10,
    }
    options.update(kw)
    return Settings.build(**options)


@pytest.fixture
def client(server: GatewayServer, clock: FakeClock) -> Iterator[PhonePeClient]:
    with PhonePeClient(settings_for(server.url), clock=clock) as c:
        yield c


def _sent(autopay: AutoPayGateway, fragment: str) -> list[httpx.Request]:
    return [r for r in autopay.requests if fragment in r.url.path]


def _body(request: httpx.Request) -> dict[str, Any]:
    import json

    data = json.loads(request.content)
    assert isinstance(data, dict)
    return data


def _lose_answer(autopay: AutoPayGateway) -> Any:
    """A fault: PhonePe acts on the request, then the connection drops before the answer."""

    def act_then_drop(request: httpx.Request) -> httpx.Response:
        autopay._route(request)
        raise httpx.RemoteProtocolError("connection dropped after the gateway acted")

    return act_then_drop


# -- a mandate's life ---------------------------------------------------------------------


def test_mandate_when_set_up_by_intent_approved_debited_refunded_cancelled_then_each_step_typed(
    client: PhonePeClient, autopay: AutoPayGateway, clock: FakeClock
) -> None:
    expiry = datetime.fromtimestamp(NOW, tz=UTC) + timedelta(days=366)
    setup = client.setup_subscription(
        amount=49_900,
        max_amount=49_900,
        instrument=UpiIntent(target_app="com.phonepe.app"),
        frequency=Frequency.MONTHLY,
        amount_type=AmountType.FIXED,
        merchant_order_id="SETUP-1",
        merchant_subscription_id="MS-1",
        expire_after=600,
        subscription_expire_at=expiry,
        meta_info={"udf1": "car KA01AB1234"},
    )
    assert isinstance(setup, SubscriptionSetup)
    assert (setup.merchant_order_id, setup.merchant_subscription_id) == ("SETUP-1", "MS-1")
    assert (setup.order_id, setup.state) == ("OMOSETUP-1", "PENDING")
    assert setup.intent_url is not None
    assert setup.intent_url.startswith("upi://mandate?")

    (sent,) = _sent(autopay, "/subscriptions/v2/setup")
    assert sent.method == "POST"
    assert sent.url.path == "/apis/pg-sandbox/subscriptions/v2/setup"
    assert sent.headers["authorization"].startswith("O-Bearer ")
    assert _body(sent) == {
        "merchantOrderId": "SETUP-1",
        "amount": 49_900,
        "expireAt": int((clock.time() + 600) * 1000),
        "metaInfo": {"udf1": "car KA01AB1234"},
        "paymentFlow": {
            "type": "SUBSCRIPTION_SETUP",
            "merchantSubscriptionId": "MS-1",
            "authWorkflowType": "TRANSACTION",
            "amountType": "FIXED",
            "maxAmount": 49_900,
            "frequency": "MONTHLY",
            "expireAt": int(expiry.timestamp() * 1000),
            "paymentMode": {"type": "UPI_INTENT", "targetApp": "com.phonepe.app"},
        },
        "deviceContext": {"deviceOS": "ANDROID"},
    }

    assert client.get_subscription_status("MS-1").state == SubscriptionState.PENDING
    autopay.approve("MS-1")
    status = client.get_subscription_status("MS-1")
    assert isinstance(status, SubscriptionStatus)
    assert status.is_active
    assert not status.is_final
    assert (status.subscription_id, status.frequency, status.amount_type) == (
        "OMSMS-1",
        "MONTHLY",
        "FIXED",
    )
    assert (status.max_amount, status.auth_workflow) == (49_900, "TRANSACTION")
    assert status.expire_at == datetime.fromtimestamp(int(expiry.timestamp()), tz=UTC)
    setup_order = client.get_subscription_order_status("SETUP-1")
    assert setup_order.state == "COMPLETED"
    assert setup_order.amount == 49_900

    notice = client.notify_redemption(
        merchant_subscription_id="MS-1", amount=49_900, merchant_order_id="DEBIT-2026-12"
    )
    assert isinstance(notice, RedemptionNotice)
    assert (notice.merchant_order_id, notice.order_id, notice.state) == (
        "DEBIT-2026-12",
        "OMODEBIT-2026-12",
        "PENDING",
    )
    (sent,) = _sent(autopay, "/subscriptions/v2/notify")
    assert _body(sent) == {
        "merchantOrderId": "DEBIT-2026-12",
        "amount": 49_900,
        "paymentFlow": {
            "type": "SUBSCRIPTION_REDEMPTION",
            "merchantSubscriptionId": "MS-1",
            "redemptionRetryStrategy": "STANDARD",
            "autoDebit": False,
        },
    }

    debit = client.redeem("DEBIT-2026-12")
    assert isinstance(debit, RedemptionResult)
    assert (debit.merchant_order_id, debit.transaction_id, debit.state) == (
        "DEBIT-2026-12",
        "OMDEBIT-2026-12",
        "PENDING",
    )
    (sent,) = _sent(autopay, "/subscriptions/v2/redeem")
    assert _body(sent) == {"merchantOrderId": "DEBIT-2026-12"}

    autopay.settle("DEBIT-2026-12")
    order = client.get_subscription_order_status("DEBIT-2026-12", details=True)
    assert order.state == "COMPLETED"
    assert order.successful_payment is not None
    assert _sent(autopay, "/order/DEBIT-2026-12/status")[-1].url.query == b"details=true"
    by_transaction = client.get_subscription_transaction_status("OMDEBIT-2026-12")
    assert by_transaction.merchant_order_id == "DEBIT-2026-12"
    assert by_transaction.is_final

    # A debit is refunded like any order (PhonePe's SubscriptionClient uses /payments/v2/refund).
    refund = client.refund(
        original_merchant_order_id="DEBIT-2026-12", amount=10_000, merchant_refund_id="RF-1"
    )
    assert refund.state == "PENDING"
    assert refund.amount == 10_000
    (sent,) = _sent(autopay, "/payments/v2/refund")
    assert _body(sent)["originalMerchantOrderId"] == "DEBIT-2026-12"

    assert client.cancel_subscription("MS-1") is None
    (sent,) = _sent(autopay, "/cancel")
    assert sent.method == "POST"
    assert sent.url.path.endswith("/subscriptions/v2/MS-1/cancel")
    assert client.get_subscription_status("MS-1").state == SubscriptionState.CANCELLED


@pytest.mark.anyio
async def test_async_mandate_when_set_up_by_collect_then_same_calls_awaitable(
    server: GatewayServer, autopay: AutoPayGateway, clock: FakeClock
) -> None:
    async with AsyncPhonePeClient(settings_for(server.url), clock=clock) as client:
        setup = await client.setup_subscription(
            amount=200,
            max_amount=150_000,
            instrument=UpiCollect(vpa="driver@ybl", message="Monthly pass"),
            frequency=Frequency.ON_DEMAND,
            auth_workflow=AuthWorkflow.PENNY_DROP,
        )
        assert setup.intent_url is None
        assert setup.state == "PENDING"
        assert setup.merchant_order_id.startswith("PS")
        assert setup.merchant_subscription_id.startswith("MS")
        body = _body(_sent(autopay, "/setup")[0])
        assert "deviceContext" not in body
        assert "expireAt" not in body
        assert body["paymentFlow"]["paymentMode"] == {
            "type": "UPI_COLLECT",
            "details": {"type": "VPA", "vpa": "driver@ybl"},
            "message": "Monthly pass",
        }
        assert body["paymentFlow"]["amountType"] == "VARIABLE"
        autopay.approve(setup.merchant_subscription_id)
        status = await client.get_subscription_status(setup.merchant_subscription_id)
        assert status.state == "ACTIVE"
        notice = await client.notify_redemption(
            merchant_subscription_id=setup.merchant_subscription_id,
            amount=123_45,
            expire_after=24 * 3600,
            auto_debit=True,
        )
        assert notice.merchant_order_id.startswith("PN")
        assert notice.valid_after is None  # PhonePe's notify answer has no paymentFlow
        sent = _body(_sent(autopay, "/notify")[0])
        assert sent["paymentFlow"]["autoDebit"] is True
        assert sent["expireAt"] == int((clock.time() + 24 * 3600) * 1000)
        debit = await client.redeem(notice.merchant_order_id)
        assert debit.state == "PENDING"
        order = await client.get_subscription_order_status(notice.merchant_order_id)
        assert order.amount == 123_45
        assert debit.transaction_id is not None
        txn = await client.get_subscription_transaction_status(debit.transaction_id)
        assert txn.order_id == notice.order_id
        assert await client.cancel_subscription(setup.merchant_subscription_id) is None
        status = await client.get_subscription_status(setup.merchant_subscription_id)
        assert status.is_final


def test_status_when_details_asked_then_query_sent_and_unknown_mandate_is_not_found(
    client: PhonePeClient, autopay: AutoPayGateway
) -> None:
    with pytest.raises(NotFoundError):
        client.get_subscription_status("NOPE", details=True)
    assert _sent(autopay, "/NOPE/status")[0].url.query == b"details=true"
    with pytest.raises(NotFoundError):
        client.get_subscription_order_status("NOPE")


def test_notify_when_mandate_not_active_then_gateway_refusal_is_an_error_not_a_result(
    client: PhonePeClient, autopay: AutoPayGateway
) -> None:
    client.setup_subscription(
        amount=100, max_amount=100, instrument=UpiIntent(), frequency="MONTHLY",
        merchant_subscription_id="MS-P",
    )  # fmt: skip
    from phonepe_gateway import GatewayError

    with pytest.raises(GatewayError) as info:
        client.notify_redemption(merchant_subscription_id="MS-P", amount=100)
    assert info.value.http_status == 400
    assert not info.value.details.get("after_maybe_sent")


# -- refused before sending -----------------------------------------------------------------

FUTURE = datetime.fromtimestamp(NOW, tz=UTC) + timedelta(days=400)

REFUSED: list[tuple[dict[str, Any], str]] = [
    ({"frequency": "HOURLY"}, "frequency"),
    ({"amount_type": "CAPPED"}, "amount_type"),
    ({"auth_workflow": "OTP"}, "auth_workflow"),
    ({"amount": 99}, "amount"),
    ({"amount": 100.0}, "amount"),
    ({"max_amount": 10_000_001}, "max_amount"),
    ({"amount": 60_000, "max_amount": 50_000}, "amount"),
    ({"amount_type": "FIXED", "amount": 10_000, "max_amount": 50_000}, "amount"),
    ({"auth_workflow": "PENNY_DROP", "amount": 100}, "amount"),
    ({"subscription_expire_at": datetime(2030, 1, 1)}, "subscription_expire_at"),
    (
        {"subscription_expire_at": datetime.fromtimestamp(NOW - 1, tz=UTC)},
        "subscription_expire_at",
    ),
    (
        {"subscription_expire_at": datetime.fromtimestamp(NOW, tz=UTC) + timedelta(days=40 * 365)},
        "subscription_expire_at",
    ),
    (
        {
            "frequency": "YEARLY",
            "subscription_expire_at": datetime.fromtimestamp(NOW, tz=UTC) + timedelta(days=100),
        },
        "subscription_expire_at",
    ),
    ({"instrument": UpiQr()}, "instrument"),
    ({"instrument": UpiCollect(phone="9876543210")}, "instrument"),
    ({"expire_after": 30}, "expire_after"),
    ({"merchant_subscription_id": "bad id!"}, "merchant_subscription_id"),
    ({"merchant_order_id": "x" * 64}, "merchant_order_id"),
    ({"meta_info": {"udf99": "x"}}, "meta_info"),
]


@pytest.mark.parametrize(("change", "field"), REFUSED)
def test_setup_when_phonepe_would_refuse_then_validation_error_and_nothing_sent(
    client: PhonePeClient, autopay: AutoPayGateway, change: dict[str, Any], field: str
) -> None:
    args: dict[str, Any] = {
        "amount": 10_000,
        "max_amount": 50_000,
        "instrument": UpiIntent(),
        "frequency": "MONTHLY",
        "subscription_expire_at": FUTURE,
        **change,
    }
    with pytest.raises(ValidationError) as info:
        client.setup_subscription(**args)
    assert info.value.field == field
    assert autopay.requests == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": 50}, "amount"),
        ({"amount": 10_000_001}, "amount"),
        ({"expire_after": 49 * 3600}, "expire_after"),
        ({"auto_debit": "yes"}, "auto_debit"),
        ({"retry_strategy": "AGGRESSIVE"}, "retry_strategy"),
        ({"merchant_subscription_id": ""}, "merchant_subscription_id"),
    ],
)
def test_notify_when_phonepe_would_refuse_then_validation_error_and_nothing_sent(
    client: PhonePeClient, autopay: AutoPayGateway, change: dict[str, Any], field: str
) -> None:
    args: dict[str, Any] = {"merchant_subscription_id": "MS-1", "amount": 100, **change}
    with pytest.raises(ValidationError) as info:
        client.notify_redemption(**args)
    assert info.value.field == field
    assert autopay.requests == []


def test_ids_when_invalid_then_refused_for_every_keyed_call(
    client: PhonePeClient, autopay: AutoPayGateway
) -> None:
    for call in (
        lambda: client.redeem("a/b"),
        lambda: client.cancel_subscription("../x"),
        lambda: client.get_subscription_status(""),
        lambda: client.get_subscription_order_status("a b"),
        lambda: client.get_subscription_transaction_status("?x"),
    ):
        with pytest.raises(ValidationError):
            call()
    assert autopay.requests == []


def test_terms_when_valid_combinations_then_accepted() -> None:
    for frequency in sorted(Frequency.ALL):
        for amount_type in sorted(AmountType.ALL):
            terms = check_subscription_terms(
                amount=200, max_amount=200, frequency=frequency, amount_type=amount_type,
                auth_workflow="PENNY_DROP", now=NOW,
            )  # fmt: skip
            assert (terms.frequency, terms.amount_type) == (frequency, amount_type)
    lower = check_subscription_terms(
        amount=100, max_amount=15_000_00, frequency="weekly", amount_type="variable", now=NOW
    )
    assert (lower.frequency, lower.amount_type, lower.expire_at_ms) == ("WEEKLY", "VARIABLE", None)


def test_generation_1_client_when_subscription_called_then_configuration_error(
    v1_settings: Settings,
) -> None:
    with PhonePeClient(v1_settings) as client:
        with pytest.raises(ConfigurationError, match="setup_subscription"):
            client.setup_subscription(
                amount=100, max_amount=100, instrument=UpiIntent(), frequency="MONTHLY"
            )
        with pytest.raises(ConfigurationError, match="redeem"):
            client.redeem("X1")


# -- lost answers ---------------------------------------------------------------------------


def test_setup_when_answer_lost_then_resend_refused_then_recovered_through_order_status(
    client: PhonePeClient, autopay: AutoPayGateway
) -> None:
    autopay.queue("/subscriptions/v2/setup", _lose_answer(autopay))
    setup = client.setup_subscription(
        amount=100, max_amount=100, instrument=UpiIntent(), frequency="MONTHLY",
        merchant_order_id="S-LOST", merchant_subscription_id="MS-LOST",
    )  # fmt: skip
    assert (setup.order_id, setup.state, setup.intent_url) == ("OMOS-LOST", "PENDING", None)
    assert len(_sent(autopay, "/setup")) == 2  # the same ids sent again, then confirmed
    assert _sent(autopay, "/order/S-LOST/status")
    assert len(autopay.subscriptions) == 1


def test_setup_when_answer_lost_and_id_holds_another_order_then_duplicate_not_adopted(
    client: PhonePeClient, autopay: AutoPayGateway
) -> None:
    client.setup_subscription(
        amount=500, max_amount=500, instrument=UpiIntent(), frequency="MONTHLY",
        merchant_order_id="S-TAKEN", merchant_subscription_id="MS-A",
    )  # fmt: skip
    autopay.queue("/subscriptions/v2/setup", httpx.RemoteProtocolError("dropped"))
    with pytest.raises(DuplicateRequestError):
        client.setup_subscription(
            amount=100, max_amount=100, instrument=UpiIntent(), frequency="MONTHLY",
            merchant_order_id="S-TAKEN", merchant_subscription_id="MS-B",
        )  # fmt: skip


@pytest.mark.anyio
async def test_async_notify_and_redeem_when_answers_lost_then_recovered_never_doubled(
    server: GatewayServer, autopay: AutoPayGateway, clock: FakeClock
) -> None:
    async with AsyncPhonePeClient(settings_for(server.url), clock=clock) as client:
        await client.setup_subscription(
            amount=100, max_amount=5_000, instrument=UpiIntent(), frequency="MONTHLY",
            merchant_subscription_id="MS-N",
        )  # fmt: skip
        autopay.approve("MS-N")
        autopay.queue("/subscriptions/v2/notify", _lose_answer(autopay))
        notice = await client.notify_redemption(
            merchant_subscription_id="MS-N", amount=4_000, merchant_order_id="D-N"
        )
        assert (notice.order_id, notice.state) == ("OMOD-N", "PENDING")
        assert notice.valid_after is not None
        assert notice.valid_until is not None
        autopay.queue("/subscriptions/v2/redeem", _lose_answer(autopay))
        debit = await client.redeem("D-N")
        assert (debit.transaction_id, debit.state) == ("OMD-N", "PENDING")
    assert len(autopay.orders["D-N"]["paymentDetails"]) == 1


def test_redeem_when_refused_and_order_has_no_attempt_then_not_adopted(
    client: PhonePeClient, autopay: AutoPayGateway
) -> None:
    client.setup_subscription(
        amount=100, max_amount=5_000, instrument=UpiIntent(), frequency="MONTHLY",
        merchant_subscription_id="MS-R",
    )  # fmt: skip
    autopay.approve("MS-R")
    client.notify_redemption(merchant_subscription_id="MS-R", amount=100, merchant_order_id="D-R")
    # The first redeem never reached PhonePe's books (dropped before acting); the resend is
    # refused for another reason: the status shows no debit, so nothing is adopted.
    autopay.queue("/subscriptions/v2/redeem", httpx.RemoteProtocolError("dropped"))
    autopay.queue("/subscriptions/v2/redeem", httpx.Response(400, json={"code": "BAD_REQUEST"}))
    with pytest.raises(DuplicateRequestError):
        client.redeem("D-R")
    assert autopay.orders["D-R"]["paymentDetails"] == []


def test_cancel_when_answer_lost_then_confirmed_by_subscription_status(
    client: PhonePeClient, autopay: AutoPayGateway
) -> None:
    client.setup_subscription(
        amount=100, max_amount=100, instrument=UpiIntent(), frequency="MONTHLY",
        merchant_subscription_id="MS-C",
    )  # fmt: skip
    autopay.approve("MS-C")
    autopay.queue("/cancel", _lose_answer(autopay))
    assert client.cancel_subscription("MS-C") is None
    assert autopay.subscriptions["MS-C"]["state"] == "CANCELLED"
    assert _sent(autopay, "/MS-C/status")


def test_calls_when_first_endpoint_refuses_connections_then_fail_over(
    autopay: AutoPayGateway, server: GatewayServer, clock: FakeClock
) -> None:
    dead = f"http://127.0.0.1:{refused_port()}/apis/pg-sandbox"
    with PhonePeClient(settings_for(dead, server.url, oauth=server.url), clock=clock) as client:
        setup = client.setup_subscription(
            amount=100, max_amount=100, instrument=UpiIntent(), frequency="DAILY"
        )
        assert client.get_subscription_status(setup.merchant_subscription_id).state == "PENDING"


# -- lenient parsing ------------------------------------------------------------------------


def test_status_when_gateway_sends_odd_values_then_parsed_leniently_raw_kept(
    client: PhonePeClient, autopay: AutoPayGateway
) -> None:
    autopay.queue(
        "/MS-ODD/status",
        httpx.Response(
            200,
            json={
                "merchantSubscriptionId": "MS-ODD",
                "state": "suspended_by_bank",
                "maxAmount": "15000",
                "frequency": {"weird": True},
                "expireAt": "not a time",
                "pauseStartDate": 1_708_798_426_196,
                "brandNewField": [1, 2],
            },
        ),
    )
    status = client.get_subscription_status("MS-ODD")
    assert status.state == "SUSPENDED_BY_BANK"
    assert not status.is_active
    assert status.max_amount == 15_000
    assert status.frequency is None
    assert status.expire_at is None
    assert status.pause_start is not None
    assert status.raw["brandNewField"] == [1, 2]


def test_answers_when_minimal_as_in_phonepe_sdk_tests_then_parsed(
    client: PhonePeClient, autopay: AutoPayGateway
) -> None:
    # The bodies PhonePe's own SDK tests serve (phonepe-pg-sdk-python, tests/test_subscription_*).
    autopay.queue("/setup", httpx.Response(200, json={"orderId": "OMO12344", "state": "PENDING"}))
    autopay.queue("/notify", httpx.Response(200, json={"orderId": "OMOxxx", "state": "PENDING"}))
    autopay.queue("/redeem", httpx.Response(200, json={"transactionId": "OMOxxx", "state": "PENDING"}))  # fmt: skip
    setup = client.setup_subscription(
        amount=100, max_amount=100, instrument=UpiCollect(vpa="ab@ybl"), frequency="ON_DEMAND",
        amount_type="FIXED",
    )  # fmt: skip
    assert setup.order_id == "OMO12344"
    assert setup.expire_at is None
    notice = client.notify_redemption(merchant_subscription_id="M", amount=100)
    assert notice.order_id == "OMOxxx"
    assert client.redeem("merchantOrderId").transaction_id == "OMOxxx"


def test_cancel_when_200_with_a_body_then_also_fine(
    client: PhonePeClient, autopay: AutoPayGateway
) -> None:
    autopay.queue("/cancel", httpx.Response(200, json={"success": True}))
    assert client.cancel_subscription("MS-ANY") is None


# -- webhooks -------------------------------------------------------------------------------


def _corpus_hooks() -> list[Any]:
    from tests.contract.corpus import load_samples

    return [
        s
        for s in load_samples()
        if s.webhook and s.webhook["body"]["event"].startswith("subscription.")
    ]


@pytest.mark.parametrize("sample", _corpus_hooks(), ids=lambda s: s.id)
def test_subscription_webhook_when_published_body_then_verified_with_mandate_ids(
    sample: Any,
) -> None:
    from phonepe_gateway._webhooks import authorization_for

    settings = settings_for(
        "http://127.0.0.1:9/apis/pg-sandbox",
        webhook_username="username",
        webhook_password="password",
    )
    with PhonePeClient(settings) as client:
        event = client.verify_webhook(
            {"Authorization": authorization_for("username", "password")}, sample.webhook_bytes()
        )
    payload = sample.webhook["body"]["payload"]
    flow = payload.get("paymentFlow") or {}
    assert event.is_subscription
    assert event.merchant_subscription_id == (
        payload.get("merchantSubscriptionId") or flow.get("merchantSubscriptionId")
    )
    assert event.merchant_subscription_id is not None
    assert event.subscription_id == (payload.get("subscriptionId") or flow.get("subscriptionId"))
    assert not event.is_refund


def test_subscription_webhook_when_odd_ids_then_lenient_and_others_unchanged() -> None:
    import json

    from phonepe_gateway._webhooks import authorization_for

    settings = settings_for(
        "http://127.0.0.1:9/apis/pg-sandbox", webhook_username="u", webhook_password="p"
    )
    header = {"Authorization": authorization_for("u", "p")}
    odd = {
        "event": "subscription.revoked",
        "payload": {"merchantSubscriptionId": None, "paymentFlow": {"merchantSubscriptionId": 42}},
    }
    with PhonePeClient(settings) as client:
        event = client.verify_webhook(header, json.dumps(odd).encode())
        assert event.merchant_subscription_id == "42"
        assert event.subscription_id is None
        order = {
            "event": "checkout.order.completed",
            "payload": {"merchantOrderId": "O1", "state": "COMPLETED"},
        }
        plain = client.verify_webhook(header, json.dumps(order).encode())
    assert plain.merchant_subscription_id is None
    assert not plain.is_subscription
