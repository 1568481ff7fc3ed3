"""The retry decision is a pure function: exhaustively pinned here."""

from __future__ import annotations

import random

import pytest

from phonepe_gateway import (
    Category,
    DuplicateRequestError,
    GatewayError,
    GatewayServerError,
    NotFoundError,
    RateLimitedError,
    TransportError,
)
from phonepe_gateway._retry import backoff, decide


def transport(category: Category, sent: bool) -> TransportError:
    return TransportError("x", category=category, request_sent=sent)


def gateway(kind: type[GatewayError], status: int, **kw: object) -> GatewayError:
    return kind("x", http_status=status, **kw)  # type: ignore[arg-type]


def run(error, *, retries=0, max_retries=2, more=False, remaining=30.0):
    return decide(
        error,
        retries_used=retries,
        max_retries=max_retries,
        more_endpoints=more,
        remaining=remaining,
        rng=random.Random(7),
    )


def test_decide_when_not_sent_and_more_endpoints_then_next_endpoint_without_delay() -> None:
    decision = run(transport(Category.CONNECTION_REFUSED, False), more=True)
    assert decision.action == "next_endpoint"
    assert decision.delay == 0


def test_decide_when_not_sent_and_round_exhausted_then_retry_with_backoff() -> None:
    decision = run(transport(Category.CONNECT_TIMEOUT, False), more=False)
    assert decision.action == "retry"
    assert 0.125 <= decision.delay <= 0.25
    assert not decision.rotate


def test_decide_when_maybe_sent_then_retry_on_another_endpoint() -> None:
    decision = run(transport(Category.READ_TIMEOUT, True), more=True)
    assert decision.action == "retry"
    assert decision.rotate


def test_decide_when_retries_used_up_then_stop() -> None:
    assert run(transport(Category.READ_TIMEOUT, True), retries=2).action == "stop"
    assert run(gateway(GatewayServerError, 503), retries=2).action == "stop"


def test_decide_when_backoff_exceeds_remaining_time_then_stop() -> None:
    assert run(transport(Category.READ_TIMEOUT, True), remaining=0.1).action == "stop"


def test_decide_when_5xx_then_retry() -> None:
    assert run(gateway(GatewayServerError, 502)).action == "retry"


def test_decide_when_429_then_waits_retry_after_within_deadline() -> None:
    assert run(gateway(RateLimitedError, 429, retry_after=3.0)).delay == 3.0
    assert run(gateway(RateLimitedError, 429, retry_after=31.0)).action == "stop"
    assert run(gateway(RateLimitedError, 429, retry_after=None)).action == "retry"


@pytest.mark.parametrize(
    "error",
    [
        gateway(GatewayError, 400),
        gateway(NotFoundError, 404),
        gateway(DuplicateRequestError, 400),
    ],
)
def test_decide_when_final_gateway_answer_then_stop(error) -> None:
    assert run(error, more=True).action == "stop"


def test_backoff_when_retries_grow_then_capped_and_jittered() -> None:
    rng = random.Random(1)
    values = [backoff(n, rng) for n in range(1, 10)]
    assert all(v <= 4.0 for v in values)
    assert values[-1] >= 2.0
    assert len({round(v, 6) for v in values}) == len(values)
