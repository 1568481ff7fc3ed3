"""The sandbox is the other side of the wire: it must not use the project's client."""

from __future__ import annotations

import ast
from pathlib import Path

import phonepe_gateway.sandbox as sandbox_package

FORBIDDEN = {
    "_client",
    "_transport",
    "_auth",
    "_webhooks",
    "_protocol",
    "_retry",
    "_breaker",
    "_classify",
}
#: the published sandbox credentials, the version, and the one loopback rule (a pure
#: predicate the client's checks, the Django checks and the sandbox's guard share)
ALLOWED = {"_config", "_version", "_safety"}


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level == 2:  # from .. import X / from ..X import Y
                found.update({module} if module else {a.name for a in node.names})
            elif module.startswith("phonepe_gateway."):
                found.add(module.split(".")[1])
            elif module == "phonepe_gateway":
                found.update(a.name for a in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("phonepe_gateway."):
                    found.add(alias.name.split(".")[1])
    return found


def test_sandbox_modules_when_parsed_then_only_the_allowed_core_modules() -> None:
    root = Path(sandbox_package.__file__).parent
    files = sorted(root.glob("*.py"))
    assert len(files) > 10
    for path in files:
        core = imported_modules(path) - {"sandbox"}
        assert not core & FORBIDDEN, f"{path.name} imports {core & FORBIDDEN}"
        assert core <= ALLOWED, f"{path.name} imports {core - ALLOWED}"


def test_package_exports_when_imported_then_public_names() -> None:
    assert sorted(sandbox_package.__all__) == ["SandboxConfig", "create_app"]
