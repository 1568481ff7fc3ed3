"""``phonepe sandbox``: the real command in a subprocess prints how to use it and serves."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
from click.testing import CliRunner

from phonepe_gateway.cli import main
from phonepe_gateway.sandbox.cli import banner
from phonepe_gateway.sandbox.config import SandboxConfig

from .conftest import wait_for


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_banner_when_defaults_then_public_credentials_and_urls() -> None:
    text = banner(SandboxConfig(), "http://127.0.0.1:8300")
    for expected in (
        "http://127.0.0.1:8300/apis/pg-sandbox",
        "/_sandbox",
        "PGSANDBOXCLIENT",
        "sandbox-client-secret",
        "PGSANDBOXMERCHANT",
        "sandbox-salt-key",
        "PGTESTPAYUAT",
        "sandboxhook",
        "sandboxpass1",
    ):
        assert expected in text


def test_banner_when_own_secrets_then_masked() -> None:
    text = banner(
        SandboxConfig(
            client_secret="my-own-secret-9876",
            salt_key="salty-salt-1234",
            webhook_password="hookpass5678",
        ),
        "http://127.0.0.1:1",
    )
    assert "my-own-secret-9876" not in text
    assert "****9876" in text
    assert "salty-salt-1234" not in text
    assert "hookpass5678" not in text


def test_help_when_asked_then_lists_spec_options() -> None:
    result = CliRunner().invoke(main, ["sandbox", "--help"])
    assert result.exit_code == 0
    for option in (
        "--host",
        "--port",
        "--webhook-url",
        "--webhook-username",
        "--webhook-password",
        "--clock-speed",
        "--seed",
        "--token-ttl",
        "--client-id",
        "--client-secret",
        "--merchant-id",
        "--salt-key",
        "--lenient-hosts",
        "--allow-remote-webhooks",
        "--control-host",
    ):
        assert option in result.output


def _configured(monkeypatch: Any, args: list[str], env: dict[str, str]) -> SandboxConfig:
    """The config ``phonepe sandbox`` would serve (uvicorn.run replaced, nothing listens)."""
    import uvicorn

    served: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: served.append(app))
    result = CliRunner().invoke(main, ["sandbox", *args], env=env)
    assert result.exit_code == 0, result.output
    (app,) = served
    config: SandboxConfig = app.state.sandbox.config
    return config


def test_command_when_no_flags_then_strict_hosts_loopback_webhooks(monkeypatch: Any) -> None:
    config = _configured(monkeypatch, [], {})
    assert (config.lenient_hosts, config.allow_remote_webhooks, config.control_hosts) == (
        False,
        False,
        (),
    )


def test_command_when_flags_or_env_then_lenient_and_remote_allowed(monkeypatch: Any) -> None:
    flags = _configured(
        monkeypatch,
        ["--lenient-hosts", "--allow-remote-webhooks", "--control-host", "sb.internal"],
        {},
    )
    assert (flags.lenient_hosts, flags.allow_remote_webhooks, flags.control_hosts) == (
        True,
        True,
        ("sb.internal",),
    )
    env = _configured(
        monkeypatch,
        [],
        {
            "PHONEPE_SANDBOX_LENIENT_HOSTS": "1",
            "PHONEPE_SANDBOX_ALLOW_REMOTE_WEBHOOKS": "true",
            "PHONEPE_SANDBOX_CONTROL_HOSTS": "a.internal b.internal",
        },
    )
    assert (env.lenient_hosts, env.allow_remote_webhooks, env.control_hosts) == (
        True,
        True,
        ("a.internal", "b.internal"),
    )


def test_banner_when_lenient_then_says_every_prefix_serves_everything() -> None:
    assert "(lenient)" in banner(SandboxConfig(lenient_hosts=True), "http://127.0.0.1:1")
    assert "identity-manager" in banner(SandboxConfig(), "http://127.0.0.1:1")


def test_command_when_started_then_prints_banner_and_serves_with_options() -> None:
    port = free_port()
    phonepe = Path(sys.executable).with_name("phonepe")
    proc = subprocess.Popen(
        [
            str(phonepe),
            "sandbox",
            "--port",
            str(port),
            "--token-ttl",
            "60",
            "--seed",
            "5",
            "--webhook-url",
            "http://127.0.0.1:9/hook",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:

        def up() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/_sandbox", timeout=1).status_code == 200
            except httpx.TransportError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                return False

        wait_for(up, timeout=20, what="phonepe sandbox to listen")
        info = httpx.get(f"http://127.0.0.1:{port}/_sandbox").json()
        assert info["token_ttl"] == 60
        assert info["webhooks"]["url"] == "http://127.0.0.1:9/hook"
        token = httpx.post(
            f"http://127.0.0.1:{port}/apis/identity-manager/v1/oauth/token",
            data={
                "client_id": "PGSANDBOXCLIENT",
                "client_secret": "sandbox-client-secret",
                "client_version": "1",
                "grant_type": "client_credentials",
            },
        ).json()
        assert token["expires_at"] - token["issued_at"] == 60
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=10)
    assert f"http://127.0.0.1:{port}/apis/pg-sandbox" in out
    assert "PGSANDBOXCLIENT" in out
