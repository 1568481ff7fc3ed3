"""The call core (`_calls.CallCore.run`) driven by hand: no driver, no socket, no event loop.

Both clients run every call through this one generator, so what is pinned here holds
for the sync and the async client alike (their drivers only perform the steps; the
client tests and test_maybe_sent_writes prove each driver over a real path). The last
two tests declare a call the package does not have and run it through both clients:
the declaration is all a new call needs for its token, retries and lost-answer
recovery (docs/ARCHITECTURE.md, "Adding a PhonePe call").
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from phonepe_gateway import (
    AsyncPhonePeClient,
    AuthenticationError,
    ConfigurationError,
    CreatePaymentResult,
    DuplicateRequestError,
    NotFoundError,
    PhonePeClient,
    Settings,
    TransportError,
)
from phonepe_gateway._auth import Token, TokenProvider
from phonepe_gateway._calls import Authorize, CallCore
from phonepe_gateway._clock import FakeClock
from phonepe_gateway._protocol import Confirm, Prepared, V2Protocol
from phonepe_gateway._transport import CallSpec, Send, Sleep, TransportCore

from .fakes import FakeGateway

BASE = "http://127.0.0.1:9/apis/pg-sandbox"


def make_core() -> tuple[CallCore, V2Protocol]:
    clock = FakeClock()
    settings = Settings.build(env="local", base_urls=BASE, timeout=5, read_timeout=1)
    protocol = V2Protocol(settings)
    return CallCore(TransportCore(settings, clock), TokenProvider(clock), protocol.token), protocol


def authorize(step: Authorize, *values: str) -> Token:
    """What the drivers do: ask the step's provider, which fetches only when it must."""
    fetched = iter(values)
    return step.tokens.get(lambda: {"access_token": next(fetched), "expires_in": 600})


def drive(steps: Any, answer: Any) -> tuple[list[str], Any]:
    """Run ``steps`` to the end, answering each step with ``answer(step)``; returns a
    log of the steps (``authorize``, ``sleep``, ``METHOD path``) and the result.
    An exception returned by ``answer`` for an Authorize step is thrown in, as the
    drivers do; for a Send step it is the reply, as the transport core expects."""
    log: list[str] = []
    reply: Any = None
    failure: BaseException | None = None
    while True:
        try:
            step = steps.send(reply) if failure is None else steps.throw(failure)
        except StopIteration as stop:
            return log, stop.value
        reply, failure = None, None
        if isinstance(step, Authorize):
            log.append("authorize")
            outcome = answer(step)
            if isinstance(outcome, BaseException):
                failure = outcome
            else:
                reply = outcome
        elif isinstance(step, Sleep):
            log.append("sleep")
        else:
            assert isinstance(step, Send)
            log.append(
                f"{step.request.method} {step.request.url.path.removeprefix('/apis/pg-sandbox')}"
            )
            reply = answer(step)


def respond(status: int, body: dict[str, Any]) -> httpx.Response:
    return httpx.Response(status, json=body)


def test_call_when_401_then_token_invalidated_refetched_and_call_resent_once() -> None:
    core, protocol = make_core()
    tokens = iter(["first-token-0001", "second-token-002"])
    sent_with: list[str] = []

    def answer(step: Any) -> Any:
        if isinstance(step, Authorize):
            return authorize(step, next(tokens))
        sent_with.append(step.request.headers["authorization"])
        if len(sent_with) == 1:
            return respond(401, {"code": "UNAUTHORIZED"})
        return respond(200, {"merchantOrderId": "o1", "state": "COMPLETED", "amount": 100})

    log, status = drive(core.run(protocol.order_status("o1", details=False)), answer)
    assert log == [
        "authorize",
        "GET /checkout/v2/order/o1/status",
        "authorize",
        "GET /checkout/v2/order/o1/status",
    ]
    assert sent_with == ["O-Bearer first-token-0001", "O-Bearer second-token-002"]
    assert status.state == "COMPLETED"


def test_call_when_401_twice_then_authentication_error_without_a_third_attempt() -> None:
    core, protocol = make_core()

    def answer(step: Any) -> Any:
        if isinstance(step, Authorize):
            return authorize(step, "some-token-00001")
        return respond(401, {"code": "UNAUTHORIZED"})

    with pytest.raises(AuthenticationError):
        drive(core.run(protocol.order_status("o1", details=False)), answer)


def test_call_when_token_fetch_fails_then_its_error_is_the_calls() -> None:
    core, protocol = make_core()
    refused = TransportError("refused", category="CONNECTION_REFUSED", request_sent=False)

    with pytest.raises(TransportError) as info:
        drive(core.run(protocol.order_status("o1", details=False)), lambda step: refused)
    assert info.value is refused


def pay_script(status_body: dict[str, Any]) -> Any:
    """Pay attempt 1 is lost after sending; attempt 2 says duplicate; status answers."""
    pays = iter(
        [
            httpx.ReadTimeout("timed out"),
            respond(400, {"code": "DUPLICATE_ORDER", "message": "exists"}),
        ]
    )

    def answer(step: Any) -> Any:
        if isinstance(step, Authorize):
            return authorize(step, "some-token-00001")
        if step.request.method == "POST":
            return next(pays)
        return respond(200, status_body)

    return answer


def test_write_when_answer_lost_then_duplicate_confirmed_by_status_and_adopted() -> None:
    core, protocol = make_core()
    prepared = protocol.create_payment(
        amount=700, merchant_order_id="lost-1", redirect_url=None,
        expire_after=None, meta_info=None, callback_url=None,
    )  # fmt: skip
    status = {"merchantOrderId": "lost-1", "orderId": "OMO1", "state": "PENDING", "amount": 700}
    log, result = drive(core.run(prepared), pay_script(status))
    assert log == [
        "authorize",
        "POST /checkout/v2/pay",
        "sleep",
        "POST /checkout/v2/pay",
        "authorize",
        "GET /checkout/v2/order/lost-1/status",
    ]
    assert isinstance(result, CreatePaymentResult)
    assert (result.merchant_order_id, result.order_id, result.state) == (
        "lost-1",
        "OMO1",
        "PENDING",
    )


def test_write_when_answer_lost_and_status_shows_another_amount_then_duplicate_stands() -> None:
    core, protocol = make_core()
    prepared = protocol.create_payment(
        amount=700, merchant_order_id="lost-2", redirect_url=None,
        expire_after=None, meta_info=None, callback_url=None,
    )  # fmt: skip
    status = {"merchantOrderId": "lost-2", "state": "PENDING", "amount": 999}
    with pytest.raises(DuplicateRequestError):
        drive(core.run(prepared), pay_script(status))


def test_write_when_answer_lost_and_status_call_fails_then_duplicate_chained_to_it() -> None:
    core, protocol = make_core()
    prepared = protocol.refund(
        original_merchant_order_id="o1", amount=100, merchant_refund_id="r-lost"
    )
    replies = iter(
        [
            httpx.ReadTimeout("timed out"),
            respond(409, {"code": "DUPLICATE_REFUND", "message": "exists"}),
            respond(404, {"code": "NOT_FOUND", "message": "no refund"}),
        ]
    )

    def answer(step: Any) -> Any:
        return authorize(step, "some-token-00001") if isinstance(step, Authorize) else next(replies)

    with pytest.raises(DuplicateRequestError) as info:
        drive(core.run(prepared), answer)
    assert isinstance(info.value.__cause__, NotFoundError)
    assert info.value.details.get("after_maybe_sent") is True


def test_write_when_duplicate_without_a_lost_answer_then_no_status_call() -> None:
    core, protocol = make_core()
    prepared = protocol.create_payment(
        amount=700, merchant_order_id="dup", redirect_url=None,
        expire_after=None, meta_info=None, callback_url=None,
    )  # fmt: skip
    log: list[str] = []

    def answer(step: Any) -> Any:
        if isinstance(step, Authorize):
            return authorize(step, "some-token-00001")
        log.append(step.request.method)
        return respond(400, {"code": "DUPLICATE_ORDER", "message": "exists"})

    with pytest.raises(DuplicateRequestError):
        drive(core.run(prepared), answer)
    assert log == ["POST"]


# -- a call declared once runs in both clients, recovery included ---------------------


def made_up_write(urls: tuple[str, ...]) -> Prepared[str]:
    """A call this package does not have, declared the way docs/ARCHITECTURE.md says."""
    status = CallSpec("made_up_status", "GET", "/checkout/v2/made-up/M1/status", urls)
    confirm: Confirm[str, str] = Confirm(
        status=lambda: Prepared(status, lambda data: str(data["state"]), needs_token=True),
        adopt=lambda state: f"confirmed {state}",
    )
    spec = CallSpec("made_up", "POST", "/checkout/v2/made-up", urls, (), b"{}")
    return Prepared(spec, lambda data: str(data["state"]), needs_token=True, confirm=confirm)


def queue_lost_answer(gateway: FakeGateway) -> None:
    gateway.queue("/made-up", httpx.ReadTimeout("answer lost"))
    gateway.queue("/made-up", respond(409, {"code": "DUPLICATE_ORDER", "message": "exists"}))
    gateway.queue("/made-up", respond(200, {"state": "PENDING"}))


def test_new_call_when_declared_then_sync_client_runs_it_with_token_and_recovery(
    settings, gateway, clock
) -> None:
    queue_lost_answer(gateway)
    with PhonePeClient(settings, transport=gateway.transport(), clock=clock) as client:
        assert client._run(made_up_write(settings.base_urls)) == "confirmed PENDING"
    assert [p.removeprefix("/apis/pg-sandbox") for p in gateway.paths()] == [
        "/v1/oauth/token",
        "/checkout/v2/made-up",
        "/checkout/v2/made-up",
        "/checkout/v2/made-up/M1/status",
    ]


@pytest.mark.anyio
async def test_new_call_when_declared_then_async_client_runs_it_the_same_way(
    settings, gateway, clock
) -> None:
    queue_lost_answer(gateway)
    async with AsyncPhonePeClient(settings, transport=gateway.transport(), clock=clock) as client:
        assert await client._run(made_up_write(settings.base_urls)) == "confirmed PENDING"
    assert len(gateway.paths()) == 4


def test_generation_2_only_call_when_client_speaks_generation_1_then_configuration_error(
    v1_settings, settings
) -> None:
    # A call only generation 2 offers is declared on V2Protocol alone; a generation 1
    # client refuses it by name, before anything is sent.
    with PhonePeClient(v1_settings) as v1_client, pytest.raises(ConfigurationError) as info:
        v1_client._v2_only("create_subscription")
    assert "create_subscription" in str(info.value)
    assert "PHONEPE_CLIENT_ID" in str(info.value)
    with PhonePeClient(settings) as v2_client:
        assert isinstance(v2_client._v2_only("create_subscription"), V2Protocol)
