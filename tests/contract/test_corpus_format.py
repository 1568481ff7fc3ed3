"""The corpus itself: every sample follows the format and the README lists them all."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.contract.corpus import (
    BEGIN,
    END,
    SAMPLES_DIR,
    CorpusError,
    _check,
    load_samples,
    readme_tables,
)


def test_every_sample_loads_and_ids_are_unique() -> None:
    samples = load_samples()
    assert len(samples) >= 60
    assert len({s.id for s in samples}) == len(samples)


def test_readme_tables_match_the_samples() -> None:
    readme = (Path(__file__).parent / "README.md").read_text(encoding="utf-8")
    generated = readme.partition(BEGIN)[2].partition(END)[0]
    assert generated == readme_tables(load_samples()), (
        "run: python -m tests.contract.corpus --write-readme"
    )


def test_the_format_check_rejects_a_broken_sample() -> None:
    doc = json.loads((SAMPLES_DIR / "v2-refund-accepted.json").read_text())
    del doc["response"]["status_published"]
    with pytest.raises(CorpusError, match="status_published"):
        _check("v2-refund-accepted", doc)
    with pytest.raises(CorpusError, match="file name"):
        _check("another-name", json.loads((SAMPLES_DIR / "v2-refund-accepted.json").read_text()))
