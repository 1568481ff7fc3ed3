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

__all__ = ["amount", "expire_after", "merchant_id_field", "meta_info", "order_id", "text"]

_ID = re.compile(r"^[A-Za-z0-9_-]+$")
_UDF_SHORT = re.compile(r"^[A-Za-z0-9_\- @.+]*$")


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
