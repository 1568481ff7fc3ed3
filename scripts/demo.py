"""`make demo`: placeholder until the Smart Parking example lands (issue 5)."""

import sys

print("make demo: not yet — the Smart Parking example is still being built. "
      "Run `.venv/bin/phonepe sandbox` for the local PhonePe sandbox.", file=sys.stderr)
sys.exit(1)
