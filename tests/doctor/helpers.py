"""Helpers shared by the doctor's tests."""

from __future__ import annotations

import ssl
from typing import Any

import trustme

from phonepe_gateway import Settings
from phonepe_gateway.doctor import Check, Report

#: A secret that must never appear in any output.
CANARY = "canary-Zq8W-secret-7731"


def local_settings(*urls: str, **options: Any) -> Settings:
    """Settings for the local environment pointed at loopback URLs, with a short connect timeout."""
    options.setdefault("connect_timeout", 1.0)
    return Settings.build(env="local", base_urls=list(urls), **options)


def check(report: Report, prefix: str) -> Check:
    """The one check whose name starts with ``prefix``."""
    found = [c for c in report.checks if c.name.startswith(prefix)]
    assert len(found) == 1, [c.name for c in report.checks]
    return found[0]


def server_context(ca: trustme.CA, *names: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*names).configure_cert(context)
    return context
