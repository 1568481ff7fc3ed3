"""RequestIdMiddleware counts requests in flight; deferrable work waits for a quiet moment."""

from __future__ import annotations

import threading

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from phonepe_gateway.django.middleware import InFlight, RequestIdMiddleware, in_flight


def test_wait_quiet_when_request_in_flight_then_false_until_it_leaves() -> None:
    counter = InFlight()
    assert counter.wait_quiet(0) is True
    counter.enter()
    assert counter.wait_quiet(0) is False
    released = threading.Event()
    result: list[bool] = []

    def waiter() -> None:
        released.set()
        result.append(counter.wait_quiet(30))

    thread = threading.Thread(target=waiter)
    thread.start()
    released.wait(5)
    counter.leave()
    thread.join(30)
    assert result == [True]


def test_middleware_when_view_runs_then_counted_and_released_even_on_error() -> None:
    seen: list[int] = []

    def view(request):
        seen.append(in_flight.count)
        return HttpResponse("ok")

    before = in_flight.count
    RequestIdMiddleware(view)(RequestFactory().get("/x"))
    assert seen == [before + 1]
    assert in_flight.count == before

    def broken(request):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        RequestIdMiddleware(broken)(RequestFactory().get("/x"))
    assert in_flight.count == before
