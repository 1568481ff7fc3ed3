"""`phonepe serve` as a real process: migrates, serves on a real port, stops cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow

API_KEY = "serve-test-key-01"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def database_url() -> Iterator[str | None]:
    """None (the default SQLite file) or a fresh PostgreSQL database, dropped afterwards."""
    if os.environ.get("PHONEPE_TEST_DB") != "postgres":
        yield None
        return
    import psycopg

    base = os.environ["PHONEPE_TEST_POSTGRES_URL"]
    name = "serve_" + uuid.uuid4().hex[:12]
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield base.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _wait_healthy(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"phonepe serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"phonepe serve did not become healthy:\n{log.read_text()}")


def test_serve_when_started_then_migrates_answers_and_stops_cleanly(
    tmp_path, sandbox, database_url
) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PHONEPE_", "DJANGO_"))},
        "PHONEPE_SERVICE_DATA_DIR": str(tmp_path),
        "PHONEPE_SERVICE_API_KEYS": API_KEY,
        "PHONEPE_ENV": "local",
        "PHONEPE_LOCAL_URL": sandbox.url,
        "PHONEPE_ALLOW_LOCAL": "true",  # a loopback test rig (phonepe.E006 otherwise)
    }
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    log = tmp_path / "serve.log"
    phonepe = Path(sys.executable).with_name("phonepe")
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(phonepe), "serve", "--port", str(port), "--workers", "2", "--threads", "4"],
            env=env,
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_healthy(url, process, log)
        assert httpx.get(url + "/readyz").json()["status"] == "ok"
        headers = {"Authorization": f"Bearer {API_KEY}"}
        created = httpx.post(url + "/api/payments", json={"amount": 1500}, headers=headers)
        assert created.status_code == 201, created.text
        order_id = created.json()["merchant_order_id"]
        fetched = httpx.get(f"{url}/api/payments/{order_id}", headers=headers)
        assert fetched.json()["state"] == "PENDING"
        assert httpx.post(url + "/api/payments", json={"amount": 1500}).status_code == 401
        # Two workers, one view of the metrics (prometheus-client multiprocess mode).
        for _ in range(6):
            with httpx.Client() as fresh:  # a new connection may reach the other worker
                text = fresh.get(url + "/metrics").text
            assert 'phonepe_payment_initiations_total{outcome="ok"} 1.0' in text
            assert 'phonepe_payments{state="PENDING"} 1.0' in text
        assert httpx.get(url + "/nowhere").json()["error"]["code"] == "not_found"
        assert httpx.get(url + "/admin/login/").status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            returncode = process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            pytest.fail(f"phonepe serve did not stop on SIGTERM:\n{log.read_text()}")
    output = log.read_text()
    assert returncode == 0, output
    assert "Applying phonepe.0001_initial... OK" in output
    # Two workers, one reconciler.
    assert output.count("reconciler running in worker") == 1
    assert "reconciler stopped" in output
    if database_url is None:
        assert (tmp_path / "phonepe-service.sqlite3").exists()


def test_manage_when_command_then_runs_in_the_service_project(tmp_path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PHONEPE_", "DJANGO_"))},
        "PHONEPE_SERVICE_DATA_DIR": str(tmp_path),
        "PHONEPE_ALLOW_LOCAL": "true",
    }
    env.pop("DATABASE_URL", None)
    phonepe = Path(sys.executable).with_name("phonepe")
    result = subprocess.run(
        [str(phonepe), "manage", "showmigrations", "phonepe"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "0001_initial" in result.stdout


def test_service_urls_when_errors_outside_api_then_json() -> None:
    from django.test import Client, override_settings

    with override_settings(
        ROOT_URLCONF="phonepe_gateway.service.urls", ALLOWED_HOSTS=["testserver"]
    ):
        assert Client().get("/nowhere").json()["error"]["code"] == "not_found"
        response = Client(HTTP_HOST="evil.example").get("/healthz")
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "bad_request"


def _serve_refused(tmp_path, extra_env: dict[str, str], *args: str) -> str:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PHONEPE_", "DJANGO_"))},
        "PHONEPE_SERVICE_DATA_DIR": str(tmp_path),
        **extra_env,
    }
    env.pop("DATABASE_URL", None)
    phonepe = Path(sys.executable).with_name("phonepe")
    result = subprocess.run(
        [str(phonepe), "serve", "--port", str(_free_port()), "--workers", "1", *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0, result.stdout + result.stderr
    return result.stderr


def test_serve_when_local_and_debug_off_without_allowance_then_refuses_to_start(tmp_path) -> None:
    stderr = _serve_refused(tmp_path, {})  # PHONEPE_ENV unset: local
    assert "phonepe.E006" in stderr
    assert "PHONEPE_ALLOW_LOCAL" in stderr


def test_serve_when_local_on_public_address_then_refused_unless_told(tmp_path) -> None:
    stderr = _serve_refused(tmp_path, {"PHONEPE_ALLOW_LOCAL": "true"}, "--host", "0.0.0.0")
    assert "refusing to listen on 0.0.0.0 with PHONEPE_ENV=local" in stderr
    assert "--allow-non-loopback" in stderr


def test_serve_when_production_with_sandbox_webhook_password_then_refuses(tmp_path) -> None:
    stderr = _serve_refused(
        tmp_path,
        {
            "PHONEPE_ENV": "production",
            "PHONEPE_CLIENT_ID": "M22PRODCLIENT",
            "PHONEPE_CLIENT_SECRET": "a-real-secret-value",
            "PHONEPE_WEBHOOK_USERNAME": "sandboxhook",
            "PHONEPE_WEBHOOK_PASSWORD": "sandboxpass1",
        },
    )
    assert "phonepe.E001" in stderr
    assert "sandboxpass1" not in stderr


def test_service_wsgi_when_unsafe_then_import_refuses(tmp_path) -> None:
    # gunicorn pointed straight at the WSGI module runs no checks: the module refuses.
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PHONEPE_", "DJANGO_"))},
        "PHONEPE_SERVICE_DATA_DIR": str(tmp_path),
    }
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", "import phonepe_gateway.service.wsgi"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "phonepe.E006" in result.stderr
