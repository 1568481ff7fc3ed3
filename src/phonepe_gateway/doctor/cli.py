"""``phonepe doctor``: run the diagnostics and print a verdict table with remedies.

Exit status 0 when no check failed (warnings are advisory and pass), 1 otherwise, so
``phonepe doctor || page-someone`` works in deploy scripts. ``--json`` prints
:meth:`Report.to_dict` (the shape docs/OPERATIONS.md documents). The output never
contains a secret (the report is already scrubbed).
"""

from __future__ import annotations

import json
from typing import IO

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .report import Report, diagnose

__all__ = ["doctor", "print_report"]

_STYLE = {"ok": "[green]ok[/]", "warn": "[yellow]warn[/]", "fail": "[bold red]FAIL[/]"}


def print_report(report: Report, file: IO[str] | None = None) -> None:
    """The human view: one row per check, then the remedies, then one summary line."""
    console = Console(file=file, highlight=False, soft_wrap=False)
    if not console.is_terminal:
        console.width = max(console.width, 140)  # logs and pipes: fewer wrapped lines
    table = Table(title="phonepe doctor", title_justify="left", expand=False)
    table.add_column("result", no_wrap=True)
    table.add_column("check")
    table.add_column("category", no_wrap=True)
    table.add_column("detail")
    table.add_column("ms", justify="right", no_wrap=True)
    for check in report.checks:
        category = "" if check.status == "ok" else check.category.value
        table.add_row(
            _STYLE[check.status],
            escape(check.name),
            category,
            escape(check.detail),
            f"{check.elapsed_ms:.0f}",
        )
    console.print(table)
    advice = [c for c in report.checks if c.status != "ok" and c.remedy]
    if advice:
        console.print("\n[bold]What to do[/]")
        for number, check in enumerate(advice, 1):
            console.print(
                f"{number}. [bold]{escape(check.name)}[/] ({check.category.value}): "
                f"{escape(check.remedy)}"
            )
    console.print("\n" + _summary(report))


def _summary(report: Report) -> str:
    counts = {s: sum(c.status == s for c in report.checks) for s in ("ok", "warn", "fail")}
    ms = report.elapsed_ms
    took = f"in {ms:.0f} ms" if ms < 1000 else f"in {ms / 1000:.1f} s"
    if counts["fail"]:
        return (
            f"[bold red]{counts['fail']} failed[/], {_plural(counts['warn'], 'warning')}, "
            f"{counts['ok']} ok {took}: payments through PhonePe will fail from this machine."
        )
    if counts["warn"]:
        warnings = _plural(counts["warn"], "warning")
        return f"[yellow]{warnings}[/], {counts['ok']} ok {took}: working, but see above."
    return f"[green]All {counts['ok']} checks passed[/] {took}."


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


@click.command("doctor")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--base-url",
    "base_urls",
    multiple=True,
    metavar="URL",
    help="Check this endpoint instead of the configured ones (repeatable).",
)
@click.pass_context
def doctor(ctx: click.Context, as_json: bool, base_urls: tuple[str, ...]) -> None:
    """Diagnose connectivity and credentials; say exactly what to fix.

    Reads the same PHONEPE_* variables as the client. Exit status 0 when every
    check passes (warnings pass), 1 otherwise.
    """
    report = diagnose(base_urls=base_urls)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
    else:
        print_report(report)
    ctx.exit(0 if report.ok else 1)
