"""Remedies: every failure category has one, and the advice follows the environment."""

from __future__ import annotations

import pytest

from phonepe_gateway._remedies import remedy as client_remedy
from phonepe_gateway.doctor import Verdict
from phonepe_gateway.doctor.probes import Origin
from phonepe_gateway.doctor.remedies import Situation, remedy

PROD = Situation(
    env="production",
    api_version="v2",
    origins=(Origin("https", "pay.phonepe.invalid", 443),),
    proxy=None,
    local_url="http://127.0.0.1:8300",
    all_refused=True,
)
LOCAL = Situation(
    env="local",
    api_version="v2",
    origins=(Origin("http", "127.0.0.1", 8300),),
    proxy=None,
    local_url="http://127.0.0.1:8300",
)
FAILURES = [v for v in Verdict if v is not Verdict.OK]


@pytest.mark.parametrize("category", FAILURES)
@pytest.mark.parametrize("situation", [PROD, LOCAL], ids=["production", "local"])
def test_remedy_when_any_failure_category_then_says_what_to_do(category, situation):
    assert len(remedy("tcp", category, situation, situation.origins[0])) > 40


def test_remedy_when_ok_then_empty():
    assert remedy("tcp", Verdict.OK, PROD, None) == ""


def test_remedy_when_refused_then_depends_on_environment():
    production = remedy("tcp", Verdict.CONNECTION_REFUSED, PROD, PROD.origins[0])
    local = remedy("tcp", Verdict.CONNECTION_REFUSED, LOCAL, LOCAL.origins[0])

    assert "hosting provider" in production
    assert "pay.phonepe.invalid:443" in production
    assert "phonepe sandbox" in local
    assert "hosting provider" not in local


def test_remedy_when_auth_failed_then_names_the_other_environment_and_generation():
    production = remedy("credentials", Verdict.AUTH_FAILED, PROD, None)
    sandbox = remedy(
        "credentials",
        Verdict.AUTH_FAILED,
        Situation("sandbox", "v1", PROD.origins, None, PROD.local_url),
        None,
    )

    assert "PHONEPE_ENV=sandbox" in production
    assert "PHONEPE_CLIENT_SECRET" in production
    assert "PHONEPE_ENV=production" in sandbox
    assert "PHONEPE_SALT_KEY" in sandbox


def test_remedy_when_proxy_hop_fails_then_talks_about_the_proxy():
    with_proxy = Situation(**{**PROD.__dict__, "proxy": "http://****@proxy.invalid:3128"})

    text = remedy("proxy", Verdict.CONNECTION_REFUSED, with_proxy, None)

    assert "http://****@proxy.invalid:3128" in text
    assert "PHONEPE_PROXY" in text


TRANSPORT = [v for v in Verdict if v.category is not None]


@pytest.mark.parametrize("verdict", TRANSPORT)
@pytest.mark.parametrize("situation", [PROD, LOCAL], ids=["production", "local"])
@pytest.mark.parametrize("kind", ["tcp", "http"])
def test_remedy_when_transport_verdict_then_builds_on_the_clients_remedy(verdict, situation, kind):
    every = situation.all_refused and verdict is Verdict.CONNECTION_REFUSED
    client = client_remedy(
        verdict.category,
        env=situation.env,
        hosts=situation.targets,
        ports=situation.ports,
        every_endpoint=every,
        proxy=situation.proxy,
        doctor_hint=False,
    )

    assert client in remedy(kind, verdict, situation, situation.origins[0])
