"""One gateway call from its :class:`Prepared` declaration to its result; no I/O.

:meth:`CallCore.run` is a generator holding everything a call does besides sending:
fetching the token (an :class:`Authorize` step), refreshing it once after a 401,
reading gateway errors generation 1 uses for answers, and recovering a write whose
answer was lost (a "duplicate", or the plain 400 refusal PhonePe really answers a reused
id with, after an attempt that may have reached PhonePe is confirmed with a status call,
never reported as a failure). It sends by delegating
to ``TransportCore.run`` (``yield from``), so the drivers in ``_drivers`` perform
three kinds of step (:class:`~phonepe_gateway._transport.Send`,
:class:`~phonepe_gateway._transport.Sleep`, :class:`Authorize`) for the sync and the
async client alike, and this logic exists once.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any, TypeVar

from ._auth import Token, TokenProvider
from ._errors import (
    AuthenticationError,
    DuplicateRequestError,
    GatewayError,
    PhonePeError,
    TransportError,
)
from ._protocol import Prepared
from ._transport import CallSpec, Send, Sleep, TransportCore

__all__ = ["Authorize", "CallCore", "CallSteps"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Authorize:
    """A step: answer with a usable token from ``tokens``, fetching one with ``request``
    (through the transport, by ``deadline``) if none is cached."""

    tokens: TokenProvider
    request: Callable[[], CallSpec]
    deadline: float


#: What a driver sends back: a step's outcome (``Send``: response or exception; ``Sleep``:
#: None; ``Authorize``: the token). A failed ``Authorize`` is thrown into the generator.
CallSteps = Generator[Send | Sleep | Authorize, Any, T]


class CallCore:
    """Runs :class:`Prepared` calls; shared by ``PhonePeClient`` and ``AsyncPhonePeClient``."""

    def __init__(
        self,
        transport: TransportCore,
        tokens: TokenProvider,
        token_request: Callable[[], CallSpec | None],
    ) -> None:
        self.transport = transport
        self.tokens = tokens
        self._token_request = token_request

    def run(self, prepared: Prepared[T]) -> CallSteps[T]:
        deadline = self.transport.deadline()
        try:
            return (yield from self._send(prepared, deadline))
        except GatewayError as exc:
            confirm = prepared.confirm
            if confirm is None or not exc.details.get("after_maybe_sent"):
                raise
            if not exc.may_mean_reused_id:
                raise
            # Our own earlier attempt may have acted: ask what it did, within the same deadline.
            try:
                status = yield from self._send(confirm.status(), deadline)
            except PhonePeError as failure:
                # Not there (the refusal stands), or it cannot be told: the outcome stays unknown.
                raise exc from failure
            result = confirm.adopt(status)
            if result is not None:
                return result
            if isinstance(exc, DuplicateRequestError):
                raise exc  # the id belongs to another request: the duplicate stands
            raise _reused_id(exc) from exc

    def _send(self, prepared: Prepared[T], deadline: float) -> CallSteps[T]:
        token: Token | None = None
        if prepared.needs_token:
            token = yield self._authorize(deadline)
        try:
            data = yield from self.transport.run(_authorized(prepared, token), deadline)
        except AuthenticationError as exc:
            if token is None or exc.http_status != 401:
                raise
            self.tokens.invalidate(token)  # expired or revoked early: fetch a new one, once
            try:
                token = yield self._authorize(deadline)
                data = yield from self.transport.run(_authorized(prepared, token), deadline)
            except PhonePeError as again:
                _maybe_sent(again, exc)
                raise
        except GatewayError as exc:
            recovered = prepared.recover(exc) if prepared.recover is not None else None
            if recovered is None:
                raise
            return recovered
        return prepared.parse(data)

    def _authorize(self, deadline: float) -> Authorize:
        return Authorize(self.tokens, self._oauth_call, deadline)

    def _oauth_call(self) -> CallSpec:
        spec = self._token_request()
        assert spec is not None, "only generation 2 calls ask for a token"
        return spec


def _authorized(prepared: Prepared[Any], token: Token | None) -> CallSpec:
    if token is None:
        return prepared.spec
    return prepared.spec.with_header("authorization", token.header)


def _maybe_sent(error: PhonePeError, earlier: GatewayError) -> None:
    """``error`` ends a call an ``earlier`` attempt of which may have reached the gateway:
    whatever the later attempts say, the outcome is unknown (never "not acted")."""
    if not earlier.details.get("after_maybe_sent"):
        return
    if isinstance(error, TransportError) and not error.request_sent:
        error.request_sent = True
        error.message = (
            f"{error.message} An earlier attempt may have reached the gateway: the "
            "outcome is UNKNOWN; reconcile it with the status API."
        )
        error.args = (error.message,)
    elif isinstance(error, GatewayError):
        error.details["after_maybe_sent"] = True


def _reused_id(refusal: GatewayError) -> DuplicateRequestError:
    """The retry was refused and the id's status describes another request (another
    amount or order): the merchant id was used before, by someone else's request."""
    said = f" ({refusal.code})" if refusal.code else ""
    message = (
        f"{refusal.call}: the gateway refused the retry{said} and its status for this "
        "merchant id describes another request (a different amount or order): the id is "
        "already used. Nothing was adopted; use a new merchant id for a new request."
    )
    return DuplicateRequestError(
        message,
        http_status=refusal.http_status,
        code=refusal.code,
        gateway_message=refusal.gateway_message,
        endpoint=refusal.endpoint,
        attempts=refusal.attempts,
        call=refusal.call,
        details=dict(refusal.details),
    )
