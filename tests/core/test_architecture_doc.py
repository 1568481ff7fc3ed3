"""docs/ARCHITECTURE.md's core table names every core module, and only modules that exist;
its "Adding a PhonePe call" section names only files that exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "phonepe_gateway"
DOC = (ROOT / "docs" / "ARCHITECTURE.md").read_text()


def section(title: str) -> str:
    start = DOC.index(f"## {title}")
    end = DOC.find("\n## ", start + 1)
    return DOC[start : end if end != -1 else None]


def test_core_table_when_compared_with_the_package_then_same_modules() -> None:
    rows = [line for line in section("Core").splitlines() if line.startswith("| `")]
    documented = {name for row in rows for name in re.findall(r"`(_\w+\.py)`", row.split("|")[1])}
    on_disk = {p.name for p in PACKAGE.glob("_*.py")} - {"__init__.py", "_version.py"}
    assert documented == on_disk


def test_adding_a_call_when_read_then_every_file_it_names_exists() -> None:
    text = section("Adding a PhonePe call")
    named = set(re.findall(r"`((?:[\w/]+/)?\w+\.(?:py|md))`", text))
    assert named, "the section names no files"
    missing = [
        name
        for name in sorted(named)
        if not any(
            (base / name).exists()
            for base in (PACKAGE, PACKAGE / "sandbox", ROOT, ROOT / "tests" / "core")
        )
    ]
    assert missing == []
