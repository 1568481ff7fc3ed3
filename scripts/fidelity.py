"""How closely the sandbox answers like PhonePe: fields matching / fields compared.

Drives a loopback sandbox into the situation of every sample of the contract corpus
(tests/contract/samples) and compares the shapes (see tests/sandbox/fidelity.py).

    .venv/bin/python scripts/fidelity.py             # the figure, per sample and in total
    .venv/bin/python scripts/fidelity.py --diff      # also every difference, as table rows

``--tolerant`` carries on where an older sandbox lacks a control call (how the "before"
figure of docs/SANDBOX.md was measured against main's sandbox).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.sandbox.fidelity import run  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--diff", action="store_true", help="print every difference")
    parser.add_argument("--quiet", action="store_true", help="print only the total")
    parser.add_argument("--tolerant", action="store_true", help="ignore failing control calls")
    args = parser.parse_args()
    results = run(tolerant=args.tolerant)
    compared = sum(r.compared for r in results)
    matching = sum(r.matching for r in results)
    skipped = [r for r in results if r.skipped]
    if not args.quiet:
        for r in results:
            if r.skipped is None:
                print(f"{r.matching:4d} / {r.compared:<4d} {r.sample}")
        print(f"not compared: {len(skipped)} samples (reasons in tests/sandbox/fidelity.py)")
    if args.diff:
        for r in results:
            for d in r.differences:
                print(d.row())
    share = 100 * matching / compared if compared else 0.0
    print(
        f"fidelity: {matching} / {compared} fields match ({share:.1f} %) "
        f"over {len(results) - len(skipped)} samples"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
