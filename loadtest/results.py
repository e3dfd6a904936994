"""JMeter results (CSV JTL files) and the statistics taken from them.

JMeter 3+ writes a header row; Debian's 2.13 writes one only when asked
(`jmeter.save.saveservice.print_field_names=true`, which loadtest/jmeter.py passes). A file without a
header is read with the column order JMeter uses for the fields loadtest/jmeter.py enables.
"""

from __future__ import annotations

import csv
import itertools
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

# The order JMeter's CSVSaveService writes the fields that jmeter.JTL_PROPERTIES enables
# (without a header row the file can only be read by position).
HEADERLESS_FIELDS: tuple[str, ...] = (
    "timeStamp",
    "elapsed",
    "label",
    "responseCode",
    "responseMessage",
    "threadName",
    "success",
    "failureMessage",
    "bytes",
    "grpThreads",
    "allThreads",
    "Latency",
    "Connect",
)

ACCEPTED_CODE = "202"


class JtlError(ValueError):
    """The results file cannot be read."""


@dataclass(frozen=True)
class Sample:
    """One HTTP request as JMeter recorded it."""

    timestamp_ms: int  # start of the request, epoch milliseconds
    elapsed_ms: int
    label: str
    response_code: str
    success: bool
    latency_ms: int | None = None
    connect_ms: int | None = None
    thread_name: str = ""
    failure_message: str = ""

    @property
    def end_ms(self) -> int:
        return self.timestamp_ms + self.elapsed_ms


def _int_or_none(value: str | None) -> int | None:
    if value is None or value.strip() == "":
        return None
    try:
        return int(value)
    except ValueError:
        return None


def _sample(row: Mapping[str, str | None], line: int) -> Sample:
    try:
        timestamp = int(row["timeStamp"] or "")
        elapsed = int(row["elapsed"] or "")
    except (KeyError, ValueError) as exc:
        raise JtlError(f"line {line}: no numeric timeStamp/elapsed ({exc})") from exc
    return Sample(
        timestamp_ms=timestamp,
        elapsed_ms=elapsed,
        label=row.get("label") or "",
        response_code=(row.get("responseCode") or "").strip(),
        success=(row.get("success") or "").strip().lower() == "true",
        latency_ms=_int_or_none(row.get("Latency")),
        connect_ms=_int_or_none(row.get("Connect")),
        thread_name=row.get("threadName") or "",
        failure_message=row.get("failureMessage") or "",
    )


def parse_jtl_lines(lines: Iterable[str], headerless_fields: Sequence[str] = HEADERLESS_FIELDS) -> list[Sample]:
    """Samples from CSV JTL text, with or without a header row (quoted multi-line cells allowed)."""
    rows = csv.reader(lines)
    first = next(rows, None)
    if first is None:
        return []
    if first and first[0].strip() == "timeStamp":
        names: Sequence[str] = [name.strip() for name in first]
        pending: list[list[str]] = []
    else:
        names = headerless_fields
        pending = [first]
    samples: list[Sample] = []
    line = 1
    for cells in itertools.chain(pending, rows):
        line += 1
        if not cells or (len(cells) == 1 and not cells[0].strip()):
            continue
        if len(cells) != len(names):
            raise JtlError(f"line {line}: {len(cells)} cells, expected {len(names)} ({', '.join(names)})")
        samples.append(_sample(dict(zip(names, cells, strict=True)), line))
    return samples


def parse_jtl(path: Path, headerless_fields: Sequence[str] = HEADERLESS_FIELDS) -> list[Sample]:
    if not path.exists():
        raise JtlError(f"{path}: no results file (did JMeter run?)")
    with path.open(newline="", encoding="utf-8") as handle:
        return parse_jtl_lines(handle, headerless_fields)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100) with linear interpolation between closest ranks.

    The same definition as PostgreSQL's percentile_cont and numpy's default, so the HTTP latencies
    and the database lead times are comparable. None for no values.
    """
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0..100, not {q}")
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = math.ceil(rank)
    if low == high:
        return float(ordered[low])
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class JtlStats:
    """What the load generator saw."""

    requests: int
    errors: int  # samples JMeter marked failed (an assertion failed or no response)
    accepted: int  # 202 responses
    first_start_ms: int | None
    last_end_ms: int | None
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    mean_ms: float | None
    max_ms: int | None
    response_codes: dict[str, int] = field(default_factory=dict)
    failure_messages: dict[str, int] = field(default_factory=dict)

    @property
    def duration_s(self) -> float | None:
        if self.first_start_ms is None or self.last_end_ms is None:
            return None
        return max(self.last_end_ms - self.first_start_ms, 1) / 1000

    @property
    def throughput_rps(self) -> float | None:
        duration = self.duration_s
        return None if duration is None else self.requests / duration


def jtl_stats(samples: Sequence[Sample]) -> JtlStats:
    elapsed = [float(sample.elapsed_ms) for sample in samples]
    failures = Counter(
        " ".join(sample.failure_message.split())[:200] or f"{sample.response_code} (no message)"
        for sample in samples
        if not sample.success
    )
    return JtlStats(
        requests=len(samples),
        errors=sum(1 for sample in samples if not sample.success),
        accepted=sum(1 for sample in samples if sample.response_code == ACCEPTED_CODE),
        first_start_ms=min((sample.timestamp_ms for sample in samples), default=None),
        last_end_ms=max((sample.end_ms for sample in samples), default=None),
        p50_ms=percentile(elapsed, 50),
        p95_ms=percentile(elapsed, 95),
        p99_ms=percentile(elapsed, 99),
        mean_ms=sum(elapsed) / len(elapsed) if elapsed else None,
        max_ms=max((sample.elapsed_ms for sample in samples), default=None),
        response_codes=dict(sorted(Counter(sample.response_code for sample in samples).items())),
        failure_messages=dict(failures.most_common(10)),
    )


@dataclass(frozen=True)
class Second:
    """The requests that completed within one second of the run."""

    t_s: int  # seconds since the first request started
    requests: int
    errors: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None


def per_second(samples: Sequence[Sample], origin_ms: int | None = None) -> list[Second]:
    """Completions per second (by end time), with latency percentiles; empty seconds included."""
    if not samples:
        return []
    origin = min(sample.timestamp_ms for sample in samples) if origin_ms is None else origin_ms
    buckets: dict[int, list[Sample]] = {}
    for sample in samples:
        buckets.setdefault(max(sample.end_ms - origin, 0) // 1000, []).append(sample)
    seconds = []
    for t in range(min(buckets), max(buckets) + 1):
        bucket = buckets.get(t, [])
        elapsed = [float(sample.elapsed_ms) for sample in bucket]
        seconds.append(
            Second(
                t_s=t,
                requests=len(bucket),
                errors=sum(1 for sample in bucket if not sample.success),
                p50_ms=percentile(elapsed, 50),
                p95_ms=percentile(elapsed, 95),
                p99_ms=percentile(elapsed, 99),
            )
        )
    return seconds
