"""The verdict of a run: summary.json and its human form."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool | None  # None: could not be checked
    detail: str


@dataclass
class Summary:
    runid: str
    url: str
    threads: int
    loops: int
    jmeter_version: str
    requests: int
    errors: int
    accepted: int
    recorded: int | None
    duplicates: int | None
    dlq: int | None
    throughput_rps: float | None
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    drain_s: float | None
    drained: bool
    lead_time_p50_ms: float | None
    lead_time_p99_ms: float | None
    duration_s: float | None = None
    started_at: str | None = None
    response_codes: dict[str, int] = field(default_factory=dict)
    failure_messages: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    passed: bool = False

    @property
    def expected_requests(self) -> int:
        return self.threads * self.loops

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["expected_requests"] = self.expected_requests
        return data


def _eq(name: str, actual: int | None, expected: int, what: str) -> Check:
    if actual is None:
        return Check(name, None, f"{what}: unknown")
    return Check(name, actual == expected, f"{what}: {actual}, expected {expected}")


def evaluate(summary: Summary) -> Summary:
    """Fill in checks and passed. Pass iff every check ran and held; an unknown is not a pass."""
    summary.checks = [
        _eq("all requests sent", summary.requests, summary.expected_requests, "requests"),
        _eq("no errors", summary.errors, 0, "failed requests (not 202 / assertion failed)"),
        _eq("every 202 recorded", summary.recorded, summary.accepted, "recorded rows vs 202 responses"),
        _eq("no duplicates", summary.duplicates, 0, "duplicate rows"),
        _eq("empty DLQ", summary.dlq, 0, "messages in the dead-letter queue"),
    ]
    summary.passed = summary.requests > 0 and all(check.ok is True for check in summary.checks)
    return summary


def write_json(summary: Summary, path: Path) -> None:
    path.write_text(json.dumps(summary.to_dict(), indent=2, sort_keys=False) + "\n", encoding="utf-8")


def fmt(value: object, unit: str = "", digits: int = 1) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:,.{digits}f}{unit}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}{unit}"
    return f"{value}{unit}"


def rows(summary: Summary) -> list[tuple[str, str]]:
    """The summary as label/value pairs (the text summary and the report's table)."""
    return [
        ("run id", summary.runid),
        ("target", summary.url),
        ("JMeter", summary.jmeter_version),
        ("load", f"{summary.threads} threads x {summary.loops} loops = {summary.expected_requests:,}"),
        ("requests", fmt(summary.requests)),
        ("errors", fmt(summary.errors)),
        ("accepted (202)", fmt(summary.accepted)),
        ("recorded rows", fmt(summary.recorded)),
        ("duplicates", fmt(summary.duplicates)),
        ("DLQ", fmt(summary.dlq)),
        ("duration", fmt(summary.duration_s, " s")),
        ("throughput", fmt(summary.throughput_rps, " req/s")),
        (
            "latency p50 / p95 / p99",
            " / ".join(fmt(v, " ms") for v in (summary.p50_ms, summary.p95_ms, summary.p99_ms)),
        ),
        ("drain", fmt(summary.drain_s, " s") + ("" if summary.drained else " (not drained)")),
        (
            "lead time p50 / p99",
            " / ".join(fmt(v, " ms") for v in (summary.lead_time_p50_ms, summary.lead_time_p99_ms)),
        ),
    ]


def _mark(ok: bool | None) -> str:
    return {True: "PASS", False: "FAIL", None: "UNKNOWN"}[ok]


def text(summary: Summary) -> str:
    width = max(len(label) for label, _ in rows(summary))
    lines = [f"{label:<{width}}  {value}" for label, value in rows(summary)]
    if summary.response_codes:
        lines.append(f"{'response codes':<{width}}  " + ", ".join(_codes(summary.response_codes)))
    lines.append("")
    lines += [f"  {_mark(check.ok):<7} {check.name}: {check.detail}" for check in summary.checks]
    lines += [f"  note: {note}" for note in summary.notes]
    if summary.failure_messages:
        lines.append("  most frequent failures:")
        lines += [f"    {count:>6} x {message}" for message, count in summary.failure_messages.items()]
    lines.append("")
    lines.append(f"RESULT: {'PASS' if summary.passed else 'FAIL'}")
    return "\n".join(lines)


def _codes(codes: Mapping[str, int]) -> list[str]:
    return [f"{code or '(none)'}: {count:,}" for code, count in codes.items()]
