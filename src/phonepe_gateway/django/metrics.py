"""Prometheus metrics: exactly what the operators asked to watch, fed by the app's signals.

* initiation success rate   ``phonepe_payment_initiations_total{outcome}`` (final create attempt)
* connection-error rate     ``phonepe_gateway_connection_errors_total{call,category}`` over
                            ``phonepe_gateway_calls_total{call,endpoint,outcome}``
* gateway latency           ``phonepe_gateway_call_duration_seconds{endpoint,call}`` (histogram)
* retries, retry success    ``phonepe_gateway_retries_total{call}``, ``..._retry_successes_total``
* webhooks by outcome       ``phonepe_webhooks_total{outcome}`` (``webhook_received`` signal)
* reconciliation lag        ``phonepe_reconciliation_lag_seconds{kind}`` (how late each check
                            ran), ``phonepe_reconciliation_overdue_seconds{kind}`` (oldest due
                            check, at scrape), ``phonepe_payment_resolution_seconds``
* payments by state         ``phonepe_payments{state}``, ``phonepe_refunds{state}`` (at scrape)
* UPI AutoPay               ``phonepe_subscription_debits_total{outcome}`` (completed, failed,
                            failed_final: no retry follows), ``phonepe_subscriptions{state}``
                            and ``phonepe_debits_overdue_seconds`` (oldest due debit not yet
                            redeemed, at scrape)

The by-state gauges are computed when Prometheus scrapes, with one grouped ``COUNT`` per
table, so they are right in every worker process. Receivers never raise: a metrics bug
must not break a payment. Labels never carry ids, amounts or secrets (bounded cardinality).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from typing import Any

from django.db import DatabaseError
from django.db.models import Count
from django.dispatch import receiver
from django.utils import timezone
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from . import signals
from .models import Payment, Refund, Subscription

__all__ = ["CONTENT_TYPE_LATEST", "LedgerCollector", "SubscriptionCollector", "render"]

logger = logging.getLogger("phonepe_gateway.metrics")

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

GATEWAY_CALLS = Counter(
    "phonepe_gateway_calls",
    "Gateway call attempts by call, endpoint and outcome.",
    ["call", "endpoint", "outcome"],
)
GATEWAY_LATENCY = Histogram(
    "phonepe_gateway_call_duration_seconds",
    "Duration of one gateway call attempt.",
    ["endpoint", "call"],
    buckets=_LATENCY_BUCKETS,
)
CONNECTION_ERRORS = Counter(
    "phonepe_gateway_connection_errors",
    "Gateway call attempts that failed in the network, by category.",
    ["call", "category"],
)
RETRIES = Counter("phonepe_gateway_retries", "Gateway call attempts after the first.", ["call"])
RETRY_SUCCESSES = Counter(
    "phonepe_gateway_retry_successes", "Retried gateway calls that then succeeded.", ["call"]
)
INITIATIONS = Counter(
    "phonepe_payment_initiations",
    "Order-creating calls (hosted page, custom checkout, SDK order) by final outcome "
    "(ok / gateway_error / transport_error / ...).",
    ["outcome"],
)
WEBHOOKS = Counter(
    "phonepe_webhooks",
    "Webhook deliveries by outcome (accepted, duplicate, unauthenticated, malformed, "
    "too_large, unavailable, error).",
    ["outcome"],
)
TRANSITIONS = Counter(
    "phonepe_final_states",
    "Payments and refunds reaching a final state (from the app's signals).",
    ["kind", "state"],
)
RECONCILE_LAG = Histogram(
    "phonepe_reconciliation_lag_seconds",
    "How long after it was due the reconciler checked a payment or refund.",
    ["kind"],
    buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900),
)
RESOLUTION = Histogram(
    "phonepe_payment_resolution_seconds",
    "Time from storing a payment to its final state.",
    ["state"],
    buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1200, 3600, 86400),
)

_TERMINAL = ("COMPLETED", "FAILED")


#: The client's calls that create an order: hosted page, custom checkout, SDK order.
_CREATE_CALLS = frozenset({"create_payment", "custom_payment", "create_sdk_order"})


@receiver(signals.gateway_call, dispatch_uid="phonepe_metrics_gateway_call")
def _on_gateway_call(sender: Any, event: Any, **kwargs: Any) -> None:
    try:
        call, endpoint, outcome = str(event.call), str(event.endpoint), str(event.outcome)
        GATEWAY_CALLS.labels(call, endpoint, outcome).inc()
        if event.duration is not None and outcome != "skipped_open_circuit":
            GATEWAY_LATENCY.labels(endpoint, call).observe(float(event.duration))
        if outcome == "transport_error":
            CONNECTION_ERRORS.labels(call, str(event.category or "UNKNOWN")).inc()
        if event.attempt > 1:
            RETRIES.labels(call).inc()
            if outcome == "ok":
                RETRY_SUCCESSES.labels(call).inc()
        if call in _CREATE_CALLS and event.final:
            INITIATIONS.labels(outcome).inc()
    except Exception:  # a metrics bug must never break a payment
        logger.exception("could not record a gateway call metric")


def _final_state(kind: str, state: str, obj: Any) -> None:
    try:
        TRANSITIONS.labels(kind, state).inc()
        created = getattr(obj, "created_at", None)
        if kind == "payment" and created is not None:
            RESOLUTION.labels(state).observe(max(0.0, (timezone.now() - created).total_seconds()))
    except Exception:
        logger.exception("could not record a final-state metric")


@receiver(signals.payment_completed, dispatch_uid="phonepe_metrics_payment_completed")
def _on_payment_completed(sender: Any, payment: Any = None, **kwargs: Any) -> None:
    _final_state("payment", "COMPLETED", payment)


@receiver(signals.payment_failed, dispatch_uid="phonepe_metrics_payment_failed")
def _on_payment_failed(sender: Any, payment: Any = None, **kwargs: Any) -> None:
    _final_state("payment", "FAILED", payment)


@receiver(signals.refund_completed, dispatch_uid="phonepe_metrics_refund_completed")
def _on_refund_completed(sender: Any, refund: Any = None, **kwargs: Any) -> None:
    _final_state("refund", "COMPLETED", refund)


@receiver(signals.refund_failed, dispatch_uid="phonepe_metrics_refund_failed")
def _on_refund_failed(sender: Any, refund: Any = None, **kwargs: Any) -> None:
    _final_state("refund", "FAILED", refund)


@receiver(signals.webhook_received, dispatch_uid="phonepe_metrics_webhook_received")
def _on_webhook_received(sender: Any, outcome: str = "unknown", **kwargs: Any) -> None:
    WEBHOOKS.labels(str(outcome)).inc()


@receiver(signals.reconcile_checked, dispatch_uid="phonepe_metrics_reconcile_checked")
def _on_reconcile_checked(sender: Any, lag: float | None = None, **kwargs: Any) -> None:
    try:
        kind = "refund" if sender is Refund else "payment"
        RECONCILE_LAG.labels(kind).observe(max(0.0, float(lag or 0.0)))
    except Exception:
        logger.exception("could not record a reconciliation metric")


class LedgerCollector(Collector):
    """Payments/refunds by state and reconciliation lag, read from the database at scrape."""

    def describe(self) -> list[Metric]:
        # Describing without querying: registration happens at app start, before migrations.
        return list(self._families())

    def collect(self) -> Iterator[Metric]:
        try:
            yield from self._families(query=True)
        except DatabaseError:
            logger.warning("metrics: the database is unavailable; ledger gauges skipped")

    def _families(self, *, query: bool = False) -> Iterator[GaugeMetricFamily]:
        now = timezone.now()
        for kind, model in (("payments", Payment), ("refunds", Refund)):
            states = GaugeMetricFamily(
                f"phonepe_{kind}", f"{kind.capitalize()} in the ledger by state.", labels=["state"]
            )
            if query:
                rows = model.objects.order_by().values_list("state").annotate(n=Count("pk"))
                for state, n in rows:
                    states.add_metric([str(state)], float(n))
            yield states
        lag = GaugeMetricFamily(
            "phonepe_reconciliation_overdue_seconds",
            "How far the reconciler is behind: now minus the oldest due check of an "
            "unfinished payment or refund (0 when nothing is overdue).",
            labels=["kind"],
        )
        if query:
            for kind, model in (("payment", Payment), ("refund", Refund)):
                oldest = (
                    model.objects.exclude(state__in=_TERMINAL)
                    .filter(next_check_at__lte=now)
                    .order_by("next_check_at")
                    .values_list("next_check_at", flat=True)
                    .first()
                )
                lag.add_metric([kind], max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)
        yield lag


# -- UPI AutoPay ------------------------------------------------------------------------------

DEBITS = Counter(
    "phonepe_subscription_debits",
    "AutoPay debits by outcome (completed, failed, failed_final: no retry follows).",
    ["outcome"],
)


@receiver(signals.debit_completed, dispatch_uid="phonepe_metrics_debit_completed")
def _on_debit_completed(sender: Any, **kwargs: Any) -> None:
    DEBITS.labels("completed").inc()


@receiver(signals.debit_failed, dispatch_uid="phonepe_metrics_debit_failed")
def _on_debit_failed(sender: Any, final: bool = False, **kwargs: Any) -> None:
    DEBITS.labels("failed_final" if final else "failed").inc()


class SubscriptionCollector(Collector):
    """Mandates by state and how late the oldest due debit is, read at scrape."""

    def describe(self) -> list[Metric]:
        return list(self._families())

    def collect(self) -> Iterator[Metric]:
        try:
            yield from self._families(query=True)
        except DatabaseError:
            logger.warning("metrics: the database is unavailable; subscription gauges skipped")

    def _families(self, *, query: bool = False) -> Iterator[GaugeMetricFamily]:
        by_state = GaugeMetricFamily(
            "phonepe_subscriptions", "AutoPay mandates in the ledger by state.", labels=["state"]
        )
        overdue = GaugeMetricFamily(
            "phonepe_debits_overdue_seconds",
            "Now minus the due time of the oldest notified debit not yet redeemed "
            "(0 when none is overdue).",
        )
        if query:
            rows = Subscription.objects.order_by().values_list("state").annotate(n=Count("pk"))
            for state, n in rows:
                by_state.add_metric([str(state)], float(n))
            now = timezone.now()
            oldest = (
                Payment.objects.filter(
                    subscription__isnull=False,
                    state="PENDING",
                    redeem_sent_at__isnull=True,
                    debit_due_at__lte=now,
                )
                .order_by("debit_due_at")
                .values_list("debit_due_at", flat=True)
                .first()
            )
            overdue.add_metric([], max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)
        yield by_state
        yield overdue


def _registry() -> CollectorRegistry:
    """The default registry, or a multiprocess view when gunicorn runs several workers."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        registry.register(_LEDGER)
        registry.register(_SUBSCRIPTIONS)
        return registry
    return REGISTRY


def render() -> bytes:
    """The exposition text for ``GET /metrics``."""
    return generate_latest(_registry())


_LEDGER = LedgerCollector()
_SUBSCRIPTIONS = SubscriptionCollector()
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    REGISTRY.register(_LEDGER)
    REGISTRY.register(_SUBSCRIPTIONS)
