"""Fidelity drivers for the UPI AutoPay samples of the contract corpus.

Each drives the sandbox's ``/subscriptions/v2/…`` calls (and its mandate control API)
into the sample's situation and returns the sandbox's answer; ``fidelity.py`` compares
it. Registered into :data:`fidelity.DRIVERS` at the end of that module.
"""

from __future__ import annotations

from typing import Any

import httpx

from tests.contract.corpus import Sample

__all__ = ["AUTOPAY_DRIVERS", "is_autopay_webhook", "webhook"]

G2 = "/apis/pg-sandbox"
DAY = 86400


def _post(h: Any, path: str, body: dict[str, Any]) -> httpx.Response:
    answer: httpx.Response = h.http.post(G2 + path, json=body, headers=h.auth())
    return answer


def _meta(body: Any) -> dict[str, Any]:
    from .fidelity import _meta_arg

    return _meta_arg(body)


def _setup_body(
    h: Any,
    msid: str,
    *,
    collect: bool = False,
    flow: dict[str, Any] | None = None,
    meta: Any = None,
) -> dict[str, Any]:
    mode: dict[str, Any] = (
        {"type": "UPI_COLLECT", "details": {"type": "VPA", "vpa": "payer@ybl"}}
        if collect
        else {"type": "UPI_INTENT"}
    )
    given = flow or {}
    amount_type = str(given.get("amountType") or "VARIABLE")
    max_amount = int(given.get("maxAmount") or 10_000)
    return {
        "merchantOrderId": h.new_id("set"),
        "amount": 100 if amount_type == "VARIABLE" else min(100, max_amount),
        "paymentFlow": {
            "type": "SUBSCRIPTION_SETUP",
            "merchantSubscriptionId": msid,
            "authWorkflowType": "TRANSACTION",
            "amountType": amount_type,
            "maxAmount": max(100, max_amount),
            "frequency": str(given.get("frequency") or "MONTHLY"),
            "paymentMode": mode,
        },
        **_meta(meta),
    }


def _active(
    h: Any, flow: dict[str, Any] | None = None, meta: Any = None
) -> tuple[str, dict[str, Any]]:
    msid = h.new_id("sub")
    body = _setup_body(h, msid, flow=flow, meta=meta)
    answer = _post(h, "/subscriptions/v2/setup", body)
    assert answer.status_code == 200, answer.text
    h.control("POST", f"/subscriptions/{msid}", {"action": "APPROVE"})
    return msid, body


def _notified(h: Any, msid: str, amount: int, meta: Any = None, **flow: Any) -> str:
    moid = h.new_id("red")
    body = {
        "merchantOrderId": moid,
        "amount": amount,
        "paymentFlow": {"type": "SUBSCRIPTION_REDEMPTION", "merchantSubscriptionId": msid, **flow},
        **_meta(meta),
    }
    answer = _post(h, "/subscriptions/v2/notify", body)
    assert answer.status_code == 200, answer.text
    h.control("POST", "/clock/advance", {"seconds": 2})
    return moid


def _refused(h: Any, path: str) -> tuple[int, Any]:
    """A request PhonePe refuses with a 400 (here: an empty object)."""
    answer = _post(h, path, {})
    return answer.status_code, answer.json()


def setup(h: Any, sample: Sample) -> tuple[int, Any]:
    if sample.status == 400:
        return _refused(h, "/subscriptions/v2/setup")
    collect = "collect" in sample.id
    answer = _post(h, "/subscriptions/v2/setup", _setup_body(h, h.new_id("sub"), collect=collect))
    return answer.status_code, answer.json()


def notify(h: Any, sample: Sample) -> tuple[int, Any]:
    if sample.status == 400:
        return _refused(h, "/subscriptions/v2/notify")
    msid, _ = _active(h)
    body = {
        "merchantOrderId": h.new_id("red"),
        "amount": 5_000,
        "paymentFlow": {"type": "SUBSCRIPTION_REDEMPTION", "merchantSubscriptionId": msid},
    }
    answer = _post(h, "/subscriptions/v2/notify", body)
    return answer.status_code, answer.json()


def redeem(h: Any, sample: Sample) -> tuple[int, Any]:
    if sample.status == 400:
        return _refused(h, "/subscriptions/v2/redeem")
    msid, _ = _active(h)
    moid = _notified(h, msid, 5_000)
    h.control("POST", "/clock/advance", {"seconds": DAY})
    h._token = None  # the jump outlived the token
    answer = _post(h, "/subscriptions/v2/redeem", {"merchantOrderId": moid})
    return answer.status_code, answer.json()


def status(h: Any, sample: Sample) -> tuple[int, Any]:
    msid, _ = _active(h, sample.body if isinstance(sample.body, dict) else None)
    assert sample.request is not None
    query = dict(sample.request.get("query") or {})
    answer = h.http.get(f"{G2}/subscriptions/v2/{msid}/status", params=query, headers=h.auth())
    return answer.status_code, answer.json()


def order_status(h: Any, sample: Sample) -> tuple[int, Any]:
    """A set-up order nobody has answered yet (PENDING, no attempt)."""
    msid = h.new_id("sub")
    given = sample.body or {}
    body = _setup_body(h, msid, flow=given.get("paymentFlow"), meta=given)
    _post(h, "/subscriptions/v2/setup", body)
    answer = h.http.get(
        f"{G2}/subscriptions/v2/order/{body['merchantOrderId']}/status", headers=h.auth()
    )
    return answer.status_code, answer.json()


def is_autopay_webhook(sample: Sample) -> bool:
    return bool(sample.webhook) and str(sample.webhook["body"].get("event", "")).startswith(  # type: ignore[index]
        "subscription."
    )


def webhook(h: Any, sample: Sample) -> tuple[int | None, Any]:
    assert sample.webhook is not None
    event = str(sample.webhook["body"]["event"])
    payload = sample.webhook["body"].get("payload") or {}
    flow = payload.get("paymentFlow") if isinstance(payload.get("paymentFlow"), dict) else payload
    msid, _ = _active(h, flow, payload if event.startswith("subscription.setup") else None)
    if event == "subscription.cancelled":
        if payload.get("pauseStartDate"):
            h.control("POST", f"/subscriptions/{msid}", {"action": "PAUSE"})
        h.http.post(f"{G2}/subscriptions/v2/{msid}/cancel", headers=h.auth())
    elif event.startswith("subscription.notification"):
        max_amount = int((flow or {}).get("maxAmount") or 10_000)
        extra = {"autoDebit": True} if (flow or {}).get("autoDebit") else {}
        _notified(h, msid, min(5_000, max_amount), payload, **extra)
    return None, h.webhook_body(event)


AUTOPAY_DRIVERS = {
    "subscription_setup": setup,
    "subscription_notify": notify,
    "subscription_redeem": redeem,
    "subscription_status": status,
    "subscription_order_status": order_status,
}
