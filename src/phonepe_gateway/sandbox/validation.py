"""Request checks shared by both API generations, on PhonePe's lenient side.

Where PhonePe's pages disagree the sandbox accepts the more lenient value (order ids
up to 63 characters on generation 2 and 38 on generation 1, refunds from 1 paisa);
the client is expected to enforce the strict one. Checks raise :class:`StateError`
with PhonePe's ``BAD_REQUEST`` code and a message naming the field.
"""

from __future__ import annotations

import re
from typing import Any

from .state import StateError

__all__ = [
    "amount",
    "expire_after",
    "merchant_id_field",
    "meta_info",
    "order_id",
    "page_modes",
    "prefill_phone",
    "text",
]

_ID = re.compile(r"^[A-Za-z0-9_-]+$")
_UDF_SHORT = re.compile(r"^[A-Za-z0-9_\- @.+]*$")
_PAGE_MODES = {"UPI_INTENT", "UPI_COLLECT", "UPI_QR", "NET_BANKING", "CARD"}
_CARD_TYPES = {"DEBIT_CARD", "CREDIT_CARD"}
_MOBILE = re.compile(r"^[6-9][0-9]{9}$")


def _bad(message: str) -> StateError:
    return StateError("BAD_REQUEST", message, 400)


def order_id(value: Any, field: str, max_len: int) -> str:
    if not isinstance(value, str) or not value:
        raise _bad(f"{field} is required and must be a string.")
    if len(value) > max_len:
        raise _bad(f"{field} must be at most {max_len} characters, got {len(value)}.")
    if not _ID.match(value):
        raise _bad(f"{field} may contain only letters, digits, '_' and '-'.")
    return value


merchant_id_field = order_id


def amount(value: Any, field: str = "amount", minimum: int = 100) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(f"{field} must be an integer number of paise.")
    if value < minimum:
        raise _bad(f"{field} must be at least {minimum} paise, got {value}.")
    if value > 10**11:
        raise _bad(f"{field} is above the maximum allowed amount.")
    return value


def expire_after(value: Any, default: int = 1200) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad("expireAfter must be an integer number of seconds.")
    if not 300 <= value <= 3600:
        raise _bad(f"expireAfter must be between 300 and 3600 seconds, got {value}.")
    return value


def meta_info(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _bad("metaInfo must be an object of udf1..udf15 strings.")
    out: dict[str, str] = {}
    for key, item in value.items():
        match = re.fullmatch(r"udf(\d+)", str(key))
        if match is None or not 1 <= int(match.group(1)) <= 15:
            raise _bad(f"metaInfo accepts udf1..udf15 only, not {key!r}.")
        if item is None:
            continue
        if not isinstance(item, str):
            raise _bad(f"metaInfo.{key} must be a string.")
        index = int(match.group(1))
        if index <= 10 and len(item) > 256:
            raise _bad(f"metaInfo.{key} must be at most 256 characters.")
        if index > 10 and (len(item) > 50 or not _UDF_SHORT.match(item)):
            raise _bad(f"metaInfo.{key} must be at most 50 characters of [A-Za-z0-9_-@.+ ].")
        out[str(key)] = item
    return out


def text(value: Any, field: str, *, required: bool = False, max_len: int = 2048) -> str | None:
    if value is None or value == "":
        if required:
            raise _bad(f"{field} is required.")
        return None
    if not isinstance(value, str) or len(value) > max_len:
        raise _bad(f"{field} must be a string of at most {max_len} characters.")
    return value


def page_modes(value: Any) -> dict[str, list[dict[str, Any]]]:
    """``paymentFlow.paymentModeConfig``: the hosted page's enabled / disabled modes."""
    if value is None:
        return {}
    field = "paymentFlow.paymentModeConfig"
    if not isinstance(value, dict):
        raise _bad(f"{field} must be an object (enabledPaymentModes, disabledPaymentModes).")
    out: dict[str, list[dict[str, Any]]] = {}
    for key in ("enabledPaymentModes", "disabledPaymentModes"):
        modes = value.get(key)
        if modes is None:  # PhonePe's own SDK sends the list it was not given as null
            continue
        if not isinstance(modes, list):
            raise _bad(f"{field}.{key} must be a list.")
        for mode in modes:
            kind = mode.get("type") if isinstance(mode, dict) else None
            cards = (mode.get("cardTypes") or []) if isinstance(mode, dict) else None
            if kind not in _PAGE_MODES or not isinstance(cards, list) or set(cards) - _CARD_TYPES:
                raise _bad(
                    f"{field}.{key}: each mode is {{type: one of {sorted(_PAGE_MODES)}}} "
                    "(CARD may name cardTypes DEBIT_CARD / CREDIT_CARD)."
                )
        out[key] = [dict(mode) for mode in modes]
    return out


def prefill_phone(value: Any) -> str | None:
    """``prefillUserLoginDetails.phoneNumber``: a 10-digit Indian mobile number."""
    if value is None:
        return None
    phone = value.get("phoneNumber") if isinstance(value, dict) else None
    if not isinstance(phone, str) or not _MOBILE.fullmatch(phone):
        raise _bad("prefillUserLoginDetails.phoneNumber must be a 10-digit mobile number.")
    return phone
