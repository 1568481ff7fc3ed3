"""scripts/audit.py: skips with a clear line when the vulnerability service cannot be used."""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load_audit():
    spec = importlib.util.spec_from_file_location("audit", ROOT / "scripts" / "audit.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def pypi_404() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}" + "/pypi/{name}/{version}/json"
    finally:
        server.shutdown()
        server.server_close()


def test_audit_when_service_answers_404_then_skipped_with_reason_and_exit_0(
    pypi_404, monkeypatch, capsys
) -> None:
    audit = _load_audit()
    monkeypatch.setattr(audit, "SERVICE", pypi_404)
    assert audit.main() == 0
    out = capsys.readouterr().out
    assert out.startswith("audit: SKIPPED")
    assert "HTTP 404" in out


def test_audit_when_service_unreachable_then_skipped(monkeypatch, capsys) -> None:
    audit = _load_audit()
    monkeypatch.setattr(audit, "SERVICE", "http://127.0.0.1:9/pypi/{name}/{version}/json")
    assert audit.main() == 0
    assert "unreachable" in capsys.readouterr().out


def test_constraints_pin_the_security_floors() -> None:
    pins = dict(
        line.split("==", 1)
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    )
    pins = {name.lower(): version for name, version in pins.items()}
    floors = {"django": (5, 2, 19), "starlette": (1, 0, 1), "h11": (0, 16), "gunicorn": (23,)}
    for name, floor in floors.items():
        version = tuple(int(part) for part in pins[name].split(".")[: len(floor)])
        assert version >= floor, name
