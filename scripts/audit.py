"""`make audit`: check the pinned dependency set (constraints.txt) for known vulnerabilities.

Runs pip-audit against PyPI's vulnerability data for exactly the versions `make test`
installs. It needs that service: when PyPI's JSON API does not answer (offline, or a
mirror-only network where it answers 404 for everything), it prints one line saying the
audit was SKIPPED and why, and exits 0, so CI without the service is not failed for it.
Exit 1 on any finding or when a pinned package cannot be audited while the service works.
"""

from __future__ import annotations

import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONSTRAINTS = ROOT / "constraints.txt"
#: pip-audit asks PyPI about each pinned release at this address (name, version).
SERVICE = "https://pypi.org/pypi/{name}/{version}/json"


def _first_pin() -> tuple[str, str]:
    for line in CONSTRAINTS.read_text().splitlines():
        name, sep, version = line.partition("==")
        if sep and not line.startswith("#"):
            return name.strip(), version.strip()
    raise SystemExit("audit: constraints.txt pins nothing")


def _service_answers(probe: str) -> str | None:
    """None when PyPI's per-release JSON API works here, else why not."""
    try:
        with urllib.request.urlopen(probe, timeout=10) as response:  # noqa: S310 (https, pypi.org)
            if b'"info"' in response.read(200_000):
                return None
            return "it answered without package data"
    except urllib.error.HTTPError as exc:
        return f"it answered HTTP {exc.code} for a release that exists"
    except OSError as exc:
        return f"it is unreachable ({type(exc).__name__})"


def main() -> int:
    probe = SERVICE.format(name=_first_pin()[0], version=_first_pin()[1])
    reason = _service_answers(probe)
    if reason is not None:
        print(
            f"audit: SKIPPED, the vulnerability service (PyPI JSON API, {probe}) cannot be "
            f"used here: {reason}. Run `make audit` where pypi.org answers.",
            flush=True,
        )
        return 0
    pip_audit = Path(sys.executable).with_name("pip-audit")
    command = [
        str(pip_audit),
        "--requirement",
        str(CONSTRAINTS),
        "--no-deps",  # every package is pinned: audit exactly these versions
        "--disable-pip",
        "--strict",  # a package that cannot be audited is a failure, not a pass
        "--progress-spinner",
        "off",
    ]
    print("audit: " + " ".join(command[1:]), flush=True)
    result = subprocess.run(command, check=False)  # noqa: S603 (our own fixed command)
    print("audit: " + ("no known vulnerabilities" if result.returncode == 0 else "FAILED"))
    return 0 if result.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
