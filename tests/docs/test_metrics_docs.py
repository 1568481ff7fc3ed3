"""docs/API.md lists every Prometheus metric the app exports, and only those; the other
docs name only metrics that exist."""

from __future__ import annotations

import re

import pytest
from prometheus_client import REGISTRY

from phonepe_gateway.django import metrics  # noqa: F401  (registers the app's metrics)

from .markdown import ROOT, read, section

_METRIC = re.compile(r"`(phonepe_[a-z_]+)(?:\{[a-z_,]*\})?`")
#: Backticked ``phonepe_*`` names that are not metrics: the package and the commands.
NOT_METRICS = {"phonepe_gateway"} | {
    path.stem
    for path in (ROOT / "src/phonepe_gateway/django/management/commands").glob("phonepe_*.py")
}


def _family(name: str) -> str:
    return name.removesuffix("_total")


def exported() -> set[str]:
    return {m.name for m in REGISTRY.collect() if m.name.startswith("phonepe_")}


def documented(text: str) -> set[str]:
    return {_family(name) for name in _METRIC.findall(text) if name not in NOT_METRICS}


@pytest.mark.django_db
def test_api_md_metrics_then_exactly_the_exported_ones() -> None:
    listed = documented(section(read("docs/API.md"), "Operations"))
    assert sorted(exported() - listed) == [], "exported but not in docs/API.md"
    assert sorted(listed - exported()) == [], "in docs/API.md but not exported"


@pytest.mark.django_db
@pytest.mark.parametrize("document", ["README.md", "docs/OPERATIONS.md", "docs/BENCHMARKS.md"])
def test_metrics_named_in_document_then_exported(document: str) -> None:
    unknown = sorted(documented(read(document)) - exported())
    assert not unknown, f"{document} names metrics the app does not export: {unknown}"
