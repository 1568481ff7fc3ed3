"""The local PhonePe sandbox: a stateful simulator of PhonePe's payment gateway.

``create_app()`` returns an ASGI (Starlette) app serving both API generations under
every PhonePe prefix, a hosted checkout page, signed webhooks, fault injection and a
control API. It is the other side of the wire: it never imports the project's client.
"""

from .app import create_app
from .config import SandboxConfig

__all__ = ["SandboxConfig", "create_app"]
