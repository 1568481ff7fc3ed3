"""Who may call the API: API keys, a staff session (with CSRF), or the host's permission hook."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from .conftest import API_KEY, post_json

pytestmark = pytest.mark.django_db(transaction=True)


def allow_header_team(request) -> bool:
    return request.headers.get("X-Team") == "parking"


@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong-key", f"Basic {API_KEY}", "Bearer", f"bearer  {API_KEY}x"]
)
def test_api_when_no_or_bad_key_then_401_json(phonepe, authorization) -> None:
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    client = Client(**headers)
    for response in (
        client.get("/api/payments/X"),
        post_json(client, "/api/payments", {"amount": 1000}),
        client.get("/api/diagnostics"),
    ):
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"
        assert response["WWW-Authenticate"].startswith("Bearer")


def test_api_when_key_then_allowed_and_case_insensitive_scheme(phonepe) -> None:
    client = Client(HTTP_AUTHORIZATION=f"bearer {API_KEY}")
    assert post_json(client, "/api/payments", {"amount": 1000}).status_code == 201


def test_api_when_several_keys_then_each_works(settings, phonepe) -> None:
    settings.PHONEPE = {**settings.PHONEPE, "service_api_keys": "old-key-1, new-key-2"}
    for key in ("old-key-1", "new-key-2"):
        client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
        assert client.get("/api/payments/X").status_code == 404


def test_api_when_staff_session_then_get_allowed_and_post_needs_csrf(phonepe) -> None:
    User.objects.create_user("ops", password="pw-123456", is_staff=True)
    client = Client(enforce_csrf_checks=True)
    assert client.login(username="ops", password="pw-123456")
    assert client.get("/api/payments/X").status_code == 404
    assert post_json(client, "/api/payments", {"amount": 1000}).status_code == 401
    client.get("/admin/")  # renders a form, which sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    response = post_json(client, "/api/payments", {"amount": 1000}, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 201


def test_api_when_non_staff_session_then_401(phonepe) -> None:
    User.objects.create_user("guest", password="pw-123456")
    client = Client()
    assert client.login(username="guest", password="pw-123456")
    assert client.get("/api/payments/X").status_code == 401


def test_api_when_permission_hook_then_host_decides(settings, phonepe) -> None:
    settings.PHONEPE = {
        **settings.PHONEPE,
        "api_permission": "tests.django.api.test_auth.allow_header_team",
    }
    assert Client(HTTP_X_TEAM="parking").get("/api/payments/X").status_code == 404
    assert Client(HTTP_X_TEAM="other").get("/api/payments/X").status_code == 401
    # With a hook, the service keys alone do not open the API: the host decides.
    assert Client(HTTP_AUTHORIZATION=f"Bearer {API_KEY}").get("/api/payments/X").status_code == 401


def test_webhook_endpoint_when_no_api_key_then_not_401_for_auth_reasons(phonepe) -> None:
    # The webhook is authenticated by PhonePe's credentials, not the API key.
    response = Client().post("/api/webhooks/phonepe", data=b"{}", content_type="application/json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "webhook_unauthenticated"


def test_docs_and_openapi_when_anonymous_then_served(phonepe) -> None:
    client = Client()
    schema = client.get("/api/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for expected in (
        "/api/payments",
        "/api/payments/{merchant_order_id}",
        "/api/payments/{merchant_order_id}/refunds",
        "/api/refunds/{merchant_refund_id}",
        "/api/webhooks/phonepe",
        "/api/diagnostics",
    ):
        assert expected in paths
    assert client.get("/api/docs").status_code == 200


def allow_staff(request) -> bool:
    return bool(request.user.is_authenticated and request.user.is_staff)


def test_permission_hook_when_session_post_without_csrf_then_refused(settings, phonepe) -> None:
    # A host hook that trusts the session must not open the API to cross-site forms.
    settings.PHONEPE = {
        **settings.PHONEPE,
        "api_permission": "tests.django.api.test_auth.allow_staff",
    }
    User.objects.create_user("ops2", password="pw-123456", is_staff=True)
    client = Client(enforce_csrf_checks=True)
    assert client.login(username="ops2", password="pw-123456")
    assert client.get("/api/payments/X").status_code == 404
    assert post_json(client, "/api/payments", {"amount": 1000}).status_code == 401
    client.get("/admin/")
    token = client.cookies["csrftoken"].value
    response = post_json(client, "/api/payments", {"amount": 1000}, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 201
