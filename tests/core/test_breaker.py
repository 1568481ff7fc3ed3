"""Circuit breaker states with an injected clock: never sleeps."""

from __future__ import annotations

from phonepe_gateway._breaker import BreakerState, CircuitBreaker
from phonepe_gateway._clock import FakeClock


def test_breaker_when_failures_below_threshold_then_closed() -> None:
    breaker = CircuitBreaker(FakeClock(), threshold=3)
    breaker.record_connect_failure()
    breaker.record_connect_failure()
    assert breaker.state is BreakerState.CLOSED
    assert breaker.allow()


def test_breaker_when_success_between_failures_then_count_resets() -> None:
    breaker = CircuitBreaker(FakeClock(), threshold=2)
    breaker.record_connect_failure()
    breaker.record_success()
    breaker.record_connect_failure()
    assert breaker.state is BreakerState.CLOSED


def test_breaker_when_threshold_reached_then_open_until_cooldown() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(clock, threshold=2, cooldown=10)
    breaker.record_connect_failure()
    breaker.record_connect_failure()
    assert breaker.state is BreakerState.OPEN
    assert not breaker.allow()
    clock.advance(9.9)
    assert not breaker.allow()


def test_breaker_when_cooldown_over_then_single_probe_half_open() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(clock, threshold=1, cooldown=10)
    breaker.record_connect_failure()
    clock.advance(10)
    assert breaker.allow()
    assert breaker.state is BreakerState.HALF_OPEN
    assert not breaker.allow()  # everyone else keeps skipping while the probe runs


def test_breaker_when_probe_succeeds_then_closed() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(clock, threshold=1, cooldown=10)
    breaker.record_connect_failure()
    clock.advance(10)
    breaker.allow()
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED
    assert breaker.allow()


def test_breaker_when_probe_fails_then_open_again_for_full_cooldown() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(clock, threshold=5, cooldown=10)
    for _ in range(5):
        breaker.record_connect_failure()
    clock.advance(10)
    assert breaker.allow()
    breaker.record_connect_failure()
    assert breaker.state is BreakerState.OPEN
    clock.advance(5)
    assert not breaker.allow()
    clock.advance(5)
    assert breaker.allow()


def test_breaker_when_probe_never_reports_then_another_probe_after_cooldown() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(clock, threshold=1, cooldown=10)
    breaker.record_connect_failure()
    clock.advance(10)
    assert breaker.allow()
    clock.advance(10)
    assert breaker.allow()


def test_breaker_when_probe_reaches_slow_endpoint_then_released_closed() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(clock, threshold=1, cooldown=10)
    breaker.record_connect_failure()
    clock.advance(10)
    breaker.allow()
    breaker.release()
    assert breaker.state is BreakerState.CLOSED


def test_breaker_when_one_connect_failure_then_demoted_until_cooldown() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(clock, threshold=3, cooldown=10)
    breaker.record_connect_failure()
    assert breaker.demoted
    assert breaker.allow()  # still usable when nothing else is
    clock.advance(10)
    assert not breaker.demoted


def test_breaker_when_success_after_failure_then_not_demoted() -> None:
    breaker = CircuitBreaker(FakeClock(), threshold=3, cooldown=10)
    breaker.record_connect_failure()
    breaker.record_success()
    assert not breaker.demoted
