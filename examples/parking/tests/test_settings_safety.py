"""The example refuses to start with a public SECRET_KEY or debug pages where they are unsafe."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SITE = Path(__file__).resolve().parent.parent


def _load(
    env: dict[str, str], module: str = "parking.settings"
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PARKING_", "PHONEPE_"))}
    return subprocess.run(
        [sys.executable, "-c", f"import {module}"],
        env={**clean, "PYTHONPATH": str(SITE), "DJANGO_SETTINGS_MODULE": "parking.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    "env",
    [
        {"PHONEPE_ENV": "production"},
        {"PHONEPE_ENV": "sandbox"},
        {"PARKING_SECRET_KEY": "smart-parking-demo-key-not-for-production"},
        {
            "PHONEPE_ENV": "production",
            "PARKING_SECRET_KEY": "smart-parking-demo-key-not-for-production",
        },
    ],
    ids=[
        "production-default-key",
        "sandbox-default-key",
        "debug-off-demo-key",
        "production-demo-key",
    ],
)
def test_settings_when_public_key_where_unsafe_then_refused(env) -> None:
    result = _load(env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "PARKING_SECRET_KEY must be set" in result.stderr


def test_settings_when_debug_in_production_then_refused() -> None:
    result = _load(
        {
            "PHONEPE_ENV": "production",
            "PARKING_SECRET_KEY": "a-private-key-1234",
            "PARKING_DEBUG": "1",
        }
    )
    assert result.returncode != 0
    assert "PARKING_DEBUG is on with PHONEPE_ENV=production" in result.stderr


def test_settings_when_defaults_then_debug_off_and_no_public_key() -> None:
    code = (
        "from django.conf import settings as s; "
        "print(s.DEBUG, s.SECRET_KEY == 'smart-parking-demo-key-not-for-production')"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PARKING_", "PHONEPE_"))}
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, "PYTHONPATH": str(SITE), "DJANGO_SETTINGS_MODULE": "parking.settings"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert out.split() == ["False", "False"]


def test_wsgi_when_local_with_debug_off_and_no_allowance_then_refused() -> None:
    result = _load({}, module="parking.wsgi")
    assert result.returncode != 0
    assert "phonepe.E006" in result.stderr
    assert _load({"PHONEPE_ALLOW_LOCAL": "true"}, module="parking.wsgi").returncode == 0
