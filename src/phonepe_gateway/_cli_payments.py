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
from ._instruments import Instrument, UpiCollect, UpiIntent, UpiQr

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
    """``url`` as a QR code in terminal block characters (segno: pure Python, no imaging
    dependency, already this package's QR library)."""
    import segno

    out = io.StringIO()
    segno.make(url, error="l").terminal(out=out, compact=True, border=2)
    return out.getvalue()


def _instrument(
    upi_intent: bool, upi_qr: bool, collect: str | None, target_app: str | None, message: str | None
) -> Instrument | None:
    """The instrument the flags name (at most one), or None for the hosted page."""
    flags = {"--upi-intent": upi_intent, "--upi-qr": upi_qr, "--collect": collect is not None}
    chosen = [name for name, on in flags.items() if on]
    if len(chosen) > 1:
        raise click.UsageError(f"Choose one way to pay, not {' and '.join(chosen)}.")
    if target_app is not None and not upi_intent:
        raise click.UsageError("--target-app goes with --upi-intent.")
    if message is not None and collect is None:
        raise click.UsageError("--message goes with --collect.")
    try:
        if upi_intent:
            return UpiIntent(target_app=target_app)
        if upi_qr:
            return UpiQr()
        if collect is not None:
            if collect.isdigit():
                return UpiCollect(phone=collect, message=message)
            return UpiCollect(vpa=collect, message=message)
    except PhonePeError as exc:
        _fail(exc)
    return None


@click.command()
@click.option("--amount", type=int, required=True, help="Amount in paise (₹1 = 100).")
@click.option(
    "--order-id", "order_id", default=None, help="Merchant order id (generated if omitted)."
)
@click.option("--redirect-url", default=None, help="Where the checkout page returns the customer.")
@click.option(
    "--upi-intent", is_flag=True, help="Custom checkout: print a upi://pay link for a UPI app."
)
@click.option("--upi-qr", is_flag=True, help="Custom checkout: draw the UPI QR code to scan.")
@click.option(
    "--collect",
    metavar="VPA",
    default=None,
    help="Custom checkout: send a collect request to a VPA (name@bank) or a mobile number.",
)
@click.option("--target-app", default=None, help="With --upi-intent: the UPI app's package name.")
@click.option("--message", default=None, help="With --collect: the note the customer sees.")
@click.option("--expire-after", type=int, default=None, help="Seconds until the order expires.")
@click.option("--no-qr", is_flag=True, help="Do not print the QR code.")
def pay(
    amount: int,
    order_id: str | None,
    redirect_url: str | None,
    upi_intent: bool,
    upi_qr: bool,
    collect: str | None,
    target_app: str | None,
    message: str | None,
    expire_after: int | None,
    no_qr: bool,
) -> None:
    """Create a payment and print how to pay it.

    By default PhonePe's hosted page: its URL and a QR code of it. With --upi-intent the
    upi://pay link that opens a UPI app; with --upi-qr the UPI QR code itself, drawn in
    the terminal (any UPI app scans it); with --collect a request to the customer's VPA.
    """
    instrument = _instrument(upi_intent, upi_qr, collect, target_app, message)
    result = _run(
        lambda c: c.create_payment(
            amount=amount,
            merchant_order_id=order_id,
            redirect_url=redirect_url,
            expire_after=expire_after,
            instrument=instrument,
        )
    )
    _line("merchant order id", result.merchant_order_id)
    _line("order id", result.order_id)
    _line("state", result.state)
    _line("amount", f"{amount} paise (₹{amount / 100:.2f})")
    _line("expires at", result.expire_at.isoformat() if result.expire_at else None)
    if instrument is None:
        _line("checkout url", result.redirect_url)
        if result.redirect_url and not no_qr:
            click.echo(_qr(result.redirect_url), nl=False)
        return
    _line("instrument", result.instrument)
    _line("intent url", result.intent_url)
    _line("qr data", result.qr_data)
    _line("bank page", result.redirect_url)
    if isinstance(instrument, UpiCollect):
        to = instrument.vpa or instrument.phone
        click.echo(f"Collect request sent to {to}: approve it in that UPI app.")
    elif isinstance(instrument, UpiQr):
        if result.qr_data and not no_qr:
            click.echo(_qr(result.qr_data), nl=False)
        elif not result.qr_data:
            click.echo("The gateway sent no QR data (an answer recovered after a lost reply).")
    elif not result.intent_url:
        click.echo("The gateway sent no intent link (an answer recovered after a lost reply).")
    click.echo(f"Follow it with: phonepe status {result.merchant_order_id}")


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
