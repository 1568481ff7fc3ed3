"""UPI AutoPay through both clients against the real sandbox over loopback.

The sandbox (``phonepe_gateway.sandbox``, written from PhonePe's documentation, never
from this client) keeps mandates on its own clock: the customer's moves are made
through its control API (``POST /_sandbox/subscriptions/{id}``), time through
``/_sandbox/clock/advance``, lost answers through its fault rules. A month's debit is
driven here exactly as a merchant would: set up, approve, notify, wait out the notice
period, redeem, confirm, refund; and the customer revoking after a notice.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from phonepe_gateway import (
    AsyncPhonePeClient,
    GatewayError,
    PhonePeClient,
    Settings,
    SubscriptionState,
    UpiCollect,
    UpiIntent,
)
from phonepe_gateway._clock import FakeClock

DAY = 86_400


def client_settings(sandbox: Any, **kw: Any) -> Settings:
    options: dict[str, Any] = {
        "env": "local",
        "local_url": sandbox.url,
        "read_timeout": 3,
        "timeout": 15,
    }
    options.update(kw)
    return Settings.build(**options)


class Control:
    """The sandbox's control API: the customer's UPI app, the clock, faults."""

    def __init__(self, sandbox: Any) -> None:
        self.http = httpx.Client(base_url=sandbox.url + "/_sandbox", trust_env=False)

    def customer(self, msid: str, action: str) -> None:
        answer = self.http.post(f"/subscriptions/{msid}", json={"action": action})
        assert answer.status_code == 200, answer.text

    def advance(self, seconds: float) -> None:
        answer = self.http.post("/clock/advance", json={"seconds": seconds})
        assert answer.status_code == 200, answer.text

    def drop_answer(self, path: str) -> None:
        rule = {"method": "POST", "path": path, "action": "drop_after_commit", "times": 1}
        answer = self.http.post("/faults", json=rule)
        assert answer.status_code in (200, 201), answer.text


@pytest.fixture
def control(sandbox: Any) -> Iterator[Control]:
    ctl = Control(sandbox)
    yield ctl
    ctl.http.close()


@pytest.fixture
def client(sandbox: Any) -> Iterator[PhonePeClient]:
    with PhonePeClient(client_settings(sandbox), clock=FakeClock()) as c:
        yield c


def test_month_when_set_up_notified_redeemed_refunded_cancelled_then_sandbox_agrees(
    client: PhonePeClient, control: Control
) -> None:
    setup = client.setup_subscription(
        amount=49_900,
        max_amount=49_900,
        instrument=UpiIntent(target_app="com.phonepe.app"),
        frequency="MONTHLY",
        amount_type="FIXED",
        merchant_subscription_id="PASS-1",
        merchant_order_id="PASS-1-SETUP",
    )
    assert setup.state == "PENDING"
    assert setup.intent_url is not None
    assert setup.intent_url.startswith("upi://")
    assert client.get_subscription_status("PASS-1").state == SubscriptionState.PENDING

    control.customer("PASS-1", "APPROVE")
    status = client.get_subscription_status("PASS-1", details=True)
    assert status.is_active
    assert (status.frequency, status.amount_type, status.max_amount) == ("MONTHLY", "FIXED", 49_900)
    assert status.subscription_id is not None
    setup_order = client.get_subscription_order_status("PASS-1-SETUP")
    assert setup_order.state == "COMPLETED"

    notice = client.notify_redemption(
        merchant_subscription_id="PASS-1", amount=49_900, merchant_order_id="PASS-1-2026-12"
    )
    assert notice.order_id is not None
    control.advance(5)
    notified = client.get_subscription_order_status("PASS-1-2026-12")
    assert notified.state == "NOTIFIED"
    assert notified.raw["paymentFlow"]["merchantSubscriptionId"] == "PASS-1"

    # PhonePe: the debit only after 24 hours' notice. The refusal is an error, not a debit.
    with pytest.raises(GatewayError):
        client.redeem("PASS-1-2026-12")
    control.advance(DAY)
    debit = client.redeem("PASS-1-2026-12")
    assert debit.transaction_id is not None
    control.advance(10)
    order = client.get_subscription_order_status("PASS-1-2026-12", details=True)
    assert order.state == "COMPLETED"
    assert order.amount == 49_900
    assert order.successful_payment is not None
    assert order.successful_payment.transaction_id == debit.transaction_id
    attempt = client.get_subscription_transaction_status(debit.transaction_id)
    assert attempt.merchant_order_id == "PASS-1-2026-12"

    refund = client.refund(
        original_merchant_order_id="PASS-1-2026-12", amount=10_000, merchant_refund_id="PASS-1-R1"
    )
    assert refund.amount == 10_000
    assert client.get_refund_status("PASS-1-R1").original_merchant_order_id == "PASS-1-2026-12"

    client.cancel_subscription("PASS-1")
    ended = client.get_subscription_status("PASS-1")
    assert ended.state == SubscriptionState.CANCELLED
    assert ended.is_final


def test_revoked_after_notice_when_redeemed_then_no_debit(
    client: PhonePeClient, control: Control
) -> None:
    client.setup_subscription(
        amount=100, max_amount=20_000, instrument=UpiCollect(vpa="driver@ybl"),
        frequency="MONTHLY", merchant_subscription_id="REV-1",
    )  # fmt: skip
    control.customer("REV-1", "APPROVE")
    client.notify_redemption(
        merchant_subscription_id="REV-1", amount=15_000, merchant_order_id="REV-D1"
    )
    control.advance(5)
    control.customer("REV-1", "REVOKE")
    assert client.get_subscription_status("REV-1").state == SubscriptionState.REVOKED
    control.advance(DAY)
    with contextlib.suppress(GatewayError):  # refused outright: equally no debit
        client.redeem("REV-D1")
    control.advance(10)
    order = client.get_subscription_order_status("REV-D1", details=True)
    assert order.state == "FAILED"
    assert order.successful_payment is None


@pytest.mark.parametrize(
    "path", ["/subscriptions/v2/setup", "/subscriptions/v2/notify", "/subscriptions/v2/redeem"]
)
def test_write_when_answer_dropped_after_commit_then_recovered_and_not_doubled(
    client: PhonePeClient, control: Control, path: str
) -> None:
    if path.endswith("setup"):
        control.drop_answer(path)
    setup = client.setup_subscription(
        amount=100, max_amount=5_000, instrument=UpiIntent(), frequency="MONTHLY",
        merchant_subscription_id="LOST-1", merchant_order_id="LOST-1-SETUP",
    )  # fmt: skip
    assert setup.order_id is not None
    control.customer("LOST-1", "APPROVE")
    if path.endswith("notify"):
        control.drop_answer(path)
    notice = client.notify_redemption(
        merchant_subscription_id="LOST-1", amount=4_000, merchant_order_id="LOST-1-D1"
    )
    assert notice.order_id is not None
    control.advance(DAY + 5)
    if path.endswith("redeem"):
        control.drop_answer(path)
    debit = client.redeem("LOST-1-D1")
    assert debit.transaction_id is not None
    control.advance(10)
    order = client.get_subscription_order_status("LOST-1-D1", details=True)
    assert order.state == "COMPLETED"
    assert [d.state for d in order.payment_details] == ["COMPLETED"]


def test_cancel_when_answer_dropped_then_confirmed_cancelled(
    client: PhonePeClient, control: Control, sandbox: Any
) -> None:
    client.setup_subscription(
        amount=100, max_amount=100, instrument=UpiIntent(), frequency="WEEKLY",
        merchant_subscription_id="LOST-C",
    )  # fmt: skip
    control.customer("LOST-C", "APPROVE")
    control.drop_answer("/subscriptions/v2/LOST-C/cancel")
    assert client.cancel_subscription("LOST-C") is None
    assert client.get_subscription_status("LOST-C").state == SubscriptionState.CANCELLED


@pytest.mark.anyio
async def test_async_client_when_mandate_paused_then_no_notice_holds_and_resumed_then_notified(
    sandbox: Any, control: Control
) -> None:
    async with AsyncPhonePeClient(client_settings(sandbox), clock=FakeClock()) as client:
        await client.setup_subscription(
            amount=200, max_amount=30_000, instrument=UpiIntent(), frequency="ON_DEMAND",
            auth_workflow="PENNY_DROP", merchant_subscription_id="PAUSE-1",
        )  # fmt: skip
        control.customer("PAUSE-1", "APPROVE")
        control.customer("PAUSE-1", "PAUSE")
        status = await client.get_subscription_status("PAUSE-1")
        assert status.state == SubscriptionState.PAUSED
        assert not status.is_final
        try:
            await client.notify_redemption(
                merchant_subscription_id="PAUSE-1", amount=25_000, merchant_order_id="PAUSE-D1"
            )
        except GatewayError:
            pass  # refused outright, or accepted and failed below: never a notice that holds
        else:
            control.advance(5)
            failed = await client.get_subscription_order_status("PAUSE-D1")
            assert failed.state == "FAILED"
        control.customer("PAUSE-1", "RESUME")
        notice = await client.notify_redemption(
            merchant_subscription_id="PAUSE-1", amount=25_000, merchant_order_id="PAUSE-D2"
        )
        assert notice.order_id is not None
        control.advance(5)
        notified = await client.get_subscription_order_status("PAUSE-D2")
        assert notified.state == "NOTIFIED"


# -- webhooks -------------------------------------------------------------------------------


class Receiver:
    """A webhook receiver on 127.0.0.1 recording (headers, body)."""

    def __init__(self) -> None:
        self.got: list[tuple[dict[str, str], bytes]] = []
        #: Set once deliveries containing every marker in ``wanted`` have arrived (the
        #: sandbox sends due webhooks concurrently, so their order is not fixed).
        self.wanted: set[bytes] = set()
        self.arrived = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                outer.got.append(({k: v for k, v in self.headers.items()}, body))
                bodies = [b for _, b in outer.got]
                if outer.wanted and all(any(w in b for b in bodies) for w in outer.wanted):
                    outer.arrived.set()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def test_webhooks_when_sandbox_sends_subscription_events_then_verified_with_mandate_ids(
    client: PhonePeClient, control: Control
) -> None:
    receiver = Receiver()
    receiver.wanted = {b"subscription.setup.order.completed", b"subscription.revoked"}
    try:
        answer = control.http.put("/webhooks/config", json={"url": receiver.url})
        assert answer.status_code == 200, answer.text
        client.setup_subscription(
            amount=100, max_amount=100, instrument=UpiIntent(), frequency="MONTHLY",
            merchant_subscription_id="HOOK-1", merchant_order_id="HOOK-1-SETUP",
        )  # fmt: skip
        control.customer("HOOK-1", "APPROVE")
        control.customer("HOOK-1", "REVOKE")
        control.advance(5)  # the sandbox's ticker sends due webhooks as its clock moves
        assert receiver.arrived.wait(10), "the setup and revoked webhooks never both came"
        events = [client.verify_webhook(headers, body) for headers, body in receiver.got]
    finally:
        receiver.close()
    by_name = {e.event: e for e in events}
    assert "subscription.setup.order.completed" in by_name
    assert "subscription.revoked" in by_name
    for event in by_name.values():
        assert event.is_subscription
        assert event.merchant_subscription_id == "HOOK-1"
    assert by_name["subscription.setup.order.completed"].merchant_order_id == "HOOK-1-SETUP"
    assert by_name["subscription.revoked"].state == "REVOKED"
    assert by_name["subscription.revoked"].subscription_id is not None


def test_unknown_ids_when_asked_then_not_found_never_a_default_state(client: PhonePeClient) -> None:
    from phonepe_gateway import NotFoundError

    with pytest.raises(NotFoundError):
        client.get_subscription_status("NO-SUCH-MANDATE")
    with pytest.raises(NotFoundError):
        client.get_subscription_order_status("NO-SUCH-ORDER")
    with pytest.raises(NotFoundError):
        client.get_subscription_transaction_status("OMNOSUCHTXN")


@pytest.mark.parametrize(
    "rule",
    [
        {"action": "status", "status": 503},  # not acted: the resend debits
        {"action": "delay", "delay_ms": 2500},  # acted, answer too late: resend refused, confirmed
    ],
    ids=["503", "timeout-after-acting"],
)
def test_redeem_when_first_attempt_fails_then_retried_safely_one_debit(
    sandbox: Any, control: Control, rule: dict[str, Any]
) -> None:
    settings = client_settings(sandbox, read_timeout=1, timeout=20, max_retries=2)
    events: list[Any] = []
    with PhonePeClient(settings, clock=FakeClock(), on_event=events.append) as client:
        client.setup_subscription(
            amount=100, max_amount=9_000, instrument=UpiIntent(), frequency="MONTHLY",
            merchant_subscription_id="RETRY-1",
        )  # fmt: skip
        control.customer("RETRY-1", "APPROVE")
        client.notify_redemption(
            merchant_subscription_id="RETRY-1", amount=9_000, merchant_order_id="RETRY-D1"
        )
        control.advance(DAY + 5)
        answer = control.http.post(
            "/faults",
            json={"method": "POST", "path": "/subscriptions/v2/redeem", "times": 1, **rule},
        )
        assert answer.status_code in (200, 201), answer.text
        debit = client.redeem("RETRY-D1")
        assert debit.transaction_id is not None
        control.advance(10)
        order = client.get_subscription_order_status("RETRY-D1", details=True)
    assert order.state == "COMPLETED"
    assert len(order.payment_details) == 1
    # Besides a 401 after the day's jump (the token expired: refreshed once), the faulted
    # attempt and exactly one resend.
    sent = [e for e in events if e.call == "redeem" and e.status != 401]
    assert [e.outcome for e in sent][-1] == "ok"
    assert len(sent) == 2
