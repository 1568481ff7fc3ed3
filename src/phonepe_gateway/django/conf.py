"""Settings and the process-wide client of the Django app: the one place that reads ``PHONEPE``.

``settings.PHONEPE`` (a dict of lower-case option names) wins over ``PHONEPE_*``
environment variables. Options the core :class:`~phonepe_gateway.Settings` does not
know but this app does (see :data:`APP_DEFAULTS`) are read with :func:`app_setting`.
Every :class:`CallEvent` of the shared client is re-sent as the ``gateway_call`` signal.
The settings and the client built from them are read once and forgotten when Django's
``setting_changed`` names ``PHONEPE`` (``override_settings``, pytest-django's ``settings``),
so nothing has to reset them by hand. This module never logs a secret and never changes
the ledger's states.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import TYPE_CHECKING, Any

from django.conf import settings as django_settings
from django.core.signals import setting_changed
from django.db import DatabaseError, connection, transaction
from django.dispatch import receiver

from phonepe_gateway import CallEvent, Settings

from . import signals

if TYPE_CHECKING:
    from phonepe_gateway import PhonePeClient

__all__ = [
    "APP_DEFAULTS",
    "app_setting",
    "get_client",
    "get_settings",
    "on_call_event",
    "reset_client",
    "set_client",
]

logger = logging.getLogger("phonepe_gateway.django")

#: Options of the Django app itself (not of the core client), with their defaults.
APP_DEFAULTS: dict[str, Any] = {
    # dotted path to ``callable(request) -> bool`` guarding the REST API (django-api)
    "api_permission": None,
    # API keys of the standalone service (django-api)
    "service_api_keys": None,
    # one GatewayCallLog row per finished gateway call: True (inserted at once), "batched"
    # (queued, inserted in batches off the request path: see calllog.py), False (none)
    "call_log": True,
    # callback URL sent with pay/refund calls (generation 1 uses it; generation 2 ignores it)
    "callback_url": None,
    # default redirect after checkout when create_payment gets none
    "redirect_url": None,
    # payment link lifetime in seconds (PhonePe: 300-3600, default 1200)
    "expire_after": None,
    # largest webhook body accepted, bytes
    "webhook_max_bytes": 64 * 1024,
    # seconds after expiry before the reconciler asks the gateway one last time
    "expiry_grace": 120,
    # seconds between reconciler passes when nothing was due
    "reconcile_interval": 1.0,
    # how many due rows one reconciler pass claims
    "reconcile_batch": 100,
    # seconds a reconciler worker owns a claimed row before another may take it
    "reconcile_lease": 60,
    # run the reconciler inside ``phonepe serve`` (django-api)
    "reconciler": True,
    # seconds before an Idempotency-Key left in progress by a dead worker is taken over
    "idempotency_stale": 120,
    # seconds an Idempotency-Key's stored answer is kept (then purged; Stripe: 24 h)
    "idempotency_retention": 24 * 3600,
    # seconds a processed webhook event is kept in the inbox (unprocessed ones never go)
    "inbox_retention": 30 * 24 * 3600,
    # seconds a gateway call log row is kept
    "call_log_retention": 7 * 24 * 3600,
    # seconds between the reconciler's purges of the three above
    "purge_interval": 600,
    # refund a second completed payment for an already-paid ``reference`` automatically
    "refund_duplicates": False,
    # -- UPI AutoPay (subscriptions.py, debits.py) --
    # seconds before a period falls due that its pre-debit notice is sent
    "debit_notify_ahead": 25 * 3600,
    # least seconds between a notice and its redemption (PhonePe: 24 h; plus a margin
    # for the notification to reach the customer, from when PhonePe counts)
    "debit_notice_min": 24 * 3600 + 600,
    # debits tried per period (the first and its retries) before the period is given up
    "debit_max_attempts": 3,
    # seconds after a FAILED debit before the next attempt's notice is sent
    "debit_retry_after": 24 * 3600,
    # seconds between status checks of a live mandate with nothing due (pause, revoke)
    "subscription_check_interval": 3600,
}

_lock = threading.RLock()  # get_client() reads the settings under it
_settings: Settings | None = None
_client: PhonePeClient | None = None
_owned = False  # whether the client was built here from the settings (False for set_client's)


def _options() -> dict[str, Any]:
    raw = getattr(django_settings, "PHONEPE", None) or {}
    return {str(k).lower(): v for k, v in dict(raw).items()}


def app_setting(name: str) -> Any:
    """An option of the Django app: ``PHONEPE[name]``, else a plain-valued option's
    ``PHONEPE_<NAME>`` environment variable, else its default from APP_DEFAULTS."""
    options = _options()
    if name in options:
        return options[name]
    default = APP_DEFAULTS[name]
    raw = os.environ.get("PHONEPE_" + name.upper(), "").strip()
    if not raw or not isinstance(default, (bool, int, float)):
        return default
    if isinstance(default, bool):
        return raw.lower() in ("1", "true", "yes", "on")
    try:
        return type(default)(float(raw)) if isinstance(default, int) else float(raw)
    except ValueError:
        logger.warning("ignoring PHONEPE_%s=%r: not a number", name.upper(), raw)
        return default


def get_settings() -> Settings:
    """The core client's :class:`Settings`: ``PHONEPE`` dict over ``PHONEPE_*`` variables.

    Read once; a change of ``settings.PHONEPE`` (or :func:`reset_client`) reads them again.
    Raises :class:`~phonepe_gateway.ConfigurationError` for an unknown or invalid option
    (and caches nothing then).
    """
    global _settings
    cached = _settings
    if cached is not None:
        return cached
    options = {k: v for k, v in _options().items() if k not in APP_DEFAULTS}
    fresh = Settings.from_env(**options)
    with _lock:
        if _settings is None:
            _settings = fresh
        return _settings


def _record_call(event: CallEvent) -> None:
    signals.emit(signals.gateway_call, sender=None, event=event)
    mode = app_setting("call_log")
    if not event.final or not mode:
        return
    row = {
        "call": event.call[:32],
        "endpoint": event.endpoint[:255],
        "status": event.status,
        "outcome": event.outcome[:32],
        "category": (event.category.value if event.category else "")[:32],
        "duration_ms": event.duration * 1000.0,
        "attempt": event.attempt,
    }
    if mode == "batched":
        from .calllog import writer

        writer.add(row)
        return

    def insert() -> None:
        from .models import GatewayCallLog

        try:
            GatewayCallLog.objects.create(**row)
        except DatabaseError:  # the log is best effort; never fail a payment for it
            logger.warning("could not write the gateway call log", exc_info=True)

    if connection.in_atomic_block:
        transaction.on_commit(insert)
    else:
        insert()


def on_call_event(event: CallEvent) -> None:
    """The client `on_event` hook: re-send as `gateway_call`, write the call log. Never raises."""
    try:
        _record_call(event)
    except Exception:  # an observer must never break a gateway call
        logger.exception("gateway_call receiver failed")


def get_client() -> PhonePeClient:
    """The process-wide :class:`PhonePeClient`, built on first use (thread-safe)."""
    global _client, _owned
    client = _client
    if client is not None:
        return client
    with _lock:
        if _client is None:
            from phonepe_gateway import PhonePeClient

            _client = PhonePeClient(get_settings(), on_event=on_call_event)
            _owned = True
        return _client


def set_client(client: Any) -> None:
    """Use ``client`` as the process-wide client (tests and hosts with a custom transport).

    The caller keeps ownership: :func:`reset_client` forgets it without closing it.
    """
    global _client, _owned
    with _lock:
        _client, _owned = client, False


def reset_client() -> None:
    """Close and forget the process-wide client and the settings it was built from; the
    next :func:`get_client` reads the settings again and builds a new client."""
    _forget(keep_installed=False)


def _forget(*, keep_installed: bool) -> None:
    global _settings, _client, _owned
    with _lock:
        _settings = None
        if keep_installed and not _owned:
            return  # a client installed with set_client was not built from the settings
        client, owned, _client, _owned = _client, _owned, None, False
    if client is not None and owned:
        try:
            client.close()
        except Exception:
            logger.warning("closing the PhonePe client failed", exc_info=True)


@receiver(setting_changed, dispatch_uid="phonepe_gateway.django.conf.settings_changed")
def _settings_changed(sender: Any, setting: str, **kwargs: Any) -> None:
    """``settings.PHONEPE`` changed: what was built from it is stale."""
    if setting == "PHONEPE":
        _forget(keep_installed=True)
