"""The doctor's own result vocabulary: a :class:`Verdict` per check and a :class:`Probe`.

The client's :class:`~phonepe_gateway.Category` names only what the client reports (how
the network failed). The doctor says more: an endpoint answered with a server error
(``HTTP_ERROR``), PhonePe rejected the credentials (``AUTH_FAILED``), the clock is off
(``CLOCK_SKEW``), or all is well (``OK``). A verdict's value is the ``category`` string
of ``phonepe doctor --json``, so the transport verdicts carry exactly the client's
category names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from .._errors import Category

__all__ = ["Probe", "Status", "Verdict"]

Status = Literal["ok", "warn", "fail"]


class Verdict(StrEnum):
    """What a check found. Transport verdicts first (same names as :class:`Category`)."""

    DNS_FAILURE = "DNS_FAILURE"
    CONNECTION_REFUSED = "CONNECTION_REFUSED"
    CONNECT_TIMEOUT = "CONNECT_TIMEOUT"
    CONNECTION_RESET = "CONNECTION_RESET"
    TLS_ERROR = "TLS_ERROR"
    PROXY_ERROR = "PROXY_ERROR"
    READ_TIMEOUT = "READ_TIMEOUT"
    PROTOCOL_ERROR = "PROTOCOL_ERROR"
    # Only the doctor reports these.
    HTTP_ERROR = "HTTP_ERROR"
    AUTH_FAILED = "AUTH_FAILED"
    CLOCK_SKEW = "CLOCK_SKEW"
    OK = "OK"

    @classmethod
    def of(cls, category: Category) -> Verdict:
        """The verdict for a failure the client reported."""
        return cls(category.value)

    @property
    def category(self) -> Category | None:
        """The client's category with this name; ``None`` for the doctor's own verdicts."""
        return Category(self.value) if self.value in Category.__members__ else None


@dataclass
class Probe:
    """The outcome of one probe (the report turns it into a ``Check``)."""

    status: Status
    verdict: Verdict
    detail: str
    elapsed_ms: float
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status != "fail"
