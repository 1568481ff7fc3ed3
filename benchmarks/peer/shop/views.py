"""The naive view: parse, call the gateway with httpx, save one row, answer. Nothing else."""

import json
import threading
import time
import uuid

import httpx
from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from .models import Order

_client = httpx.Client(base_url=settings.GATEWAY_URL, timeout=10)
_token: dict[str, object] = {"value": None, "expires_at": 0.0}
_lock = threading.Lock()


def _access_token() -> str:
    with _lock:
        if _token["value"] is None or time.time() > float(_token["expires_at"]) - 60:
            response = _client.post(
                "/v1/oauth/token",
                data={
                    "client_id": settings.GATEWAY_CLIENT_ID,
                    "client_secret": settings.GATEWAY_CLIENT_SECRET,
                    "client_version": "1",
                    "grant_type": "client_credentials",
                },
            )
            response.raise_for_status()
            body = response.json()
            _token["value"], _token["expires_at"] = body["access_token"], body["expires_at"]
        return str(_token["value"])


@csrf_exempt
def create_payment(request):
    data = json.loads(request.body)
    merchant_order_id = uuid.uuid4().hex
    response = _client.post(
        "/checkout/v2/pay",
        json={
            "merchantOrderId": merchant_order_id,
            "amount": int(data["amount"]),
            "paymentFlow": {
                "type": "PG_CHECKOUT",
                "merchantUrls": {"redirectUrl": "http://127.0.0.1:8000/return"},
            },
        },
        headers={"Authorization": f"O-Bearer {_access_token()}"},
    )
    response.raise_for_status()
    body = response.json()
    Order.objects.create(
        merchant_order_id=merchant_order_id,
        amount=int(data["amount"]),
        state=body["state"],
        checkout_url=body["redirectUrl"],
    )
    return JsonResponse(
        {
            "merchant_order_id": merchant_order_id,
            "state": body["state"],
            "checkout_url": body["redirectUrl"],
        },
        status=201,
    )


def healthz(request):
    return JsonResponse({"status": "ok"})
