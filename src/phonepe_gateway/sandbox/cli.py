"""``phonepe sandbox``: run the local PhonePe sandbox with uvicorn and print how to use it.

The built-in test credentials are public (docs/SANDBOX.md lists them) and printed in full;
credentials given on the command line are the user's own and are printed masked.
Only this module parses command-line options; it never imports Django or the client.
"""

from __future__ import annotations

import click

from .._config import SANDBOX_CREDENTIALS, mask
from .config import UAT_MERCHANT_ID, UAT_SALT_KEY, SandboxConfig

__all__ = ["banner", "sandbox"]


def _shown(value: str, default: str) -> str:
    return value if value == default else mask(value)


def banner(config: SandboxConfig, url: str) -> str:
    """What ``phonepe sandbox`` prints at start: URLs and credentials."""
    creds = SANDBOX_CREDENTIALS
    lines = [
        f"PhonePe sandbox listening on {url}",
        "",
        "  API base URL (both generations, like PhonePe UAT):",
        f"    {url}/apis/pg-sandbox",
        (
            "    every API also under /apis/pg, /apis/identity-manager, /apis/hermes (lenient)"
            if config.lenient_hosts
            else "    production prefixes, mapped as PhonePe maps them: /apis/identity-manager "
            "(token),\n    /apis/pg (generation 2), /apis/hermes (generation 1)"
        ),
        f"  Control API:  {url}/_sandbox   (orders, faults, webhooks, clock, reset)",
        f"  Checkout:     {url}/transact/<orderId>   (the redirectUrl of a pay call)",
        f"  AutoPay:      {url}/upi-app/mandates   (the customer's mandates in the UPI app)",
        "",
        "  Generation 2 (OAuth):",
        f"    client id       {config.client_id}",
        f"    client secret   {_shown(config.client_secret, creds['client_secret'])}",
        f"    client version  {config.client_version}",
        "  Generation 1 (X-VERIFY):",
        f"    merchant id     {config.merchant_id}",
        f"    salt key        {_shown(config.salt_key, creds['salt_key'])}",
        f"    salt index      {config.salt_index}",
    ]
    if config.accept_uat_merchant:
        lines.append(f"    also accepted   {UAT_MERCHANT_ID} / {UAT_SALT_KEY} / 1")
    lines += [
        "  Webhooks:",
        f"    url             {config.webhook_url or '(none: PUT /_sandbox/webhooks/config)'}",
        f"    username        {config.webhook_username}",
        f"    password        {_shown(config.webhook_password, creds['webhook_password'])}",
        "",
        f"  Clock speed x{config.clock_speed:g}, token ttl {config.token_ttl:g}s, "
        f"refund settlement {config.refund_settlement_delay:g}s"
        + (f", seed {config.seed}" if config.seed is not None else ""),
        "",
        "  Environment for this project's client:",
        f"    PHONEPE_ENV=local PHONEPE_LOCAL_URL={url}",
    ]
    return "\n".join(lines)


@click.command(help="Run the local PhonePe sandbox (API, checkout page, webhooks, faults).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8300, show_default=True, type=int)
@click.option("--webhook-url", default=None, help="Where webhooks are POSTed.")
@click.option("--webhook-username", default=SANDBOX_CREDENTIALS["webhook_username"])
@click.option("--webhook-password", default=SANDBOX_CREDENTIALS["webhook_password"])
@click.option(
    "--clock-speed",
    default=1.0,
    show_default=True,
    type=float,
    help="Sandbox seconds per real second.",
)
@click.option("--seed", default=None, type=int, help="Make ids and fault dice repeatable.")
@click.option(
    "--token-ttl",
    default=3600.0,
    show_default=True,
    type=float,
    help="OAuth token lifetime in sandbox seconds.",
)
@click.option(
    "--refund-settlement-delay",
    default=5.0,
    show_default=True,
    type=float,
    help="Sandbox seconds until a refund is COMPLETED.",
)
@click.option("--client-id", default=SANDBOX_CREDENTIALS["client_id"])
@click.option("--client-secret", default=SANDBOX_CREDENTIALS["client_secret"])
@click.option("--merchant-id", default=SANDBOX_CREDENTIALS["merchant_id"])
@click.option("--salt-key", default=SANDBOX_CREDENTIALS["salt_key"])
@click.option(
    "--public-url",
    default=None,
    help="Base URL for checkout links (default: the host the request came to).",
)
@click.option(
    "--lenient-hosts",
    is_flag=True,
    envvar="PHONEPE_SANDBOX_LENIENT_HOSTS",
    help="Serve every API under every host prefix (default: strict, as PhonePe maps them).",
)
@click.option(
    "--allow-remote-webhooks",
    is_flag=True,
    envvar="PHONEPE_SANDBOX_ALLOW_REMOTE_WEBHOOKS",
    help="Send webhooks to non-loopback hosts too (default: loopback only).",
)
@click.option(
    "--control-host",
    "control_hosts",
    multiple=True,
    envvar="PHONEPE_SANDBOX_CONTROL_HOSTS",
    help="A Host name besides loopback on which the control API answers (repeatable).",
)
@click.option("--access-log/--no-access-log", default=False, show_default=True)
def sandbox(
    host: str,
    port: int,
    webhook_url: str | None,
    webhook_username: str,
    webhook_password: str,
    clock_speed: float,
    seed: int | None,
    token_ttl: float,
    refund_settlement_delay: float,
    client_id: str,
    client_secret: str,
    merchant_id: str,
    salt_key: str,
    public_url: str | None,
    lenient_hosts: bool,
    allow_remote_webhooks: bool,
    control_hosts: tuple[str, ...],
    access_log: bool,
) -> None:
    import uvicorn

    from .app import create_app

    if clock_speed <= 0:
        raise click.BadParameter("must be positive", param_hint="--clock-speed")
    config = SandboxConfig(
        client_id=client_id,
        client_secret=client_secret,
        merchant_id=merchant_id,
        salt_key=salt_key,
        webhook_url=webhook_url,
        webhook_username=webhook_username,
        webhook_password=webhook_password,
        clock_speed=clock_speed,
        seed=seed,
        token_ttl=token_ttl,
        refund_settlement_delay=refund_settlement_delay,
        public_url=public_url,
        lenient_hosts=lenient_hosts,
        allow_remote_webhooks=allow_remote_webhooks,
        control_hosts=tuple(control_hosts),
    )
    shown_host = f"[{host}]" if ":" in host else host
    click.echo(banner(config, f"http://{shown_host}:{port}"), err=False)
    uvicorn.run(
        create_app(config),
        host=host,
        port=port,
        log_level="warning",
        ws="none",
        access_log=access_log,
        lifespan="on",
    )
