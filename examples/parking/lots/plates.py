"""Indian vehicle registration numbers: validate what a driver types, store one canonical form.

Accepted (spaces, hyphens and dots are ignored, case does not matter):

* state series ``SS DD LLL NNNN`` -- state/UT code, 1-2 digit RTO code, 0-3 series letters,
  1-4 digit number, e.g. ``MH12AB1234``, ``KA 01 AB 1234``;
* Delhi ``DL DC LL NNNN`` -- Delhi's district code is its number *and* a vehicle-class
  letter (``C`` car, ``S`` two-wheeler, ``E`` electric, ``P``/``T``/``V``/``Y`` commercial
  ...), written without a leading zero, then 0-2 series letters: ``DL 3C AB 0001``,
  ``DL 10C AB 1234``;
* Bharat series ``YY BH NNNN LL`` -- registration year, ``BH``, 4 digits, 1-2 letters,
  e.g. ``22 BH 1234 AA``.

The canonical form has no separators and the number padded to four digits (``KA01AB1234``,
``DL3CAB0001``); the RTO code is padded to two digits except in Delhi, whose plates never
carry that zero. This module never touches the database.
"""

from __future__ import annotations

import re

__all__ = ["STATE_CODES", "InvalidPlate", "display_plate", "normalise_plate"]

#: Codes on current and still-valid older plates (OR/UA/TS remain on the road).
STATE_CODES = frozenset(
    [
        "AN",
        "AP",
        "AR",
        "AS",
        "BR",
        "CG",
        "CH",
        "DD",
        "DL",
        "DN",
        "GA",
        "GJ",
        "HP",
        "HR",
        "JH",
        "JK",
        "KA",
        "KL",
        "LA",
        "LD",
        "MH",
        "ML",
        "MN",
        "MP",
        "MZ",
        "NL",
        "OD",
        "OR",
        "PB",
        "PY",
        "RJ",
        "SK",
        "TG",
        "TN",
        "TR",
        "TS",
        "UA",
        "UK",
        "UP",
        "WB",
    ]
)

_SEPARATORS = re.compile(r"[\s\-.]+")
_STATE_SERIES = re.compile(
    r"^(?P<state>[A-Z]{2})(?P<rto>\d{1,2})(?P<series>[A-Z]{0,3})(?P<num>\d{1,4})$"
)
_DELHI = re.compile(r"^DL(?P<rto>\d{1,2})(?P<vclass>[A-Z])(?P<series>[A-Z]{0,2})(?P<num>\d{1,4})$")
_BHARAT_SERIES = re.compile(r"^(?P<year>\d{2})BH(?P<num>\d{4})(?P<series>[A-Z]{1,2})$")


class InvalidPlate(ValueError):
    """The text is not an Indian registration number; the message says what is expected."""


def normalise_plate(text: str) -> str:
    """Return the canonical registration number or raise :class:`InvalidPlate`."""
    compact = _SEPARATORS.sub("", text or "").upper()
    if not compact:
        raise InvalidPlate("Enter the vehicle number, for example MH 12 AB 1234.")
    bharat = _BHARAT_SERIES.match(compact)
    if bharat:
        if int(bharat["year"]) < 21:
            raise InvalidPlate("Bharat series numbers start in 2021 (21 BH ...).")
        return compact
    if compact.startswith("DL"):
        return _normalise_delhi(compact)
    match = _STATE_SERIES.match(compact)
    if not match:
        raise InvalidPlate(
            "That is not an Indian vehicle number. Use the form MH 12 AB 1234 "
            "(or 22 BH 1234 AA for Bharat series)."
        )
    if match["state"] not in STATE_CODES:
        raise InvalidPlate(f"{match['state']} is not an Indian state or union territory code.")
    if int(match["rto"]) == 0 or int(match["num"]) == 0:
        raise InvalidPlate("The RTO code and the number cannot be zero.")
    return f"{match['state']}{match['rto'].zfill(2)}{match['series']}{match['num'].zfill(4)}"


def _normalise_delhi(compact: str) -> str:
    match = _DELHI.match(compact)
    if not match:
        raise InvalidPlate(
            "That is not a Delhi vehicle number. Use the form DL 3C AB 1234: the district "
            "number with its vehicle-class letter, the series letters, then the number."
        )
    if int(match["rto"]) == 0 or int(match["num"]) == 0:
        raise InvalidPlate("The district code and the number cannot be zero.")
    return f"DL{int(match['rto'])}{match['vclass']}{match['series']}{match['num'].zfill(4)}"


def display_plate(canonical: str) -> str:
    """Spaced form for people: ``MH 12 AB 1234`` / ``DL 3C AB 0001`` / ``22 BH 1234 AA``."""
    bharat = _BHARAT_SERIES.match(canonical)
    if bharat:
        return f"{bharat['year']} BH {bharat['num']} {bharat['series']}"
    delhi = _DELHI.match(canonical)
    if delhi:
        parts = ["DL", f"{delhi['rto']}{delhi['vclass']}", delhi["series"], delhi["num"]]
        return " ".join(part for part in parts if part)
    match = _STATE_SERIES.match(canonical)
    if not match:
        return canonical
    parts = [match["state"], match["rto"], match["series"], match["num"]]
    return " ".join(part for part in parts if part)
