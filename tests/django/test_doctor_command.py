"""``manage.py phonepe_doctor``: the doctor with the Django app's PHONEPE settings."""

from __future__ import annotations

import io
import json
import socket

import pytest
from django.core.management import CommandError, call_command

CANARY = "canary-Dj4n-secret-5512"


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("phonepe_doctor", *args, stdout=out)
    return out.getvalue()


def test_phonepe_doctor_when_settings_point_at_sandbox_then_all_checks_pass(sandbox, settings):
    settings.PHONEPE = {"env": "local", "local_url": sandbox.url, "connect_timeout": 1}

    payload = json.loads(run("--json"))

    assert payload["ok"] is True
    assert {check["status"] for check in payload["checks"]} == {"ok"}
    assert any(check["name"] == "credentials" for check in payload["checks"])


def test_phonepe_doctor_when_secret_wrong_then_command_error_and_no_secret(sandbox, settings):
    settings.PHONEPE = {
        "env": "local",
        "local_url": sandbox.url,
        "client_secret": CANARY,
        "connect_timeout": 1,
    }
    out = io.StringIO()

    with pytest.raises(CommandError) as raised:
        call_command("phonepe_doctor", stdout=out)

    assert raised.value.returncode == 1
    assert "AUTH_FAILED" in out.getvalue()
    assert "What to do" in out.getvalue()
    assert CANARY not in out.getvalue()
    assert CANARY not in str(raised.value)


def test_phonepe_doctor_when_base_url_refused_then_json_names_it_and_exit_1(settings, sandbox):
    settings.PHONEPE = {"env": "local", "local_url": sandbox.url, "connect_timeout": 1}
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    out = io.StringIO()

    with pytest.raises(CommandError) as raised:
        call_command(
            "phonepe_doctor", "--json", "--base-url", f"http://127.0.0.1:{port}", stdout=out
        )

    assert raised.value.returncode == 1
    payload = json.loads(out.getvalue())
    failed = [c for c in payload["checks"] if c["status"] == "fail"]
    assert [(c["name"], c["category"]) for c in failed] == [
        (f"tcp 127.0.0.1:{port}", "CONNECTION_REFUSED")
    ]
