"""Prometheus metrics fed by the app's signals (filled in by the ops work)."""

from __future__ import annotations
