"""SandboxConfig: how one sandbox instance behaves (credentials, clock, webhooks).

Defaults are the public test credentials of ``_config.SANDBOX_CREDENTIALS``. The
config is frozen; what changes at run time (webhook target, faults, clock offset)
lives in the sandbox state. This module never touches the network.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from .._config import SANDBOX_CREDENTIALS

__all__ = ["UAT_MERCHANT_ID", "UAT_SALT_KEY", "SandboxConfig"]

#: PhonePe's public UAT test merchant (published by PhonePe; shared by everyone).
UAT_MERCHANT_ID = "PGTESTPAYUAT"
UAT_SALT_KEY = "099eb0cd-02cf-4e2a-8aca-3e6c6aff0399"


@dataclass(frozen=True)
class SandboxConfig:
    """Everything a sandbox instance needs; every field has a safe default."""

    client_id: str = SANDBOX_CREDENTIALS["client_id"]
    client_secret: str = field(default=SANDBOX_CREDENTIALS["client_secret"], repr=False)
    client_version: int = int(SANDBOX_CREDENTIALS["client_version"])
    merchant_id: str = SANDBOX_CREDENTIALS["merchant_id"]
    salt_key: str = field(default=SANDBOX_CREDENTIALS["salt_key"], repr=False)
    salt_index: int = int(SANDBOX_CREDENTIALS["salt_index"])
    #: Shown on the hosted checkout page.
    merchant_name: str = "Sandbox Merchant"
    #: UPI id the checkout QR and the intent / QR links pay to. Its handle (``@sandbox``)
    #: is no bank's, so a real UPI app that scans a sandbox QR refuses it instead of
    #: paying someone's real ``@ybl`` address.
    payee_vpa: str = "sandbox.merchant@sandbox"
    #: Also accept PhonePe's public UAT merchant (``PGTESTPAYUAT``) on generation 1.
    accept_uat_merchant: bool = True
    webhook_url: str | None = None
    webhook_username: str = SANDBOX_CREDENTIALS["webhook_username"]
    webhook_password: str = field(default=SANDBOX_CREDENTIALS["webhook_password"], repr=False)
    #: Lifetime of an OAuth token, in sandbox seconds.
    token_ttl: float = 3600.0
    #: Sandbox seconds per real second (10 makes a 20-minute expiry take 2 minutes).
    clock_speed: float = 1.0
    #: Seed for ids and fault probabilities; None means unpredictable.
    seed: int | None = None
    #: Sandbox seconds from refund acceptance (PENDING) to COMPLETED.
    refund_settlement_delay: float = 5.0
    #: Base URL used in checkout links; None means "the host the request came to".
    public_url: str | None = None
    #: Seconds a webhook receiver has to answer before the attempt counts as failed.
    webhook_timeout: float = 5.0
    #: Serve every API under every host prefix (the sandbox's old routing). Off by
    #: default: a wrong base URL gets PhonePe's "Api Mapping Not Found", as in production.
    lenient_hosts: bool = False
    #: Send webhooks to non-loopback hosts too (off: loopback targets only).
    allow_remote_webhooks: bool = False
    #: Host names besides loopback on which the control API answers.
    control_hosts: tuple[str, ...] = ()

    def replace(self, **changes: Any) -> SandboxConfig:
        return replace(self, **changes)

    def merchants(self) -> dict[str, tuple[str, int]]:
        """Generation 1 merchant id -> (salt key, salt index) accepted by this sandbox."""
        known = {self.merchant_id: (self.salt_key, self.salt_index)}
        if self.accept_uat_merchant:
            known.setdefault(UAT_MERCHANT_ID, (UAT_SALT_KEY, 1))
        return known
