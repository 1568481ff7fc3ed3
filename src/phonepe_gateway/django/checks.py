"""Django system checks for the PhonePe settings (filled in by the ops work)."""

from __future__ import annotations
