"""No module of the package imports another module's private (underscore) name.

A helper two modules need is part of its module's interface: it gets a public name
(and a place in ``__all__``) or moves to where it belongs. Private *modules*
(``_client``) are fine; the package's public face is ``__init__`` (see test_public_api).
"""

from __future__ import annotations

import ast
from pathlib import Path

import phonepe_gateway

SRC = Path(phonepe_gateway.__file__).parent


def private_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and (
            node.level or "phonepe_gateway" in (node.module or "")
        ):
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"{path.relative_to(SRC)}:{node.lineno} imports {alias.name}")
    return found


def test_package_when_scanned_then_no_module_imports_another_modules_private_name() -> None:
    offenders = [hit for path in sorted(SRC.rglob("*.py")) for hit in private_imports(path)]
    assert offenders == []
