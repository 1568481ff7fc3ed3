"""Fixtures for the core client tests: a fake gateway, a fake clock, settings."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from phonepe_gateway import Settings
from phonepe_gateway._clock import FakeClock

from .fakes import FakeGateway

#: A secret that must never show up in any error, repr or log line (see test_secrets).
CANARY = "CANARY-s3cr3t-7f3a9b2c4d"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def gateway(clock: FakeClock) -> FakeGateway:
    return FakeGateway(now=clock.time)


@pytest.fixture
def settings() -> Settings:
    return Settings.build(
        env="local",
        base_urls="http://127.0.0.1:9/apis/pg-sandbox",
        connect_timeout=0.5,
        read_timeout=1,
        timeout=5,
    )


@pytest.fixture
def v1_settings() -> Settings:
    return Settings.build(
        env="local",
        api_version="v1",
        base_urls="http://127.0.0.1:9/apis/pg-sandbox",
        timeout=5,
        read_timeout=1,
    )


@pytest.fixture
def captured_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG)
    return caplog
