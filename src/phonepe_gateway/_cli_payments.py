"""``phonepe pay``, ``phonepe status`` and ``phonepe refund``: the client from a terminal.

Settings come from the ``PHONEPE_*`` environment (default: the local sandbox).
Failures print one clear line on stderr and exit with status 1, never a traceback;
secrets are never printed (errors are already free of them).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn, TypeVar

import click

from ._client import PhonePeClient
from ._errors import PhonePeError, TransportError

__all__ = ["pay", "refund", "status"]

T = TypeVar("T")


@contextmanager
def _client() -> Iterator[PhonePeClient]:
    try:
        client = PhonePeClient.from_env()
    except PhonePeError as exc:
        _fail(exc)
    with client:
        yield client


def _fail(exc: PhonePeError) -> NoReturn:
    prefix = "error"
    if isinstance(exc, TransportError):
        prefix = f"error [{exc.category.value}]"
    click.echo(f"{prefix}: {exc.message}", err=True)
    raise SystemExit(1)


def _run(action: Callable[[PhonePeClient], T]) -> T:
    with _client() as client:
        try:
            return action(client)
        except PhonePeError as exc:
            _fail(exc)


def _line(label: str, value: Any) -> None:
    if value is not None and value != "":
        click.echo(f"{label:<20}{value}")


def _qr(url: str) -> str:
    import segno

    out = io.StringIO()
    segno.make(url, error="l").terminal(out=out, compact=True, border=2)
    return out.getvalue()


@click.command()
@click.option("--amount", type=int, required=True, help="Amount in paise (₹1 = 100).")
@click.option(
    "--order-id", "order_id", default=None, help="Merchant order id (generated if omitted)."
)
@click.option("--redirect-url", default=None, help="Where the checkout page returns the customer.")
@click.option("--no-qr", is_flag=True, help="Do not print the QR code.")
def pay(amount: int, order_id: str | None, redirect_url: str | None, no_qr: bool) -> None:
    """Create a payment; print its checkout URL and a QR code of it."""
    result = _run(
        lambda c: c.create_payment(
            amount=amount, merchant_order_id=order_id, redirect_url=redirect_url
        )
    )
    _line("merchant order id", result.merchant_order_id)
    _line("order id", result.order_id)
    _line("state", result.state)
    _line("amount", f"{amount} paise (₹{amount / 100:.2f})")
    _line("expires at", result.expire_at.isoformat() if result.expire_at else None)
    _line("checkout url", result.redirect_url)
    if result.redirect_url and not no_qr:
        click.echo(_qr(result.redirect_url), nl=False)


@click.command()
@click.argument("order_id")
@click.option("--details", is_flag=True, help="Include every payment attempt.")
def status(order_id: str, details: bool) -> None:
    """Show the gateway's status of an order."""
    result = _run(lambda c: c.get_order_status(order_id, details=details))
    _line("merchant order id", result.merchant_order_id)
    _line("order id", result.order_id)
    _line("state", result.state)
    _line("amount", f"{result.amount} paise" if result.amount is not None else None)
    _line("error code", result.error_code)
    for detail in result.payment_details:
        when = detail.timestamp.isoformat() if detail.timestamp else "-"
        click.echo(
            f"  attempt {detail.transaction_id or '-'}: {detail.state or '-'} "
            f"{detail.payment_mode or '-'} {detail.amount if detail.amount is not None else '-'} "
            f"paise at {when}" + (f" ({detail.error_code})" if detail.error_code else "")
        )


@click.command()
@click.argument("order_id")
@click.option("--amount", type=int, required=True, help="Amount to refund in paise.")
@click.option(
    "--refund-id", "refund_id", default=None, help="Merchant refund id (generated if omitted)."
)
def refund(order_id: str, amount: int, refund_id: str | None) -> None:
    """Refund (part of) a completed order."""
    result = _run(
        lambda c: c.refund(
            original_merchant_order_id=order_id, amount=amount, merchant_refund_id=refund_id
        )
    )
    _line("merchant refund id", result.merchant_refund_id)
    _line("refund id", result.refund_id)
    _line("state", result.state)
    _line("amount", f"{result.amount} paise" if result.amount is not None else None)
