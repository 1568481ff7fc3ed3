"""The README's configuration tables are what the code reads, with the defaults it uses.

* every environment variable `Settings` reads is in the README's table, and every
  ``PHONEPE_*`` name the docs mention is read by something (both directions);
* every ``PHONEPE_SERVICE_*`` variable the standalone service reads is in docs/API.md;
* the table's defaults are the ones `Settings` gives (the dataclass and ``from_env`` alike);
* the Django app's own options table is ``conf.APP_DEFAULTS``, key for key, default for default.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from phonepe_gateway import Secret, Settings, __version__
from phonepe_gateway._config import ENVIRONMENTS, SANDBOX_CREDENTIALS
from phonepe_gateway.django.conf import APP_DEFAULTS

from .markdown import ROOT, read, section, table_rows

DOCS = ("README.md", *(f"docs/{p.name}" for p in sorted((ROOT / "docs").glob("*.md"))))
_NAME = re.compile(r"`([A-Z][A-Z0-9_]{2,})`")


class ReadLog(dict[str, str]):
    """An empty environment that remembers every name looked up in it."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:
        self.names.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> str:
        self.names.add(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self.names.add(str(key))
        return super().__contains__(key)


def variables_settings_reads() -> set[str]:
    environ = ReadLog()
    Settings.from_env(environ)
    assert environ.names, "Settings.from_env no longer looks names up; teach ReadLog how it reads"
    return {name.upper() for name in environ.names}


def config_rows() -> list[tuple[list[str], str, str]]:
    """(variables, meaning, default) of the README's environment table."""
    body = section(read("README.md"), "Configuration")
    table = body[: body.index("Options of the Django app")]
    rows = []
    for cells in table_rows(table):
        assert len(cells) == 3, f"configuration row without 3 cells: {cells}"
        names = _NAME.findall(cells[0])
        assert names, f"configuration row names no variable: {cells}"
        rows.append((names, cells[1], cells[2]))
    return rows


def string_constants(folder: Path) -> set[str]:
    found: set[str] = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.add(node.value)
    return found


def imported_modules(folder: Path) -> set[str]:
    found: set[str] = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module)
    return found


# -- environment variables, both directions ---------------------------------------------


def test_every_variable_settings_reads_then_in_the_readme_table() -> None:
    documented = {name for names, _, _ in config_rows() for name in names}
    mentioned = documented | {n for _, meaning, _ in config_rows() for n in _NAME.findall(meaning)}
    missing = sorted(v for v in variables_settings_reads() if v not in mentioned)
    assert not missing, f"Settings reads {missing}, which the README's table does not document"


def test_every_phonepe_variable_in_the_readme_table_then_settings_reads_it() -> None:
    read_names = variables_settings_reads()
    documented = {name for names, _, _ in config_rows() for name in names}
    invented = sorted(n for n in documented if n.startswith("PHONEPE_") and n not in read_names)
    assert not invented, f"the README documents {invented}, which Settings does not read"


#: Variables a library reads for the code, by the module that reads them.
READ_BY_LIBRARY = {"DATABASE_URL": "dj_database_url"}  # dj_database_url.config()'s default


def test_other_variables_in_the_readme_table_then_read_by_the_code() -> None:
    constants = string_constants(ROOT / "src") | string_constants(ROOT / "examples")
    imported = imported_modules(ROOT / "src") | imported_modules(ROOT / "examples")
    documented = {name for names, _, _ in config_rows() for name in names}
    others = {n for n in documented if not n.startswith("PHONEPE_")} - variables_settings_reads()
    unread = sorted(
        n for n in others if n not in constants and READ_BY_LIBRARY.get(n) not in imported
    )
    assert not unread, f"the README documents {unread}, which no code reads"


@pytest.mark.parametrize("document", DOCS)
def test_every_phonepe_name_in_the_docs_then_something_reads_it(document: str) -> None:
    known = variables_settings_reads() | string_constants(ROOT / "src")
    names = set(re.findall(r"\bPHONEPE_[A-Z0-9_]*[A-Z0-9]\b", read(document)))
    unknown = sorted(names - known)
    assert not unknown, f"{document} names {unknown}, which nothing in src/ reads"


def test_every_service_variable_then_documented_in_api_md() -> None:
    service = string_constants(ROOT / "src/phonepe_gateway/service")
    read_names = {c for c in service if re.fullmatch(r"PHONEPE_SERVICE_[A-Z0-9_]+", c)}
    assert read_names, "the service reads no PHONEPE_SERVICE_* variable? the scan is broken"
    text = read("docs/API.md")
    missing = sorted(n for n in read_names if f"`{n}`" not in text)
    assert not missing, f"the service reads {missing}, which docs/API.md does not document"


# -- defaults ----------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, Secret):
        return value.reveal()
    return value


def _is_unset(name: str, built: Settings) -> None:
    if name == "simulation_mode":  # an alias of PHONEPE_ENV=local, not a field
        assert built.env == "local"
        return
    assert _plain(getattr(built, name)) in (None, ()), f"{name} has a default"


def _sandbox_default(name: str, built: Settings) -> None:
    assert name in SANDBOX_CREDENTIALS, f"{name} has no sandbox default"
    assert str(_plain(getattr(built, name))) == SANDBOX_CREDENTIALS[name]


def _environment_hosts(name: str, built: Settings) -> None:
    assert name == "base_urls"
    assert built.base_urls == (built.local_url + "/apis/pg-sandbox",)
    for env, hosts in ENVIRONMENTS.items():
        remote = Settings.build(env=env, client_id="id", client_secret="secret")
        assert remote.base_urls == (hosts["v2"][0],)


def _environment_oauth(name: str, built: Settings) -> None:
    assert name == "oauth_urls"
    for env, hosts in ENVIRONMENTS.items():
        remote = Settings.build(env=env, client_id="id", client_secret="secret")
        assert remote.oauth_urls == (hosts["v2"][1],)
        own = Settings.build(
            env=env, client_id="id", client_secret="secret", base_urls="https://a.example"
        )
        assert own.oauth_urls == ("https://a.example",)


#: Defaults the README states in words, and what each means in code.
PHRASES: dict[str, Callable[[str, Settings], None]] = {
    "—": _is_unset,
    "sandbox defaults when `local`": _sandbox_default,
    "the environment's hosts": _environment_hosts,
    "the environment's, or `PHONEPE_BASE_URLS` when that is set": _environment_oauth,
}


def _literal(name: str, text: str, built: Settings) -> None:
    value = text.strip("`").replace("<version>", __version__)
    field_default = {f.name: f.default for f in fields(Settings)}[name]
    for where, actual in (
        ("Settings.from_env()", getattr(built, name)),
        ("Settings()", field_default),
    ):
        if isinstance(actual, int | float) and not isinstance(actual, bool):
            assert float(value) == actual, f"{name}: README says {text}, {where} gives {actual}"
        else:
            assert value == str(actual), f"{name}: README says {text}, {where} gives {actual!r}"


def default_cases() -> list[tuple[str, str]]:
    cases = []
    for names, _, default in config_rows():
        parts = (
            default.split(" / ") if len(names) > 1 and " / " in default else [default] * len(names)
        )
        assert len(parts) == len(names), f"{names}: defaults {default!r} do not pair up"
        cases += [(n, d) for n, d in zip(names, parts, strict=True) if n.startswith("PHONEPE_")]
    return cases


@pytest.mark.parametrize(("variable", "default"), default_cases())
def test_readme_default_then_the_default_settings_give(variable: str, default: str) -> None:
    name = variable.removeprefix("PHONEPE_").lower()
    built = Settings.from_env({})
    if default in PHRASES:
        PHRASES[default](name, built)
    else:
        assert re.fullmatch(r"`?[^`\s]+`?", default), (
            f"{variable}: the README's default {default!r} is neither a value nor one of the "
            f"phrases tests/docs understands {sorted(PHRASES)}"
        )
        _literal(name, default, built)


# -- the Django app's own options --------------------------------------------------------


def app_option_rows() -> dict[str, str]:
    body = section(read("README.md"), "Configuration")
    table = body[body.index("Options of the Django app") :]
    rows = {}
    for cells in table_rows(table):
        if cells[0] == "option":
            continue
        assert len(cells) == 3, f"option row without 3 cells: {cells}"
        rows[cells[0].strip("`")] = cells[2]
    return rows


def test_option_value_then_reads_the_forms_the_tables_use() -> None:
    assert option_value("—") is None
    assert option_value("`True`") is True
    assert option_value("`false` (on in the parking example)") is False
    assert option_value("86400 (24 h)") == 86400
    assert option_value('`"batched"`') == "batched"


def test_django_options_table_then_every_app_option_and_no_other() -> None:
    assert set(app_option_rows()) == set(APP_DEFAULTS)


def option_value(text: str) -> Any:
    """``—`` (unset), ``true``/``false`` or a Python literal, after an optional ``(note)``."""
    text = re.sub(r"\s*\([^()]*\)$", "", text).strip("`")
    if text == "—":
        return None
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    return ast.literal_eval(text)


@pytest.mark.parametrize("option", sorted(APP_DEFAULTS))
def test_django_option_default_then_app_defaults(option: str) -> None:
    documented = app_option_rows().get(option)
    assert documented is not None, f"the README does not document PHONEPE[{option!r}]"
    value = option_value(documented)
    assert value == APP_DEFAULTS[option], (
        f"PHONEPE[{option!r}]: the README says {documented}, APP_DEFAULTS has {APP_DEFAULTS[option]!r}"
    )
