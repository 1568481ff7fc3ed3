"""The Django app and the service use the core as any host project would: through its
public names (``phonepe_gateway``, ``phonepe_gateway.doctor``, ...), never a private
``_module`` or ``_name``. A name the app needs is made public, or the app does without."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import phonepe_gateway

SRC = Path(phonepe_gateway.__file__).parent
PACKAGES = ("django", "service")


def _absolute(path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = path.relative_to(SRC.parent).with_suffix("").parts[: -node.level]
    return ".".join((*package, *(node.module.split(".") if node.module else ())))


def private_core_imports(source: str, path: Path) -> list[str]:
    """Imports in ``source`` (the module at ``path``) of a private part of the core."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules = [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            modules = [(_absolute(path, node), [alias.name for alias in node.names])]
        else:
            continue
        for module, names in modules:
            parts = module.split(".")
            if parts[0] != "phonepe_gateway" or parts[1:2] in (["django"], ["service"]):
                continue
            hidden = [p for p in parts[1:] if p.startswith("_")]
            hidden += [n for n in names if n.startswith("_") and n != "__version__"]
            if hidden:
                found.append(f"line {node.lineno}: {module} uses {hidden}")
    return found


def test_scan_when_private_core_import_then_reported() -> None:
    source = (
        "from .._errors import GatewayError\n"
        "import phonepe_gateway._config\n"
        "from phonepe_gateway import _version\n"
        "from phonepe_gateway import Settings, __version__\n"
        "from . import states\n"
        "from phonepe_gateway.doctor import diagnose\n"
    )
    found = private_core_imports(source, SRC / "django" / "example.py")
    assert found == [
        "line 1: phonepe_gateway._errors uses ['_errors']",
        "line 2: phonepe_gateway._config uses ['_config']",
        "line 3: phonepe_gateway uses ['_version']",
    ]


@pytest.mark.parametrize("package", PACKAGES)
def test_app_modules_then_import_only_public_core_names(package: str) -> None:
    offenders = {
        str(path.relative_to(SRC)): private
        for path in sorted((SRC / package).rglob("*.py"))
        if (private := private_core_imports(path.read_text(encoding="utf-8"), path))
    }
    assert not offenders, f"private core imports: {offenders}"
