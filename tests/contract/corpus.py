"""The contract corpus: real PhonePe requests and responses, one JSON file per sample.

Load them with :func:`load_samples`; the format is described in ``README.md`` next to
this file. ``python -m tests.contract.corpus`` prints the README's sample table and the
per-source counts, so the README can be regenerated after samples are added.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SAMPLES_DIR = Path(__file__).parent / "samples"

APIS = frozenset(
    {
        "token",
        "pay",
        "sdk_order",
        "order_status",
        "transaction_status",
        "refund",
        "refund_status",
        "webhook",
        "v1_pay",
        "v1_status",
        "v1_refund",
        "v1_callback",
        "unmapped",
        # UPI AutoPay (/subscriptions/v2; tests/contract/test_subscriptions_on_corpus.py)
        "subscription_setup",
        "subscription_notify",
        "subscription_redeem",
        "subscription_status",
        "subscription_cancel",
        "subscription_order_status",
    }
)
SOURCE_KINDS = frozenset({"sdk-test", "docs", "capture"})
BASES = frozenset({"oauth", "pg", "hermes", "pg-sandbox"})


@dataclass(frozen=True)
class Sample:
    """One sample file, parsed. ``raw`` is the whole JSON document."""

    id: str
    generation: int
    api: str
    situation: str
    tags: tuple[str, ...]
    source: dict[str, Any]
    request: dict[str, Any] | None
    response: dict[str, Any] | None
    webhook: dict[str, Any] | None
    raw: dict[str, Any]

    @property
    def status(self) -> int | None:
        """The HTTP status PhonePe answered with (``None`` when the source does not say)."""
        assert self.response is not None
        status = self.response["status"]
        return None if status is None else int(status)

    @property
    def body(self) -> Any:
        """The response body as parsed JSON (``None`` for an empty body)."""
        assert self.response is not None
        return self.response.get("body")

    def body_bytes(self) -> bytes:
        """The response body as it goes on the wire (compact JSON, raw text, or empty)."""
        assert self.response is not None
        if "body_text" in self.response:
            return str(self.response["body_text"]).encode()
        body = self.response.get("body")
        if body is None:
            return b""
        return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()

    def webhook_bytes(self) -> bytes:
        """The webhook body as PhonePe would POST it (the published text, else compact JSON)."""
        assert self.webhook is not None
        if "body_text" in self.webhook:
            return str(self.webhook["body_text"]).encode()
        return json.dumps(self.webhook["body"], separators=(",", ":"), ensure_ascii=False).encode()

    @property
    def source_label(self) -> str:
        src = self.source
        if src["kind"] == "sdk-test":
            return f"{src['repository']} `{src['path']}:{src['line']}`"
        if "url" in src:
            return str(src["url"]) + (" (via a public copy)" if "via" in src else "")
        return f"public GitHub file (code index id {src['index_id']})"


class CorpusError(ValueError):
    """A sample file does not follow the corpus format."""


def _check(sample_id: str, doc: dict[str, Any]) -> None:
    def need(cond: bool, what: str) -> None:
        if not cond:
            raise CorpusError(f"{sample_id}: {what}")

    need(doc.get("id") == sample_id, "id must equal the file name")
    need(doc.get("generation") in (1, 2), "generation must be 1 or 2")
    need(doc.get("api") in APIS, f"api must be one of {sorted(APIS)}")
    need(isinstance(doc.get("situation"), str) and bool(doc["situation"]), "situation is required")
    need(isinstance(doc.get("tags"), list), "tags must be a list")
    src = doc.get("source")
    need(isinstance(src, dict) and src.get("kind") in SOURCE_KINDS, "source.kind is required")
    assert isinstance(src, dict)
    need(bool(src.get("checked")), "source.checked (date) is required")
    if src["kind"] == "sdk-test":
        need(
            all(src.get(k) for k in ("repository", "commit", "path", "line")),
            "sdk-test source needs repository/commit/path/line",
        )
    else:
        has_url = str(src.get("url", "")).startswith("https://")
        need(
            has_url or isinstance(src.get("index_id"), int),
            "docs/capture source needs an https url (or the index_id of the public file)",
        )
    if doc["api"] == "webhook":
        hook = doc.get("webhook")
        need(
            isinstance(hook, dict) and isinstance(hook.get("body"), dict),
            "webhook samples need webhook.body",
        )
        need("response" not in doc, "webhook samples have no response")
        assert isinstance(hook, dict)
        if "body_text" in hook:
            need(
                json.loads(hook["body_text"]) == hook["body"],
                "webhook.body_text must parse to webhook.body",
            )
    else:
        req, resp = doc.get("request"), doc.get("response")
        need(
            isinstance(req, dict) and req.get("method") in ("GET", "POST"),
            "request.method is required",
        )
        assert isinstance(req, dict)
        need(
            req.get("base") in BASES and str(req.get("path", "")).startswith("/"),
            "request.base/path are required",
        )
        need(
            isinstance(resp, dict) and "status" in resp and "status_published" in resp,
            "response.status/status_published are required",
        )
        assert isinstance(resp, dict)
        need(
            resp["status"] is None or 100 <= int(resp["status"]) <= 599,
            "response.status must be an HTTP status or null",
        )
        need(
            ("body" in resp) != ("body_text" in resp),
            "response needs exactly one of body/body_text",
        )


def load_samples(directory: Path = SAMPLES_DIR) -> list[Sample]:
    """Every sample in ``directory``, validated, sorted by id."""
    samples = []
    for path in sorted(directory.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        _check(path.stem, doc)
        samples.append(
            Sample(
                id=doc["id"],
                generation=doc["generation"],
                api=doc["api"],
                situation=doc["situation"],
                tags=tuple(doc["tags"]),
                source=doc["source"],
                request=doc.get("request"),
                response=doc.get("response"),
                webhook=doc.get("webhook"),
                raw=doc,
            )
        )
    return samples


def source_group(sample: Sample) -> str:
    """The row of the per-source count table this sample belongs to."""
    src = sample.source
    if src["kind"] == "sdk-test":
        return f"{src['repository']} tests"
    if src["kind"] == "docs":
        return "PhonePe developer pages"
    if "url" in src:
        return "developer captures in GitHub issues/PRs"
    return "developer captures in public code (logs, comments)"


def readme_tables(samples: list[Sample]) -> str:
    """The generated part of README.md: counts per source, per api, and the sample list."""
    lines = ["| source | samples |", "|---|---|"]
    for group, count in sorted(Counter(source_group(s) for s in samples).items()):
        lines.append(f"| {group} | {count} |")
    lines.append(f"| **total** | **{len(samples)}** |")
    lines += ["", "| api | samples |", "|---|---|"]
    for api, count in sorted(Counter(s.api for s in samples).items()):
        lines.append(f"| `{api}` | {count} |")
    lines += ["", "| sample | gen | api | HTTP | situation | source |", "|---|---|---|---|---|---|"]
    for s in samples:
        if s.webhook is not None:
            http = "webhook POST"
        else:
            assert s.request is not None
            assert s.response is not None
            status = s.response["status"]
            shown = "?" if status is None else str(status)
            if status is not None and not s.response["status_published"]:
                shown += "*"
            http = f"{s.request['method']} `{s.request['path']}` → {shown}"
        situation = s.situation.replace("|", "\\|")
        lines.append(
            f"| `{s.id}` | {s.generation} | {s.api} | {http} | {situation} | {s.source_label} |"
        )
    return "\n".join(lines) + "\n"


BEGIN = "<!-- corpus-tables:begin (generated by `python -m tests.contract.corpus`) -->\n"
END = "<!-- corpus-tables:end -->\n"


def main(argv: list[str]) -> int:
    samples = load_samples()
    tables = readme_tables(samples)
    if argv[1:] == ["--write-readme"]:
        readme = Path(__file__).with_name("README.md")
        text = readme.read_text(encoding="utf-8")
        head, _, rest = text.partition(BEGIN)
        _, _, tail = rest.partition(END)
        readme.write_text(head + BEGIN + tables + END + tail, encoding="utf-8")
    else:
        sys.stdout.write(tables)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
