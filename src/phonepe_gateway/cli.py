"""The ``phonepe`` command.

Each subcommand lives beside the code it drives and is imported only when used, so
``phonepe --help`` stays fast and ``phonepe sandbox`` never imports Django.
"""

from __future__ import annotations

import importlib

import click

from ._version import __version__

#: subcommand -> "module:attribute" of a click command
_COMMANDS = {
    "sandbox": "phonepe_gateway.sandbox.cli:sandbox",
    "doctor": "phonepe_gateway.doctor.cli:doctor",
    "pay": "phonepe_gateway._cli_payments:pay",
    "status": "phonepe_gateway._cli_payments:status",
    "refund": "phonepe_gateway._cli_payments:refund",
    "serve": "phonepe_gateway.service.cli:serve",
    "manage": "phonepe_gateway.service.cli:manage",
}

_HELP = {
    "sandbox": "Run the local PhonePe sandbox (API, checkout page, webhooks, faults).",
    "doctor": "Diagnose connectivity and credentials; say exactly what to fix.",
    "pay": "Create a payment: checkout URL and QR, or a UPI link, UPI QR or collect request.",
    "status": "Show the gateway's status of an order.",
    "refund": "Refund (part of) a completed order.",
    "serve": "Run the standalone payments service.",
    "manage": "Run a management command of the payments service.",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = _COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, _, attr = target.partition(":")
        command = getattr(importlib.import_module(module_name), attr)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, _HELP[name]) for name in sorted(_COMMANDS)])


@click.group(cls=_LazyGroup)
@click.version_option(__version__, prog_name="phonepe")
def main() -> None:
    """PhonePe payments: client, local sandbox, doctor and payments service."""
