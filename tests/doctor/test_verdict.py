"""The doctor's own vocabulary: its public face, and verdicts that cover the client's categories."""

from __future__ import annotations

import subprocess
import sys

import phonepe_gateway.doctor
from phonepe_gateway import Category
from phonepe_gateway.doctor import Verdict


def test_doctor_all_when_imported_then_exactly_the_doctor_api_sorted() -> None:
    assert phonepe_gateway.doctor.__all__ == [
        "Check",
        "Report",
        "Status",
        "Verdict",
        "configuration_failure",
        "diagnose",
        "run_diagnostics",
    ]
    for name in phonepe_gateway.doctor.__all__:
        assert getattr(phonepe_gateway.doctor, name) is not None


def test_verdict_when_client_category_then_same_name_and_back() -> None:
    for category in Category:
        verdict = Verdict.of(category)
        assert verdict.value == category.value
        assert verdict.category is category


def test_verdict_when_doctor_only_then_not_a_client_category() -> None:
    doctor_only = {v.value for v in Verdict} - {c.value for c in Category}
    assert doctor_only == {"HTTP_ERROR", "AUTH_FAILED", "CLOCK_SKEW", "OK"}
    for value in doctor_only:
        assert Verdict(value).category is None
        assert value not in Category.__members__


def test_doctor_import_when_cli_not_used_then_neither_cli_nor_django_imported() -> None:
    code = (
        "import sys, phonepe_gateway.doctor; "
        "print(any(m in sys.modules for m in ('phonepe_gateway.doctor.cli', 'django')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
