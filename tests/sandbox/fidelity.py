"""The sandbox held against the contract corpus: drive it into each sample's situation
and compare the two answers' shapes.

For every sample in ``tests/contract/samples`` a *driver* makes the sandbox produce the
same situation over its real HTTP API (a pay call, a declined attempt, a refund that
settled, a webhook for that event …) and returns the sandbox's answer. The two JSON
bodies are flattened to field paths (``paymentDetails[0].rail.type``) and compared:

* a field both have matches when its JSON type is the same and, for an enumerated
  field (``state``, ``code``, ``paymentMode``, ``type``, ``event`` …), its value is too;
  ids, times, amounts and free text may differ;
* a field only the sample has is *missing* from the sandbox;
* a field only the sandbox has is *extra*, unless real PhonePe sends that field in
  another sample of the same kind of answer (then it is an optional field, and matches);
* the HTTP status, when the sample gives one, is compared as one more field.

Samples the sandbox has no way into (empty mock bodies of SDK retry tests, products it
does not simulate) are not compared; :data:`NOT_COMPARED` says why. Used by
``tests/sandbox/test_fidelity.py`` and ``scripts/fidelity.py``; never touches the network
beyond the loopback sandbox it starts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import httpx

from phonepe_gateway.sandbox.testing import RunningSandbox, serve_sandbox
from tests.contract.corpus import Sample, load_samples

__all__ = [
    "ENUMERATED",
    "NOT_COMPARED",
    "Difference",
    "Result",
    "compare",
    "documented_differences",
    "run",
]

CREDENTIALS = {
    "client_id": "PGSANDBOXCLIENT",
    "client_secret": "sandbox-client-secret",
    "client_version": "1",
    "grant_type": "client_credentials",
}
G2 = "/apis/pg-sandbox"

#: Fields whose *values* are part of the contract (an enumeration, not an id or a time).
ENUMERATED = frozenset(
    {
        "state",
        "code",
        "paymentMode",
        "type",
        "event",
        "token_type",
        "success",
        "errorCode",
        "detailedErrorCode",
        "accountType",
        "stage",
        "source",
        "method",
    }
)

#: Samples not compared, by id pattern, with the reason.
NOT_COMPARED: dict[str, str] = {
    "*-empty": "an SDK retry test's mock: a bare status with an empty body (the sandbox "
    "produces these statuses with fault rules; the body is the mock's, not PhonePe's)",
    "v2-sdk-order-503-r999": "an SDK exception test's mock body (a bare JSON string)",
    "v2-webhook-subscription-*": "subscriptions are not simulated",
    "v1-pay-initiated-upi-intent-capture": "generation 1 UPI_INTENT pay (no PAY_PAGE) is "
    "not simulated: the sandbox serves the hosted pay page only",
    "v1-pay-internal-server-error-validation-capture": "a mobile SDK's app-validation "
    "error; no HTTP status published",
    "v1-status-internal-server-error-docs": "PhonePe's own transient failure; produce it "
    "with a fault rule",
    "v2-token-unauthorized-401": "an SDK test's mock of a bare 401; the sandbox answers a "
    "bad client as PhonePe's pages and other SDK tests show (400 INVALID_CLIENT)",
    "v1-pay-401-bare-capture": "a mobile SDK's bare 401 on an unsigned request",
    "v2-sdk-order-400-bare-capture": "a mobile SDK's bare 400; the request is not published",
}


@dataclass(frozen=True)
class Difference:
    sample: str
    path: str
    #: missing (only PhonePe has it) | extra (only the sandbox) | type | value
    kind: str
    real: str
    sandbox: str

    def row(self) -> str:
        return f"| `{self.sample}` | `{self.path}` | {self.kind} | {self.real} | {self.sandbox} |"


@dataclass
class Result:
    sample: str
    compared: int = 0
    matching: int = 0
    differences: list[Difference] = field(default_factory=list)
    skipped: str | None = None


# -- flattening and comparing ------------------------------------------------------------


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": [1]}}`` -> ``{"a": {...}, "a.b": [...], "a.b[0]": 1}`` (paths to values)."""
    out: dict[str, Any] = {}
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            out[path] = item
            out.update(flatten(item, path))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            path = f"{prefix}[{index}]"
            out[path] = item
            out.update(flatten(item, path))
    return out


def _generic(path: str) -> str:
    return re.sub(r"\[\d+\]", "[]", path)


def _leaf(path: str) -> str:
    return re.split(r"[.\[]", path)[-1] if not path.endswith("]") else ""


def _family(sample: Sample) -> str:
    """Answers of one kind: a field real PhonePe sends in one of them is a real field.

    A webhook's ``payload`` is the order's (or refund's) status object, so webhook
    payloads and status answers form one family (paths compared without ``payload.``).
    """
    if sample.api == "webhook":
        event = str(sample.webhook["body"].get("event", "")) if sample.webhook else ""
        return "refund" if "refund" in event else "order"
    if sample.api in ("order_status", "transaction_status"):
        return "order"
    if sample.api == "refund_status":
        return "refund"
    return sample.api


def _object_path(path: str) -> str:
    """Where a field may legitimately appear: a webhook payload is a status object, and
    an ``instrument`` or ``rail`` is one object type wherever it sits (an attempt, a split,
    a refund)."""
    generic = _generic(path.removeprefix("payload."))
    match = re.search(r"(?:^|\.)((?:instrument|rail)(?:\..*)?)$", generic)
    return match.group(1) if match else generic


def _known_fields(samples: list[Sample]) -> dict[str, set[str]]:
    known: dict[str, set[str]] = {}
    for sample in samples:
        body = _real_body(sample)
        known.setdefault(_family(sample), set()).update(_object_path(p) for p in flatten(body))
    return known


def _real_body(sample: Sample) -> Any:
    if sample.webhook is not None:
        return sample.webhook["body"]
    assert sample.response is not None
    return sample.response.get("body")


def compare(
    sample: Sample,
    status: int | None,
    body: Any,
    known: set[str],
) -> Result:
    """Compare the sandbox's (status, body) with the sample's, field by field."""
    result = Result(sample.id)
    real_status = sample.status if sample.response is not None else None

    def record(path: str, ok: bool, kind: str, real: str, mine: str) -> None:
        result.compared += 1
        if ok:
            result.matching += 1
        else:
            result.differences.append(Difference(sample.id, path, kind, real, mine))

    if real_status is not None:
        record("<status>", real_status == status, "value", str(real_status), str(status))
    real, mine = flatten(_real_body(sample)), flatten(body)
    if _kind(_real_body(sample)) != _kind(body):
        record("<body>", False, "type", _kind(_real_body(sample)), _kind(body))
    for path, value in real.items():
        if path not in mine:
            record(path, False, "missing", _show(value), "–")
            continue
        other = mine[path]
        if _kind(value) != _kind(other):
            record(path, False, "type", _kind(value), _kind(other))
        elif _leaf(path) in ENUMERATED and not isinstance(value, dict | list) and value != other:
            record(path, False, "value", _show(value), _show(other))
        else:
            record(path, True, "", "", "")
    for path, value in mine.items():
        if path in real:
            continue
        record(path, _object_path(path) in known, "extra", "–", _show(value))
    return result


def _show(value: Any) -> str:
    kind = _kind(value)
    if kind in ("object", "array"):
        return kind
    return "null" if value is None else f"`{value}`"


# -- driving the sandbox -----------------------------------------------------------------


class Harness:
    """One sandbox plus authenticated clients; every driver runs against a fresh reset."""

    def __init__(self, running: RunningSandbox, *, tolerant: bool = False) -> None:
        self.sb = running
        #: Carry on when a control call fails (to measure an older sandbox without them).
        self.tolerant = tolerant
        self.http = httpx.Client(base_url=running.url, trust_env=False, timeout=10)
        self._token: str | None = None
        self._n = 0

    def close(self) -> None:
        self.http.close()

    def reset(self) -> None:
        self.sb.reset()
        self._token = None

    def new_id(self, prefix: str = "fid") -> str:
        self._n += 1
        return f"{prefix}-{self._n}"

    def token(self) -> str:
        if self._token is None:
            self._token = self.http.post(G2 + "/v1/oauth/token", data=CREDENTIALS).json()[
                "access_token"
            ]
        return self._token

    def auth(self) -> dict[str, str]:
        return {"Authorization": "O-Bearer " + self.token()}

    def control(self, method: str, path: str, body: Any = None) -> Any:
        answer = self.http.request(method, "/_sandbox" + path, json=body if body else {})
        if self.tolerant and answer.status_code >= 300:
            return None
        assert answer.status_code < 300, answer.text
        return answer.json()

    def pay(self, moid: str, amount: int = 1000, **extra: Any) -> httpx.Response:
        body = {
            "merchantOrderId": moid,
            "amount": max(100, amount),
            "paymentFlow": {
                "type": "PG_CHECKOUT",
                "merchantUrls": {"redirectUrl": "http://127.0.0.1:9/back"},
            },
            **extra,
        }
        answer = self.http.post(G2 + "/checkout/v2/pay", json=body, headers=self.auth())
        assert self.tolerant or answer.status_code == 200, answer.text
        return answer

    def status(
        self, moid: str, query: dict[str, str] | None = None, *, custom: bool = False
    ) -> httpx.Response:
        family = "payments" if custom else "checkout"
        return self.http.get(
            f"{G2}/{family}/v2/order/{moid}/status", params=query or {}, headers=self.auth()
        )

    def custom_pay(self, moid: str, mode: str, amount: int = 1000, **extra: Any) -> httpx.Response:
        """A custom-checkout order (``/payments/v2/pay``) paid by ``mode``."""
        flow: dict[str, Any] = {"type": "PG", "paymentMode": CUSTOM_MODES[mode]}
        if mode in ("NET_BANKING", "CARD", "TOKEN"):
            flow["merchantUrls"] = {"redirectUrl": "http://127.0.0.1:9/back"}
        body = {"merchantOrderId": moid, "amount": max(100, amount), "paymentFlow": flow, **extra}
        answer = self.http.post(G2 + "/payments/v2/pay", json=body, headers=self.auth())
        assert self.tolerant or answer.status_code == 200, answer.text
        return answer

    def webhook_body(self, event: str) -> Any:
        deliveries = [d for d in self.control("GET", "/webhooks")["deliveries"]]
        matching = [d for d in deliveries if d["event"] == event]
        if not (matching or deliveries) and self.tolerant:
            return None
        return (matching or deliveries)[-1]["body"]


def _meta(body: Any) -> dict[str, str] | None:
    meta = body.get("metaInfo") if isinstance(body, dict) else None
    if not isinstance(meta, dict):
        return None
    # Same keys; placeholder values the sandbox's udf rules refuse become plain text.
    ok = {
        k: v if re.fullmatch(r"[A-Za-z0-9_\- @.+]{0,50}", v) else "udf value"
        for k, v in meta.items()
        if isinstance(v, str)
    }
    return ok or None


_MODES: dict[str, str] = {}
#: Failure reasons the sandbox's control API knows by name (phonepe_gateway.sandbox.failures).
_REASONS = {"INVALID_MPIN", "INSUFFICIENT_BALANCE", "BANK_TECHNICAL_ISSUE", "AUTHORIZATION_ERROR"}


def _play_attempts(h: Harness, moid: str, details: list[dict[str, Any]], final: str) -> None:
    """Replay the sample's attempts: each FAILED one declined, the COMPLETED one paid; a
    FAILED order ends with its last attempt failing the order."""
    failed = [d for d in details if d.get("state") == "FAILED"]
    for index, detail in enumerate(details):
        mode = str(detail.get("paymentMode") or "UPI_QR")
        mode = _MODES.get(mode, mode)
        if detail.get("state") == "COMPLETED":
            h.control("POST", f"/orders/{moid}/complete", {"paymentMode": mode})
        elif detail.get("state") == "FAILED":
            reason = _reason(detail)
            last = final == "FAILED" and detail is failed[-1]
            action = "fail" if last else "decline"
            h.control("POST", f"/orders/{moid}/{action}", {"paymentMode": mode, **reason})
        del index


def _reason(detail: dict[str, Any]) -> dict[str, str]:
    code, detailed = detail.get("errorCode"), detail.get("detailedErrorCode")
    if code and detailed and code != detailed:
        return {"errorCode": str(code), "detailedErrorCode": str(detailed)}
    if code in _REASONS:
        return {"reason": str(code)}
    return {"reason": "DECLINED"}


# -- custom checkout (samples published for ``/payments/v2/…``) --------------------------

_KEY = {"encryptionKeyId": 1, "encryptedCvv": "ENC", "expiry": {"month": "12", "year": "2030"}}
#: A valid ``paymentFlow.paymentMode`` per instrument, for driving custom-checkout samples.
CUSTOM_MODES: dict[str, dict[str, Any]] = {
    "UPI_INTENT": {"type": "UPI_INTENT"},
    "UPI_QR": {"type": "UPI_QR"},
    "UPI_COLLECT": {"type": "UPI_COLLECT", "details": {"type": "VPA", "vpa": "payer@ybl"}},
    "NET_BANKING": {"type": "NET_BANKING", "bankId": "HDFC"},
    "CARD": {
        "type": "CARD",
        "authMode": "3DS",
        "cardDetails": {"encryptedCardNumber": "E", **_KEY},
    },
    "TOKEN": {
        "type": "TOKEN",
        "authMode": "3DS",
        "tokenDetails": {"encryptedToken": "E", "cryptogram": "C", "panSuffix": "1111", **_KEY},
    },
}


def _custom(sample: Sample) -> bool:
    """Was the sample published for custom checkout's paths?"""
    return bool(sample.request) and str(sample.request.get("path", "")).startswith("/payments/v2/")  # type: ignore[union-attr]


def _custom_mode(sample: Sample) -> str:
    """The instrument a custom sample was made with: its ``instrument:`` tag, else its first
    attempt's mode, else UPI intent."""
    for tag in sample.tags:
        if tag.startswith("instrument:") and tag.split(":", 1)[1] in CUSTOM_MODES:
            return tag.split(":", 1)[1]
    body = sample.body if isinstance(sample.body, dict) else {}
    for detail in body.get("paymentDetails") or []:
        if detail.get("paymentMode") in CUSTOM_MODES:
            return str(detail["paymentMode"])
    return "UPI_INTENT"


def _new_order(h: Harness, sample: Sample, moid: str, body: Any) -> None:
    amount = int(body.get("amount") or 100)
    if _custom(sample):
        h.custom_pay(moid, _custom_mode(sample), amount, **_meta_arg(body))
    else:
        h.pay(moid, amount, **_meta_arg(body))


def _order_status(h: Harness, sample: Sample) -> tuple[int, Any]:
    body = sample.body
    assert sample.request is not None
    query = dict(sample.request.get("query") or {})
    if sample.status == 401:
        answer = h.http.get(
            f"{G2}/checkout/v2/order/x/status", headers={"Authorization": "O-Bearer expired"}
        )
        return answer.status_code, answer.json()
    if isinstance(body, dict) and body.get("code") == "INVALID_MERCHANT_ORDER_ID":
        answer = h.status("never-created")
        return answer.status_code, answer.json()
    moid = h.new_id()
    _new_order(h, sample, moid, body)
    _play_attempts(h, moid, list(body.get("paymentDetails") or []), str(body.get("state")))
    if "details" not in query and len(body.get("paymentDetails") or []) > 1:
        query["details"] = "true"  # the fixture shows every attempt
    answer = h.status(moid, query, custom=_custom(sample))
    return answer.status_code, answer.json()


def _meta_arg(body: Any) -> dict[str, Any]:
    meta = _meta(body)
    return {"metaInfo": meta} if meta else {}


def _transaction_status(h: Harness, sample: Sample) -> tuple[int, Any]:
    body = sample.body
    moid = h.new_id()
    custom = _custom(sample)
    _new_order(h, sample, moid, body)
    detail = body["paymentDetails"][0]
    if not (custom and _custom_mode(sample) == "UPI_COLLECT"):  # a collect has its attempt
        h.control("POST", f"/orders/{moid}/attempt", {"paymentMode": detail["paymentMode"]})
    attempts = h.status(moid, custom=custom).json()["paymentDetails"]
    txn = attempts[0]["transactionId"] if attempts else "none"
    family = "payments" if custom else "checkout"
    answer = h.http.get(f"{G2}/{family}/v2/transaction/{txn}/status", headers=h.auth())
    return answer.status_code, answer.json()


def _token(h: Harness, sample: Sample) -> tuple[int, Any]:
    body = sample.body
    form = dict(CREDENTIALS)
    if isinstance(body, dict) and body.get("code") == "INVALID_CLIENT":
        form["client_secret"] = "wrong"
    elif isinstance(body, dict) and body.get("code") == "BAD_REQUEST":
        del form["grant_type"]
    answer = h.http.post(G2 + "/v1/oauth/token", data=form)
    return answer.status_code, answer.json()


def _pay(h: Harness, sample: Sample) -> tuple[int, Any]:
    moid = h.new_id()
    family = "payments" if _custom(sample) else "checkout"
    if sample.status is not None and sample.status >= 500:  # PhonePe failing: a fault rule
        path = f"/{family}/v2/pay"
        h.control(
            "POST",
            "/faults",
            {"path": path, "action": "status", "status": sample.status, "times": 1},
        )
        answer = h.http.post(G2 + path, json={}, headers=h.auth())
        return answer.status_code, answer.json()
    if _custom(sample) and sample.api in ("pay", "custom_pay"):
        mode = _custom_mode(sample)
        answer = h.custom_pay(moid, mode)
        if sample.status == 400 and "merchantOrderId" in sample.situation:  # reused id
            answer = h.custom_pay(moid, mode)
        return answer.status_code, answer.json()
    if sample.status == 400 and "merchantOrderId" in sample.situation:  # reused id
        h.pay(moid)
        again = h.http.post(
            G2 + "/checkout/v2/pay",
            json={"merchantOrderId": moid, "amount": 1000, "paymentFlow": {"type": "PG_CHECKOUT"}},
            headers=h.auth(),
        )
        return again.status_code, again.json()
    if sample.api == "sdk_order":
        if sample.status == 401:
            answer = h.http.post(
                G2 + "/checkout/v2/sdk/order", json={}, headers={"Authorization": "O-Bearer x"}
            )
            return answer.status_code, answer.json()
        body = {"merchantOrderId": moid, "amount": 1000, "paymentFlow": {"type": "PG_CHECKOUT"}}
        answer = h.http.post(G2 + f"/{family}/v2/sdk/order", json=body, headers=h.auth())
        return answer.status_code, answer.json()
    answer = h.pay(moid)
    return answer.status_code, answer.json()


def _paid_order(h: Harness, body: Any = None) -> str:
    """A COMPLETED order, paid the way the refund sample's money goes back."""
    details = (body or {}).get("paymentDetails") or [{}]
    mode = str(details[0].get("paymentMode") or "UPI_QR")
    moid = h.new_id()
    h.pay(moid, 10_000)
    h.control("POST", f"/orders/{moid}/complete", {"paymentMode": mode})
    return moid


def _refund(h: Harness, moid: str) -> tuple[str, httpx.Response]:
    mrid = h.new_id("r")
    answer = h.http.post(
        G2 + "/payments/v2/refund",
        json={"merchantRefundId": mrid, "originalMerchantOrderId": moid, "amount": 100},
        headers=h.auth(),
    )
    return mrid, answer


def _refund_call(h: Harness, sample: Sample) -> tuple[int, Any]:
    _, answer = _refund(h, _paid_order(h))
    return answer.status_code, answer.json()


_SETTLE = {"PENDING": 0.0, "CONFIRMED": 3.0, "COMPLETED": 6.0}


def _refund_status(h: Harness, sample: Sample) -> tuple[int, Any]:
    mrid, _ = _refund(h, _paid_order(h, sample.body))
    wait = _SETTLE[str(sample.body["state"])]
    if wait:
        h.control("POST", "/clock/advance", {"seconds": wait})
    answer = h.http.get(f"{G2}/payments/v2/refund/{mrid}/status", headers=h.auth())
    return answer.status_code, answer.json()


def _webhook(h: Harness, sample: Sample) -> tuple[int | None, Any]:
    assert sample.webhook is not None
    real = sample.webhook["body"]
    event = str(real.get("event"))
    payload = real.get("payload") or {}
    if "refund" in event:
        mrid, _ = _refund(h, _paid_order(h, payload))
        if event.endswith("failed"):
            h.control("POST", f"/refunds/{mrid}/fail", {})
        elif event.endswith("completed"):
            h.control("POST", "/clock/advance", {"seconds": 6})
        else:
            h.control("POST", "/clock/advance", {"seconds": 3})
        return None, h.webhook_body(_SANDBOX_EVENT.get(event, event))
    moid = h.new_id()
    h.pay(moid, int(payload.get("amount") or 100), **_meta_arg(payload))
    implied = "COMPLETED" if event.endswith("order.completed") else "FAILED"
    details = [{"state": implied, **d} for d in payload.get("paymentDetails") or []]
    state = str(payload.get("state") or "")
    if not state:  # a minimal payload: the event says what happened
        state = "COMPLETED" if event.endswith("order.completed") else "FAILED"
        state = "PENDING" if "attempt.failed" in event else state
    details = details or _default_attempt(event)
    if state == "EXPIRED":
        _play_attempts(h, moid, details, "PENDING")
        h.control("POST", "/clock/advance", {"seconds": 1300})
    else:
        _play_attempts(h, moid, details, state)
    return None, h.webhook_body(_SANDBOX_EVENT.get(event, event))


def _default_attempt(event: str) -> list[dict[str, Any]]:
    if "completed" in event:
        return [{"paymentMode": "UPI_QR", "state": "COMPLETED"}]
    return [{"paymentMode": "UPI_QR", "state": "FAILED"}]


#: Events of PhonePe's other naming (SDK tests) and the sandbox event for that situation.
_SANDBOX_EVENT = {
    "pg.order.completed": "checkout.order.completed",
    "pg.order.failed": "checkout.order.failed",
    "pg.transaction.attempt.failed": "checkout.transaction.attempt.failed",
}


def _gen1_headers(path: str) -> dict[str, str]:
    import hashlib

    checksum = hashlib.sha256((path + "sandbox-salt-key").encode()).hexdigest() + "###1"
    return {"X-VERIFY": checksum, "X-MERCHANT-ID": "PGSANDBOXMERCHANT"}


def _gen1_pay(h: Harness, moid: str) -> httpx.Response:
    import base64
    import hashlib
    import json

    payload = {
        "merchantId": "PGSANDBOXMERCHANT",
        "merchantTransactionId": moid,
        "merchantUserId": "U1",
        "amount": 1000,
        "redirectUrl": "http://127.0.0.1:9/back",
        "paymentInstrument": {"type": "PAY_PAGE"},
    }
    encoded = base64.b64encode(json.dumps(payload).encode()).decode()
    checksum = hashlib.sha256((encoded + "/pg/v1/pay" + "sandbox-salt-key").encode()).hexdigest()
    return h.http.post(
        G2 + "/pg/v1/pay", json={"request": encoded}, headers={"X-VERIFY": checksum + "###1"}
    )


def _v1_pay(h: Harness, sample: Sample) -> tuple[int, Any]:
    answer = _gen1_pay(h, h.new_id())
    return answer.status_code, answer.json()


def _v1_status(h: Harness, sample: Sample) -> tuple[int, Any]:
    moid = h.new_id()
    _gen1_pay(h, moid)
    code = sample.body.get("code")
    if code == "PAYMENT_SUCCESS":
        instrument = (sample.body.get("data") or {}).get("paymentInstrument") or {}
        mode = {"CARD": "CARD", "NETBANKING": "NET_BANKING"}.get(instrument.get("type"), "UPI")
        h.control(
            "POST",
            f"/orders/{moid}/complete",
            {"paymentMode": mode + "_COLLECT" if mode == "UPI" else mode},
        )
    elif code == "PAYMENT_ERROR":  # no attempt recorded: the order ran out of time
        h.control("POST", "/clock/advance", {"seconds": 1300})
    path = f"/pg/v1/status/PGSANDBOXMERCHANT/{moid}"
    answer = h.http.get(G2 + path, headers=_gen1_headers(path))
    return answer.status_code, answer.json()


def _unmapped(h: Harness, sample: Sample) -> tuple[int, Any]:
    assert sample.request is not None
    answer = h.http.request(sample.request["method"], G2 + sample.request["path"], json={})
    return answer.status_code, answer.json()


DRIVERS: dict[str, Callable[[Harness, Sample], tuple[int | None, Any]]] = {
    "order_status": _order_status,
    "transaction_status": _transaction_status,
    "token": _token,
    "pay": _pay,
    "custom_pay": _pay,
    "sdk_order": _pay,
    "refund": _refund_call,
    "refund_status": _refund_status,
    "webhook": _webhook,
    "v1_pay": _v1_pay,
    "v1_status": _v1_status,
    "unmapped": _unmapped,
}


def _skip_reason(sample: Sample) -> str | None:
    for pattern, reason in NOT_COMPARED.items():
        if fnmatchcase(sample.id, pattern):
            return reason
    if sample.api not in DRIVERS:
        return f"no driver for {sample.api}"
    return None


@contextmanager
def harness(*, tolerant: bool = False) -> Iterator[Harness]:
    with serve_sandbox(seed=9, refund_settlement_delay=6) as running:
        h = Harness(running, tolerant=tolerant)
        try:
            yield h
        finally:
            h.close()


def run(samples: list[Sample] | None = None, *, tolerant: bool = False) -> list[Result]:
    """Drive and compare every sample (a fresh sandbox state per sample)."""
    samples = load_samples() if samples is None else samples
    known = _known_fields(samples)
    results = []
    with harness(tolerant=tolerant) as h:
        for sample in samples:
            skipped = _skip_reason(sample)
            if skipped is not None:
                results.append(Result(sample.id, skipped=skipped))
                continue
            h.reset()
            try:
                status, body = DRIVERS[sample.api](h, sample)
            except Exception as exc:  # name the sample the driver could not reproduce
                raise RuntimeError(f"driving {sample.id}: {exc}") from exc
            results.append(compare(sample, status, body, known.get(_family(sample), set())))
    return results


# -- the documented differences ----------------------------------------------------------

_ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|\s*`([^`]+)`\s*\|\s*([a-z, ]+?)\s*\|")


def documented_differences(doc: Path) -> list[tuple[str, str, str]]:
    """(sample pattern, path pattern, kind) rows of the Fidelity table in ``doc``."""
    rows = []
    inside = False
    for line in doc.read_text(encoding="utf-8").splitlines():
        if line.startswith("<!-- fidelity-differences:begin"):
            inside = True
        elif line.startswith("<!-- fidelity-differences:end"):
            inside = False
        elif inside and (match := _ROW.match(line)):
            for kind in match.group(3).split(","):
                rows.append((match.group(1), match.group(2), kind.strip()))
    return rows


def is_documented(diff: Difference, rows: list[tuple[str, str, str]]) -> bool:
    return any(
        fnmatchcase(diff.sample, s) and fnmatchcase(diff.path, p) and diff.kind == k
        for s, p, k in rows
    )


# -- UPI AutoPay (drivers in fidelity_autopay.py) -------------------------------------------


def _register_autopay() -> None:
    from . import fidelity_autopay as autopay

    plain_webhook = DRIVERS["webhook"]

    def webhook(h: Harness, sample: Sample) -> tuple[int | None, Any]:
        if autopay.is_autopay_webhook(sample):
            return autopay.webhook(h, sample)
        return plain_webhook(h, sample)

    DRIVERS.update(autopay.AUTOPAY_DRIVERS)
    DRIVERS["webhook"] = webhook
    NOT_COMPARED.pop("v2-webhook-subscription-*", None)


_register_autopay()
