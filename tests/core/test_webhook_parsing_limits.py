"""A hostile callback body is rejected as malformed (400), never an unhandled error
(500 + traceback), even before its signature is checked."""

from __future__ import annotations

import pytest

from phonepe_gateway import Settings, WebhookVerificationError
from phonepe_gateway._webhooks import verify_webhook


def test_v1_callback_when_deeply_nested_json_then_malformed_not_recursion_error() -> None:
    settings = Settings.build(env="local", api_version="v1")
    nested = b"[" * 30_000 + b"]" * 30_000  # under the 64 KiB limit
    body = b'{"response": ' + nested + b"}"
    with pytest.raises(WebhookVerificationError) as info:
        verify_webhook(settings, {"X-VERIFY": "0" * 64 + "###1"}, body)
    assert info.value.reason == "malformed"
