"""``phonepe doctor``: JSON shape, exit codes, human output, no secrets; one real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from phonepe_gateway.cli import main

from .helpers import CANARY

CHECK_KEYS = {"name", "status", "category", "detail", "remedy", "elapsed_ms"}
CATEGORIES = {
    "DNS_FAILURE",
    "CONNECTION_REFUSED",
    "CONNECT_TIMEOUT",
    "CONNECTION_RESET",
    "TLS_ERROR",
    "PROXY_ERROR",
    "READ_TIMEOUT",
    "PROTOCOL_ERROR",
    "HTTP_ERROR",
    "AUTH_FAILED",
    "CLOCK_SKEW",
    "OK",
}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    """No PHONEPE_* or proxy variable of the developer's shell leaks into a test."""
    for name in list(os.environ):
        if name.startswith("PHONEPE_") or name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PHONEPE_CONNECT_TIMEOUT", "1")


def doctor(*args: str):
    return CliRunner().invoke(main, ["doctor", *args], catch_exceptions=False)


def assert_spec_shape(payload: dict) -> None:
    assert set(payload) == {"ok", "checks"}
    assert isinstance(payload["ok"], bool)
    assert payload["checks"]
    for item in payload["checks"]:
        assert set(item) == CHECK_KEYS
        assert item["status"] in {"ok", "warn", "fail"}
        assert item["category"] in CATEGORIES
        assert isinstance(item["elapsed_ms"], int | float)
        assert isinstance(item["detail"], str)
        assert isinstance(item["remedy"], str)
    assert payload["ok"] == all(item["status"] != "fail" for item in payload["checks"])


def test_doctor_json_when_sandbox_healthy_then_exit_0_and_spec_shape(sandbox, monkeypatch):
    monkeypatch.setenv("PHONEPE_LOCAL_URL", sandbox.url)
    result = doctor("--json")

    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert_spec_shape(payload)
    assert payload["ok"] is True
    assert {item["status"] for item in payload["checks"]} == {"ok"}


def test_doctor_json_when_endpoint_refused_then_exit_1(refused_port):
    result = doctor("--json", "--base-url", f"http://127.0.0.1:{refused_port}")

    assert result.exit_code == 1
    payload = json.loads(result.output)
    assert_spec_shape(payload)
    failed = [item for item in payload["checks"] if item["status"] == "fail"]
    assert [item["category"] for item in failed] == ["CONNECTION_REFUSED"]
    assert failed[0]["remedy"]


def test_doctor_when_warnings_only_then_exit_0(sandbox, monkeypatch):
    # A proxy variable the PhonePe settings do not use is worth a warning, not a failure.
    monkeypatch.setenv("PHONEPE_LOCAL_URL", sandbox.url)
    monkeypatch.setenv("ALL_PROXY", "http://127.0.0.1:9")
    result = doctor("--json")

    payload = json.loads(result.output)
    assert [item["status"] for item in payload["checks"] if item["status"] != "ok"] == ["warn"]
    assert result.exit_code == 0


def test_doctor_when_base_url_repeated_then_checks_each(refused_port, sandbox):
    result = doctor(
        "--json", "--base-url", f"http://127.0.0.1:{refused_port}", "--base-url", sandbox.base_url
    )

    names = [item["name"] for item in json.loads(result.output)["checks"]]
    assert f"tcp 127.0.0.1:{refused_port}" in names
    assert f"tcp 127.0.0.1:{sandbox.port}" in names
    assert result.exit_code == 1


def test_doctor_when_settings_invalid_then_configuration_fails_and_exit_1(monkeypatch):
    monkeypatch.setenv("PHONEPE_ENV", "production")
    result = doctor("--json")

    assert result.exit_code == 1
    payload = json.loads(result.output)
    assert_spec_shape(payload)
    [item] = payload["checks"]
    assert (item["name"], item["status"], item["category"]) == (
        "configuration",
        "fail",
        "AUTH_FAILED",
    )
    assert "PHONEPE_CLIENT_ID" in item["remedy"]


def test_doctor_when_secrets_wrong_then_output_never_shows_them(sandbox, monkeypatch):
    monkeypatch.setenv("PHONEPE_LOCAL_URL", sandbox.url)
    monkeypatch.setenv("PHONEPE_CLIENT_SECRET", CANARY)
    monkeypatch.setenv("PHONEPE_WEBHOOK_PASSWORD", CANARY + "w")
    monkeypatch.setenv("PHONEPE_PROXY", f"http://doctor:{CANARY}p@127.0.0.1:9")

    human = doctor()
    as_json = doctor("--json")

    assert human.exit_code == as_json.exit_code == 1
    assert "What to do" in human.output
    assert "PROXY_ERROR" in human.output
    for output in (human.output, as_json.output):
        assert CANARY not in output
        assert CANARY[-4:] in output  # masked: at most the last four characters


def test_doctor_human_when_sandbox_healthy_then_table_and_summary(sandbox, monkeypatch):
    monkeypatch.setenv("PHONEPE_LOCAL_URL", sandbox.url)
    result = doctor()

    assert result.exit_code == 0
    assert "credentials" in result.output
    assert "All 6 checks passed" in result.output


def test_doctor_subprocess_when_sandbox_healthy_then_exit_0(sandbox):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PHONEPE_") and not k.lower().endswith("_proxy")
    }
    env["PHONEPE_LOCAL_URL"] = sandbox.url
    phonepe = Path(sys.executable).with_name("phonepe")
    done = subprocess.run(
        [str(phonepe), "doctor", "--json"], env=env, capture_output=True, text=True, timeout=60
    )

    assert done.returncode == 0, done.stdout + done.stderr
    payload = json.loads(done.stdout)
    assert_spec_shape(payload)
    assert payload["ok"] is True
