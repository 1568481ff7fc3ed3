"""Input checks that run before anything is sent: what PhonePe would reject, we reject first.

Where PhonePe's pages disagree we enforce the strict value (the sandbox accepts the
lenient one), with one documented exception: the refund minimum is 1 paisa, not
100, because PhonePe's refund API documents 1 and partial refunds of small
amounts are legitimate. Every failure is a :class:`ValidationError` naming the
argument. This module never touches the network.

The amount and id checks and :func:`new_merchant_id` are public (``phonepe_gateway``
re-exports them) so that a host, such as the Django app, checks its input and makes
its ids exactly as the client does, before it stores anything.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Mapping
from typing import Any

from ._errors import ValidationError

__all__ = [
    "MAX_ID_LENGTH",
    "MAX_V1_ID_LENGTH",
    "MIN_AMOUNT",
    "MIN_REFUND_AMOUNT",
    "check_amount",
    "check_expire_after",
    "check_merchant_id",
    "check_meta_info",
    "check_phone",
    "check_transaction_id",
    "check_url",
    "new_merchant_id",
]

MAX_ID_LENGTH = 63
#: Generation 1 merchantTransactionId; PhonePe's pages say 35, 36 or 38: 35 is safe.
MAX_V1_ID_LENGTH = 35
MIN_AMOUNT = 100
MIN_REFUND_AMOUNT = 1
#: Keeps amounts far below anything PhonePe accepts but within a signed 64-bit column.
MAX_AMOUNT = 10**15
EXPIRE_AFTER_RANGE = (300, 3600)
#: Custom checkout (``/payments/v2/pay``) documents a far longer ceiling: 60 days.
CUSTOM_EXPIRE_AFTER_MAX = 5_184_000
#: A PhonePe transaction (attempt) id, as it goes into a status path.
_TRANSACTION_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,128}")
#: An Indian mobile number as PhonePe's prefill and collect fields take it: 10 digits, no +91.
_PHONE_RE = re.compile(r"[6-9][0-9]{9}")
_ID_RE = re.compile(r"[A-Za-z0-9_-]+")
_UDF_STRICT_RE = re.compile(r"[a-zA-Z0-9_\- @.+]*")
_UDF_KEYS = tuple(f"udf{i}" for i in range(1, 16))


def new_merchant_id(prefix: str = "PP") -> str:
    """A fresh merchant order/refund id: ``prefix`` + 12 hex digits of epoch ms (sortable)
    + 16 random hex digits, upper-cased: 30 characters with the default prefix.

    Short enough for generation 1 (35) and made only of ``[A-Z0-9]``.
    """
    return f"{prefix}{time.time_ns() // 1_000_000:012x}{secrets.token_hex(8)}".upper()


def check_merchant_id(
    value: object, *, field: str = "merchant_order_id", max_length: int = MAX_ID_LENGTH
) -> str:
    """A merchant order/refund id: 1..max_length of letters, digits, ``_`` and ``-``.

    ``max_length`` is 63, or :data:`MAX_V1_ID_LENGTH` on the generation 1 API.
    """
    if not isinstance(value, str):
        raise ValidationError(f"{field} must be a string, not {type(value).__name__}.", field=field)
    if not value:
        raise ValidationError(f"{field} must not be empty.", field=field)
    if len(value) > max_length:
        raise ValidationError(
            f"{field} is {len(value)} characters long; PhonePe accepts at most {max_length}"
            + (" on the generation 1 API" if max_length == MAX_V1_ID_LENGTH else "")
            + ".",
            field=field,
        )
    if not _ID_RE.fullmatch(value):
        raise ValidationError(
            f"{field} may contain only letters, digits, '_' and '-' (got {value[:70]!r}).",
            field=field,
        )
    return value


def check_amount(value: object, *, field: str = "amount", minimum: int = MIN_AMOUNT) -> int:
    """An integer number of paise, at least ``minimum`` (bool and float are refused)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(
            f"{field} must be an integer number of paise (₹1 = 100), not "
            f"{type(value).__name__} {value!r}.",
            field=field,
        )
    if value < minimum:
        raise ValidationError(
            f"{field} must be at least {minimum} paise, got {value}.", field=field
        )
    if value > MAX_AMOUNT:
        raise ValidationError(f"{field} {value} paise is implausibly large.", field=field)
    return value


def check_expire_after(value: object, *, maximum: int = EXPIRE_AFTER_RANGE[1]) -> int | None:
    """Seconds until the order expires: ``None`` (gateway default) or 300..``maximum``
    (3600 for the hosted page, :data:`CUSTOM_EXPIRE_AFTER_MAX` for custom checkout)."""
    if value is None:
        return None
    low, high = EXPIRE_AFTER_RANGE[0], maximum
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationError(
            f"expire_after must be a whole number of seconds between {low} and {high}, "
            f"got {value!r}.",
            field="expire_after",
        )
    return value


def check_meta_info(value: Mapping[str, Any] | None) -> dict[str, str] | None:
    """``udf1``..``udf15``: udf1-10 up to 256 characters, udf11-15 up to 50 of a narrow set."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ValidationError(
            "meta_info must be a mapping of udf1..udf15 to strings.", field="meta_info"
        )
    out: dict[str, str] = {}
    for key, text in value.items():
        name = f"meta_info[{key!r}]"
        if key not in _UDF_KEYS:
            raise ValidationError(
                f"meta_info accepts only the keys udf1..udf15, not {key!r}.", field="meta_info"
            )
        if not isinstance(text, str):
            raise ValidationError(f"{name} must be a string.", field="meta_info")
        number = int(key[3:])
        limit = 256 if number <= 10 else 50
        if len(text) > limit:
            raise ValidationError(
                f"{name} is {len(text)} characters long; PhonePe accepts at most {limit}.",
                field="meta_info",
            )
        if number > 10 and not _UDF_STRICT_RE.fullmatch(text):
            raise ValidationError(
                f"{name} may contain only letters, digits, space and _-@.+ characters.",
                field="meta_info",
            )
        out[key] = text
    return out


def check_url(value: object, *, field: str) -> str | None:
    """An optional absolute http(s) URL (redirect / callback)."""
    if value is None:
        return None
    if not isinstance(value, str) or not re.match(r"https?://[^\s/]+", value) or len(value) > 2048:
        raise ValidationError(f"{field} must be an absolute http(s) URL.", field=field)
    return value


def check_phone(value: object, *, field: str = "prefill_phone") -> str | None:
    """An optional Indian mobile number: 10 digits starting 6-9, without ``+91``."""
    if value is None:
        return None
    if not isinstance(value, str) or not _PHONE_RE.fullmatch(value):
        raise ValidationError(
            f"{field} must be a 10-digit Indian mobile number without +91.",
            field=field,
        )
    return value


def check_transaction_id(value: object) -> str:
    """A PhonePe transaction (payment attempt) id, e.g. ``OM2403…``: letters, digits,
    ``_`` and ``-``, so it is safe in a URL path."""
    if not isinstance(value, str) or not _TRANSACTION_ID_RE.fullmatch(value):
        raise ValidationError(
            "transaction_id must be PhonePe's transaction id: 1-128 letters, digits, '_' "
            f"or '-' (got {value!r:.70}).",
            field="transaction_id",
        )
    return value
