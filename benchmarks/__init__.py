"""Reproducible measurements (``make bench`` / ``python -m benchmarks``); loopback only."""
