"""The doctor: why this machine cannot pay through PhonePe, and what to do about it.

Behind ``phonepe doctor``, ``manage.py phonepe_doctor`` and ``GET /api/diagnostics``.
It uses the client (the credential check is one real call through it) and the core's
remedy text; the client never imports the doctor. Importing this package does not
import its command-line front (:mod:`.cli`).

::

    report.py        run_diagnostics(): the checks below, then the scrubbed report
    ├── endpoints.py     every endpoint in parallel: DNS -> TCP -> proxy -> TLS -> HTTP
    │   ├── probes.py        one step each, on plain sockets
    │   └── certificates.py  who issued a certificate that failed verification
    ├── checks.py        configuration, proxy routing, clock skew (no socket)
    ├── credentials.py   one harmless status call through the real client
    └── remedies.py      what to do, per verdict and situation (builds on ``_remedies``)
    verdict.py       Verdict, Status, Probe: the doctor's own result vocabulary
    cli.py           the ``phonepe doctor`` command and the human report
"""

from __future__ import annotations

from .report import Check, Report, configuration_failure, diagnose, run_diagnostics
from .verdict import Status, Verdict

__all__ = [
    "Check",
    "Report",
    "Status",
    "Verdict",
    "configuration_failure",
    "diagnose",
    "run_diagnostics",
]
