"""The fidelity harness drives custom-checkout samples (``/payments/v2/…``) through the
custom paths: PhonePe's published custom pay answers, held against the sandbox's.

The corpus (``tests/contract/samples``) is i12-client's; these answers are built here from
the same published pages so that the drivers are proven before those samples land."""

from __future__ import annotations

from typing import Any

import pytest

from tests.contract.corpus import Sample

from .fidelity import run

QR_PAGE = (
    "https://developer.phonepe.com/payment-gateway-custom-checkout/"
    "custom-api-integration/initiate-payment/upi-qr"
)


def sample(sid: str, api: str, path: str, body: Any, tags: tuple[str, ...] = ()) -> Sample:
    raw: dict[str, Any] = {}
    return Sample(
        id=sid,
        generation=2,
        api=api,
        situation="custom checkout, published page",
        tags=tags,
        source={"kind": "docs", "url": QR_PAGE},
        request={"method": "POST" if api != "order_status" else "GET", "base": "pg", "path": path},
        response={"status": 200, "body": body},
        webhook=None,
        raw=raw,
    )


@pytest.mark.parametrize(
    ("tags", "body", "fields"),
    [
        (
            ("instrument:UPI_QR",),
            # PhonePe's UPI QR page ("intentUrl": "ppe://url" there; qrData empty).
            {
                "orderId": "OMO1",
                "state": "PENDING",
                "expireAt": 1703756259307,
                "intentUrl": "x",
                "qrData": "",
            },
            5,
        ),
        (
            ("instrument:UPI_INTENT",),
            {"orderId": "OMO1", "state": "PENDING", "expireAt": 1, "intentUrl": "x"},
            4,
        ),
        (
            ("instrument:NET_BANKING",),
            {"orderId": "OMO1", "state": "PENDING", "expireAt": 1, "redirectUrl": "x"},
            4,
        ),
    ],
)
def test_custom_pay_sample_when_driven_then_every_published_field_matches(
    tags: tuple[str, ...], body: dict[str, Any], fields: int
) -> None:
    (result,) = run([sample("v2-custom-pay", "custom_pay", "/payments/v2/pay", body, tags)])
    assert result.skipped is None
    assert result.differences == []
    assert (result.matching, result.compared) == (fields + 1, fields + 1)  # + the HTTP status


def test_custom_sdk_order_sample_when_driven_then_custom_path_answers_like_standard() -> None:
    body = {"orderId": "OMO1", "state": "PENDING", "expireAt": 1, "token": "t"}
    (result,) = run([sample("v2-custom-sdk", "sdk_order", "/payments/v2/sdk/order", body)])
    assert result.differences == []
    assert result.matching == 5
