"""The retry decision: one pure function over (error, attempt, endpoints left, time left).

"Certainly not sent" versus "maybe sent" is the first question:

* not sent (DNS, refused, connect timeout, TLS, proxy, request not fully written):
  the next endpoint right away, no backoff; once every endpoint failed, a new round
  after a jittered backoff while retries remain.
* maybe sent (read timeout, reset after sending, unreadable 2xx) and 5xx answers:
  reads retry with backoff; writes (pay, refund) retry too, but only because the
  client always sends the *same* merchant order/refund id, which PhonePe treats as
  an idempotency key: a "duplicate" answer after a maybe-sent attempt is resolved
  by a status call in the client, never reported as a failure.
* 429: wait ``Retry-After`` (or the backoff) if that fits in the time left.
* any other gateway answer (4xx, 401, duplicate): stop; the client handles 401.

Reads and writes follow the same rules (that is why the decision does not ask which
one a call is). Nothing here sleeps or does I/O; randomness comes from the ``rng``
passed in.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

from ._errors import GatewayServerError, PhonePeError, RateLimitedError, TransportError

__all__ = ["BACKOFF_BASE", "BACKOFF_CAP", "Decision", "backoff", "decide"]

BACKOFF_BASE = 0.25
BACKOFF_CAP = 4.0

Action = Literal["next_endpoint", "retry", "stop"]


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    delay: float = 0.0
    #: After a maybe-sent failure, prefer another endpoint for the retry.
    rotate: bool = False


STOP = Decision("stop")


def backoff(retry_number: int, rng: random.Random) -> float:
    """Equal-jitter exponential backoff for the n-th retry (1-based): half fixed, half random."""
    ceiling: float = min(BACKOFF_CAP, BACKOFF_BASE * 2.0 ** max(retry_number - 1, 0))
    return ceiling / 2 + rng.uniform(0, ceiling / 2)


def decide(
    error: PhonePeError,
    *,
    retries_used: int,
    max_retries: int,
    more_endpoints: bool,
    remaining: float,
    rng: random.Random,
) -> Decision:
    """What to do after ``error``: try the next endpoint, retry after a delay, or stop."""
    if isinstance(error, TransportError):
        if not error.request_sent and more_endpoints:
            return Decision("next_endpoint")
        return _retry(retries_used, max_retries, remaining, rng, rotate=error.request_sent)
    if isinstance(error, RateLimitedError):
        if retries_used >= max_retries:
            return STOP
        delay = (
            error.retry_after if error.retry_after is not None else backoff(retries_used + 1, rng)
        )
        return Decision("retry", delay) if delay < remaining else STOP
    if isinstance(error, GatewayServerError):
        return _retry(retries_used, max_retries, remaining, rng, rotate=True)
    return STOP


def _retry(
    retries_used: int, max_retries: int, remaining: float, rng: random.Random, *, rotate: bool
) -> Decision:
    if retries_used >= max_retries:
        return STOP
    delay = backoff(retries_used + 1, rng)
    if delay >= remaining:
        return STOP
    return Decision("retry", delay, rotate=rotate)
