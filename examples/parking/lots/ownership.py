"""Which parking sessions this browser may see and pay: its own, remembered in its session.

A foreign session id gets a 404, never someone else's ticket. The payment return link
carries a signed token, so the phone that completes the checkout may claim the ticket.
"""

from __future__ import annotations

from django.core import signing
from django.http import Http404, HttpRequest

from .models import ParkingSession

_KEY = "parking_sessions"
_SALT = "lots.return-link"


def remember(request: HttpRequest, session: ParkingSession) -> None:
    owned = [pk for pk in request.session.get(_KEY, []) if pk != session.pk]
    request.session[_KEY] = [session.pk, *owned][:20]


def owned_ids(request: HttpRequest) -> list[int]:
    return [int(pk) for pk in request.session.get(_KEY, [])]


def get_owned(request: HttpRequest, pk: int) -> ParkingSession:
    if pk not in owned_ids(request):
        raise Http404("No such parking ticket in this browser.")
    try:
        return ParkingSession.objects.select_related("lot", "bay").get(pk=pk)
    except ParkingSession.DoesNotExist as exc:
        raise Http404("No such parking ticket.") from exc


def return_token(session: ParkingSession) -> str:
    return signing.dumps(session.pk, salt=_SALT, compress=False)


def claim(request: HttpRequest, pk: int, token: str) -> bool:
    """Adopt ticket ``pk`` when ``token`` was signed for it (valid for two days)."""
    try:
        signed_pk = signing.loads(token, salt=_SALT, max_age=2 * 24 * 3600)
    except signing.BadSignature:
        return False
    if signed_pk != pk:
        return False
    session = ParkingSession.objects.filter(pk=pk).first()
    if session is None:
        return False
    remember(request, session)
    return True


_PASS_PREFIX = "SMARTPARK-EXIT:"
_PASS_SALT = "lots.exit-pass"


def exit_pass_code(session: ParkingSession) -> str:
    """What the exit pass QR encodes: the session id, signed so the gate can trust it."""
    return signing.Signer(salt=_PASS_SALT).sign(f"{_PASS_PREFIX}{session.pk}")


def session_from_pass(code: str) -> ParkingSession | None:
    """The session an exit pass names, or None when the code is forged or malformed."""
    try:
        value = signing.Signer(salt=_PASS_SALT).unsign(code.strip())
    except signing.BadSignature:
        return None
    if not value.startswith(_PASS_PREFIX) or not value[len(_PASS_PREFIX) :].isdigit():
        return None
    return (
        ParkingSession.objects.select_related("lot", "bay")
        .filter(pk=int(value[len(_PASS_PREFIX) :]))
        .first()
    )
