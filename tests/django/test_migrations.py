"""The shipped migrations match the models (a model change without a migration fails here)."""

from __future__ import annotations

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_makemigrations_check_then_no_missing_migration(capsys) -> None:
    call_command("makemigrations", "phonepe", "--check", "--dry-run", verbosity=1)
    assert "No changes detected" in capsys.readouterr().out
