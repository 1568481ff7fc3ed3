"""Finding a lost ticket page again: the vehicle number plus the last four digits of a mobile.

A ticket belongs to the browser that created it (``ownership``). A driver whose phone lost
that page -- cleared cookies, another phone, a closed private tab -- proves it is their car
the way a car park's help desk would: the vehicle number and the last four digits of the
mobile number given at entry. Only those four digits are stored, never the whole number.

A stranger who reads the plate off the car does not know the digits, and cannot try them
all: after :data:`MAX_FAILURES` wrong tries the ticket can no longer be found this way and
the driver is sent to the attendant (who sees every ticket on the staff pages). A ticket
whose driver gave no mobile number cannot be found this way at all. Every failure reads
the same, so the form does not tell a stranger more than the entry page already does.
"""

from __future__ import annotations

import hmac
import re
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from . import services
from .models import HOLDING_STATES, Lot, ParkingSession
from .plates import normalise_plate

__all__ = [
    "MAX_FAILURES",
    "RECENT_EXIT",
    "InvalidPhone",
    "NotFound",
    "TooManyTries",
    "find",
    "last4",
    "park",
]

#: Wrong tries a ticket allows before only the attendant can find it.
MAX_FAILURES = 5
#: How long after paying a driver can still get the exit pass back.
RECENT_EXIT = timedelta(hours=6)

_MOBILE = re.compile(r"^(?:\+?91|0)?(?P<number>[6-9]\d{9})$")


class InvalidPhone(ValueError):
    """Not an Indian mobile number; the message says what is expected."""


class NotFound(Exception):
    """No ticket matches (the same answer whatever the reason)."""


class TooManyTries(Exception):
    """This ticket has seen too many wrong tries; the driver must ask the attendant."""


def last4(mobile: str) -> str:
    """The last four digits of an Indian mobile number, or :class:`InvalidPhone`."""
    compact = re.sub(r"[\s\-()]+", "", mobile or "")
    match = _MOBILE.match(compact)
    if not match:
        raise InvalidPhone("Enter a 10-digit Indian mobile number, e.g. 98765 43210.")
    return match["number"][-4:]


def park(lot: Lot, plate_text: str, *, mobile: str = "") -> ParkingSession:
    """Start a session and keep the mobile's last four digits with it, in one transaction."""
    digits = last4(mobile) if mobile.strip() else ""
    with transaction.atomic():
        session = services.start_session(lot, plate_text)
        if digits:
            ParkingSession.objects.filter(pk=session.pk).update(phone_last4=digits)
            session.phone_last4 = digits
    return session


def find(plate_text: str, digits: str) -> ParkingSession:
    """The driver's ticket for ``plate_text`` when ``digits`` are its mobile's last four.

    Raises ``InvalidPlate`` for a malformed plate, :class:`NotFound` for any mismatch and
    :class:`TooManyTries` once the ticket is locked. A wrong try is counted under a row lock.
    """
    plate = normalise_plate(plate_text)
    digits = (digits or "").strip()
    with transaction.atomic():
        session = (
            ParkingSession.objects.select_for_update()
            .filter(plate=plate)
            .filter(Q(state__in=HOLDING_STATES) | Q(exit_at__gte=timezone.now() - RECENT_EXIT))
            .order_by("-entry_at")
            .first()
        )
        if session is None:
            raise NotFound
        if session.find_failures >= MAX_FAILURES:
            raise TooManyTries
        if not session.phone_last4:
            raise NotFound
        matches = len(digits) == 4 and hmac.compare_digest(digits, session.phone_last4)
        if not matches:
            # Counted in this transaction, which commits: the raise comes after it.
            session.find_failures += 1
            ParkingSession.objects.filter(pk=session.pk).update(find_failures=session.find_failures)
    if not matches:
        raise TooManyTries if session.find_failures >= MAX_FAILURES else NotFound
    return session
