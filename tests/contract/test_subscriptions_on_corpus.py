"""The real client on PhonePe's published UPI AutoPay answers, over a loopback socket.

Like ``test_client_on_corpus.py`` (whose server and settings this reuses), for the
``subscription_*`` samples: each is served byte for byte to ``PhonePeClient`` and
``AsyncPhonePeClient``, and ``EXPECT`` says what the merchant gets: the typed result
and its state, or the exception and whether PhonePe may have acted. A sample without
an entry fails; a body published without its status is served under each plausible one.
"""

from __future__ import annotations

from typing import Any

import pytest

from phonepe_gateway import (
    AsyncPhonePeClient,
    GatewayError,
    OrderStatus,
    PhonePeClient,
    PhonePeError,
    RedemptionNotice,
    RedemptionResult,
    SubscriptionSetup,
    SubscriptionStatus,
    UpiIntent,
)

from .corpus import Sample
from .test_client_on_corpus import (
    SAMPLES,
    TOKEN_SAMPLE,
    CorpusServer,
    Ok,
    Raises,
    answer_of,
    gateway_may_have_acted,
    settings_for,
)

ORDER_ID, SUBSCRIPTION_ID = "CORPUS-SUB-ORDER", "CORPUS-SUB"
REFUSED = Raises(GatewayError, acted=False, code="Bad Request")

EXPECT: dict[str, Ok | Raises | dict[int, Ok | Raises]] = {
    "v2-subscription-setup-intent-pending": Ok("PENDING"),
    "v2-subscription-setup-collect-pending": Ok("PENDING"),
    "v2-subscription-setup-400-bad-request": REFUSED,
    "v2-subscription-notify-pending": Ok("PENDING"),
    "v2-subscription-notify-400-bad-request": REFUSED,
    "v2-subscription-redeem-pending": Ok("PENDING"),
    "v2-subscription-redeem-pending-docs": {200: Ok("PENDING")},
    "v2-subscription-redeem-400-bad-request": REFUSED,
    "v2-subscription-status-active-minimal": Ok("ACTIVE"),
    "v2-subscription-status-active-docs": {200: Ok("ACTIVE")},
    "v2-subscription-cancel-200-empty": Ok(None),
    "v2-subscription-order-status-setup-pending-enach-docs": {200: Ok("PENDING")},
}

AUTOPAY = [s for s in SAMPLES.values() if s.api.startswith("subscription_")]


def cases() -> list[Any]:
    out = []
    for sample in AUTOPAY:
        expected = EXPECT.get(sample.id)
        if isinstance(expected, dict):
            out += [
                pytest.param(sample, status, each, id=f"{sample.id}@{status}")
                for status, each in sorted(expected.items())
            ]
        else:
            out.append(pytest.param(sample, sample.status, expected, id=sample.id))
    return out


def test_every_autopay_sample_has_an_expectation() -> None:
    assert sorted(s.id for s in AUTOPAY) == sorted(EXPECT)
    for sample in AUTOPAY:
        assert sample.response is not None
        published = bool(sample.response["status_published"])
        assert isinstance(EXPECT[sample.id], dict) == (not published), sample.id


def call_sync(client: PhonePeClient, sample: Sample) -> Any:
    api = sample.api
    if api == "subscription_setup":
        return client.setup_subscription(
            amount=100, max_amount=100, instrument=UpiIntent(), frequency="ON_DEMAND",
            amount_type="FIXED", merchant_order_id=ORDER_ID,
            merchant_subscription_id=SUBSCRIPTION_ID,
        )  # fmt: skip
    if api == "subscription_notify":
        return client.notify_redemption(
            merchant_subscription_id=SUBSCRIPTION_ID, amount=100, merchant_order_id=ORDER_ID
        )
    if api == "subscription_redeem":
        return client.redeem(ORDER_ID)
    if api == "subscription_status":
        return client.get_subscription_status(SUBSCRIPTION_ID, details=True)
    if api == "subscription_cancel":
        return client.cancel_subscription(SUBSCRIPTION_ID)
    return client.get_subscription_order_status(ORDER_ID, details=True)


async def call_async(client: AsyncPhonePeClient, sample: Sample) -> Any:
    api = sample.api
    if api == "subscription_setup":
        return await client.setup_subscription(
            amount=100, max_amount=100, instrument=UpiIntent(), frequency="ON_DEMAND",
            amount_type="FIXED", merchant_order_id=ORDER_ID,
            merchant_subscription_id=SUBSCRIPTION_ID,
        )  # fmt: skip
    if api == "subscription_notify":
        return await client.notify_redemption(
            merchant_subscription_id=SUBSCRIPTION_ID, amount=100, merchant_order_id=ORDER_ID
        )
    if api == "subscription_redeem":
        return await client.redeem(ORDER_ID)
    if api == "subscription_status":
        return await client.get_subscription_status(SUBSCRIPTION_ID, details=True)
    if api == "subscription_cancel":
        return await client.cancel_subscription(SUBSCRIPTION_ID)
    return await client.get_subscription_order_status(ORDER_ID, details=True)


def check_result(sample: Sample, expected: Ok, result: Any) -> None:
    body: dict[str, Any] = sample.body or {}
    api = sample.api
    if api == "subscription_cancel":
        assert result is None
        return
    assert result.raw == body, "the result must keep everything PhonePe said"
    assert result.state == expected.state
    if api == "subscription_setup":
        assert isinstance(result, SubscriptionSetup)
        assert (result.merchant_order_id, result.merchant_subscription_id) == (
            ORDER_ID,
            SUBSCRIPTION_ID,
        )
        assert result.order_id == body["orderId"]
        assert result.intent_url == body.get("intentUrl")
    elif api == "subscription_notify":
        assert isinstance(result, RedemptionNotice)
        assert result.order_id == body["orderId"]
        assert result.merchant_order_id == ORDER_ID
    elif api == "subscription_redeem":
        assert isinstance(result, RedemptionResult)
        assert result.transaction_id == body["transactionId"]
    elif api == "subscription_status":
        assert isinstance(result, SubscriptionStatus)
        assert result.merchant_subscription_id == body["merchantSubscriptionId"]
        assert result.subscription_id == body.get("subscriptionId")
        assert result.frequency == body.get("frequency")
        assert result.auth_workflow == body.get("authWorkflowType")
        assert result.amount_type == body.get("amountType")
        assert result.max_amount == body.get("maxAmount")
        assert (result.expire_at is None) == (body.get("expireAt") is None)
        assert result.pause_start is None
    else:
        assert isinstance(result, OrderStatus)
        assert result.order_id == body["orderId"]
        assert result.amount == body["amount"]
        assert result.payment_details == []
        assert result.raw["paymentFlow"]["merchantSubscriptionId"] == "MS1774243061089"


def check_error(expected: Raises, error: PhonePeError, status: int) -> None:
    assert type(error) is expected.error, repr(error)
    assert gateway_may_have_acted(error) is expected.acted, repr(error)
    assert isinstance(error, GatewayError)
    assert error.http_status == status
    assert error.code == expected.code


@pytest.fixture(scope="module")
def server() -> Any:
    idle = answer_of(TOKEN_SAMPLE, 200)
    with CorpusServer(idle, idle) as running:
        yield running


def _serve(server: CorpusServer, sample: Sample, status: int) -> None:
    server.requests.clear()
    server.token, server.answer = answer_of(TOKEN_SAMPLE, 200), answer_of(sample, status)


def _check_path(server: CorpusServer, sample: Sample) -> None:
    assert sample.request is not None
    sent = [r for r in server.requests if not r[1].endswith("/v1/oauth/token")]
    assert sent, "the call was not sent"
    method, path, _headers = sent[0]
    expected = sample.request["path"].replace("{merchantSubscriptionId}", SUBSCRIPTION_ID)
    expected = expected.replace("{merchantOrderId}", ORDER_ID)
    assert method == sample.request["method"]
    assert path.split("?")[0].endswith(expected), (path, expected)


@pytest.mark.parametrize(("sample", "status", "expected"), cases())
def test_sync_client_on_published_autopay_answer(
    server: CorpusServer, sample: Sample, status: int, expected: Ok | Raises
) -> None:
    _serve(server, sample, status)
    with PhonePeClient(settings_for(sample, server.url)) as client:
        if isinstance(expected, Ok):
            check_result(sample, expected, call_sync(client, sample))
        else:
            with pytest.raises(PhonePeError) as caught:
                call_sync(client, sample)
            check_error(expected, caught.value, status)
    _check_path(server, sample)


@pytest.mark.anyio
@pytest.mark.parametrize(("sample", "status", "expected"), cases())
async def test_async_client_on_published_autopay_answer(
    server: CorpusServer, sample: Sample, status: int, expected: Ok | Raises
) -> None:
    _serve(server, sample, status)
    async with AsyncPhonePeClient(settings_for(sample, server.url)) as client:
        if isinstance(expected, Ok):
            check_result(sample, expected, await call_async(client, sample))
        else:
            with pytest.raises(PhonePeError) as caught:
                await call_async(client, sample)
            check_error(expected, caught.value, status)
    _check_path(server, sample)
