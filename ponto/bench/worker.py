"""`ponto bench worker`: the worker handler's throughput beside the reference design and a raw COPY.

Three ways to write the same punches into the same (emptied) table, timed side by side:

* the real worker handler, as serverless.yml names it, invoked with SQS events of 10 and 1,000 records;
* the reference project's way: batches of 10, a new connection per invocation, one INSERT per row,
  one commit per batch (parameterised here: its SQL injection is not part of the cost being compared);
* the limit: one COPY of every row, from a buffer built beforehand, then a commit.

Only the writing is timed: events, contexts and buffers are built first.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import psycopg2
import psycopg2.errors
import psycopg2.extensions

from ponto import migrations
from ponto.bench.measure import at_least, median, rate, ratio, silenced_stdout
from ponto.bench.synthetic import bench_context, punch_records, sqs_events
from ponto.punch import Punch, parse_record
from ponto.serverless_config import SERVERLESS_YML, function_handler
from ponto.store import COLUMNS, COPY_SQL, copy_text

DEFAULT_RECORDS = 20_000
DEFAULT_REPEAT = 5  # each approach runs this many times; the median counts
DEFAULT_SEED_RECORDS = 5_000  # the reference approach runs at ~2k rows/s: a subset keeps the run short
SEED_BATCH_SIZE = 10  # the SQS event source's default batch size, which the reference kept
TARGETS = {"ratio_vs_seed_b1000": 25.0, "ratio_vs_copy_b1000": 0.6, "ratio_vs_seed_b10": 3.0}
TIMEZONE = "America/Sao_Paulo"

_SEED_INSERT = f"INSERT INTO punches ({', '.join(COLUMNS)}) VALUES ({', '.join(['%s'] * len(COLUMNS))})"

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
Connection = psycopg2.extensions.connection


class BenchError(RuntimeError):
    """The benchmark could not measure what it claims (rows missing, failures reported)."""


# --- building the data -------------------------------------------------------------------------


def seed_row(record: Mapping[str, Any]) -> tuple[Any, ...]:
    """The reference handler's work for one record: parse the JSON body, pick the columns.

    The same columns as the worker's COPY: the table derives kind, device_id and location from raw.
    """
    body = json.loads(record["body"])
    attributes = {name: value["stringValue"] for name, value in record["messageAttributes"].items()}
    return (
        body["punch_id"],
        body["employee_id"],
        body["punched_at"],
        "v1",
        attributes.get("requestId"),
        record["messageId"],
        attributes.get("sourceIp"),
        attributes.get("apiKeyId"),
        datetime.fromtimestamp(int(attributes["receivedAt"]) / 1000, tz=UTC),
        record["body"],
    )


def parse_records(records: Sequence[Mapping[str, Any]]) -> list[Punch]:
    tz = ZoneInfo(TIMEZONE)
    return [parse_record(r, tz) for r in records]


# --- the database ------------------------------------------------------------------------------


@contextlib.contextmanager
def database(url: str | None) -> Iterator[str]:
    """The given database URL, else a temporary pgserver that is stopped and removed afterwards."""
    if url:
        yield url
        return
    import pgserver

    with tempfile.TemporaryDirectory(prefix="ponto-bench-") as directory:
        server = pgserver.get_server(directory, cleanup_mode="stop")  # type: ignore[attr-defined]
        try:
            yield str(server.get_uri())
        finally:
            server.cleanup()


def prepare(url: str) -> None:
    conn = psycopg2.connect(url)
    try:
        migrations.apply(conn)
    finally:
        conn.close()


def truncate(url: str) -> None:
    """Empty the table, then checkpoint: each approach starts from the same state, not from the
    previous one's dirty pages and WAL (which the server would otherwise flush during its timing)."""
    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            # The record's triggers refuse TRUNCATE: the bench's own database is reset with them off.
            cur.execute("SET session_replication_role = replica")
            cur.execute("TRUNCATE punches, afd_records")
            cur.execute("RESET session_replication_role")
            # A --database-url without the right to checkpoint is measured as it is.
            with contextlib.suppress(psycopg2.errors.InsufficientPrivilege):
                cur.execute("CHECKPOINT")
    finally:
        conn.close()


def count_rows(url: str) -> int:
    conn = psycopg2.connect(url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM punches")
            row = cur.fetchone()
    finally:
        conn.close()
    return int(row[0]) if row else 0


def verify(url: str, expected: int, approach: str) -> None:
    rows = count_rows(url)
    if rows != expected:
        raise BenchError(f"{approach}: {rows} rows in punches after writing {expected} distinct punches")


# --- the approaches ----------------------------------------------------------------------------


@contextlib.contextmanager
def worker_handler(url: str) -> Iterator[Handler]:
    """The handler serverless.yml names for the worker, imported fresh with the bench's settings.

    Its module reads its settings from the environment when imported, as on Lambda; the environment
    and sys.modules are restored afterwards and its connection is closed.
    """
    path, _, attribute = function_handler("worker").rpartition(".")
    module_name = path.replace("/", ".")
    env = {
        "PONTO_DATABASE_URL": url,
        "PONTO_TIMEZONE": TIMEZONE,
        "POWERTOOLS_SERVICE_NAME": "ponto",
        "POWERTOOLS_METRICS_NAMESPACE": "PontoBench",
    }
    saved_env = {name: os.environ.get(name) for name in env}
    saved_module = sys.modules.pop(module_name, None)
    root = str(SERVERLESS_YML.parent)
    added_path = root not in sys.path
    if added_path:
        sys.path.insert(0, root)
    os.environ.update(env)
    module = None
    try:
        module = importlib.import_module(module_name)
        yield getattr(module, attribute)
    finally:
        store = getattr(module, "store", None)
        if store is not None:
            store.close()
        sys.modules.pop(module_name, None)
        if saved_module is not None:
            sys.modules[module_name] = saved_module
        if added_path:
            sys.path.remove(root)
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def time_handler(handler: Handler, records: Sequence[dict[str, Any]], batch_size: int) -> float:
    """Seconds the handler takes over every record, in events of `batch_size`."""
    events = sqs_events(records, batch_size)
    contexts = [bench_context() for _ in events]
    responses: list[dict[str, Any]] = []
    with silenced_stdout():
        start = time.perf_counter()
        for event, context in zip(events, contexts, strict=True):
            responses.append(handler(event, context))
        elapsed = time.perf_counter() - start
    failed = sum(len(r.get("batchItemFailures") or []) for r in responses)
    if failed:
        raise BenchError(f"handler, batch {batch_size}: {failed} records reported as failed")
    return elapsed


def time_seed(url: str, records: Sequence[dict[str, Any]]) -> float:
    """Seconds the reference design takes: per batch of 10, connect, INSERT each row, commit, close."""
    events = sqs_events(records, SEED_BATCH_SIZE)
    start = time.perf_counter()
    for event in events:
        conn = psycopg2.connect(url)
        try:
            with conn.cursor() as cur:
                for record in event["Records"]:
                    cur.execute(_SEED_INSERT, seed_row(record))
            conn.commit()
        finally:
            conn.close()
    return time.perf_counter() - start


def time_copy(url: str, punches: Sequence[Punch]) -> float:
    """Seconds one COPY of every row (from a buffer built beforehand) and its commit take."""
    text = copy_text(punches)
    conn = psycopg2.connect(url)
    try:
        buffer = io.StringIO(text)
        start = time.perf_counter()
        with conn.cursor() as cur:
            cur.copy_expert(COPY_SQL, buffer)
        conn.commit()
        return time.perf_counter() - start
    finally:
        conn.close()


def time_python(records: Sequence[dict[str, Any]]) -> float:
    """Seconds the worker's own Python work takes with no database: parse every record, make its COPY row.

    Beside the handler's time it splits the cost: what is Python's, and what waiting on (or sharing
    the machine with) PostgreSQL adds.
    """
    start = time.perf_counter()
    copy_text(parse_records(records)).encode()
    return time.perf_counter() - start


# --- the run -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkerBenchOptions:
    records: int = DEFAULT_RECORDS
    seed_records: int = DEFAULT_SEED_RECORDS
    repeat: int = DEFAULT_REPEAT
    database_url: str | None = None


def run(options: WorkerBenchOptions) -> dict[str, Any]:
    """Write the same punches each way, `repeat` times over, on an emptied table; median seconds each."""
    if options.records < 1 or options.repeat < 1:
        raise ValueError("records and repeat must be at least 1")
    records = punch_records(options.records)
    seed_count = max(1, min(options.records, options.seed_records))
    warmup = punch_records(SEED_BATCH_SIZE, seed=1)  # other ids than `records`: truncated before timing
    punches = parse_records(records)
    timings: dict[str, list[float]] = {name: [] for name in ("b10", "b1000", "seed", "copy", "python")}
    with database(options.database_url) as url:
        prepare(url)
        truncate(url)
        with worker_handler(url) as handler:
            # A warm execution environment (connection open, contract compiled), as after a cold start.
            time_handler(handler, warmup, SEED_BATCH_SIZE)
            # Every round runs each approach once, so a change in the machine's load touches all alike.
            for _ in range(options.repeat):
                for batch_size in (10, 1000):
                    truncate(url)
                    timings[f"b{batch_size}"].append(time_handler(handler, records, batch_size))
                    verify(url, len(records), f"handler, batch {batch_size}")
                truncate(url)
                timings["seed"].append(time_seed(url, records[:seed_count]))
                verify(url, seed_count, "reference")
                truncate(url)
                timings["copy"].append(time_copy(url, punches))
                verify(url, len(records), "copy")
                timings["python"].append(time_python(records))
        truncate(url)
    seconds = {name: median(values) for name, values in timings.items()}
    figures = report(
        len(records), seed_count, seconds, repeat=options.repeat, given_database=options.database_url is not None
    )
    figures["seconds_each_round"] = {name: [round(v, 3) for v in values] for name, values in timings.items()}
    return figures


def _us(seconds: float | None, rows: int) -> float | None:
    return None if seconds is None else round(seconds / rows * 1e6, 1)


def report(
    records: int, seed_records: int, seconds: Mapping[str, float], *, repeat: int = 1, given_database: bool = False
) -> dict[str, Any]:
    """The figures of a run from the median seconds of each approach."""
    b10 = rate(records, seconds["b10"])
    b1000 = rate(records, seconds["b1000"])
    seed = rate(seed_records, seconds["seed"])
    copy = rate(records, seconds["copy"])
    ratios = {
        "ratio_vs_seed_b10": ratio(b10, seed),
        "ratio_vs_seed_b1000": ratio(b1000, seed),
        "ratio_vs_copy_b1000": ratio(b1000, copy),
    }
    targets_met = {name: at_least(ratios[name], target) for name, target in TARGETS.items()}
    return {
        "records": records,
        "seed_records": seed_records,
        "repeat": repeat,
        "rows_verified": True,
        "rows_per_s_b10": b10,
        "rows_per_s_b1000": b1000,
        "seed_rows_per_s": seed,
        "copy_rows_per_s": copy,
        **ratios,
        "targets": dict(TARGETS),
        "targets_met": targets_met,
        "all_targets_met": all(targets_met.values()),
        # Where a row's time goes (µs): the worker's Python alone, the database alone (COPY), and
        # the handler at batch 1,000, where the two run at once on the same machine.
        "us_per_row": {
            "python_alone": _us(seconds.get("python"), records),
            "copy_alone": _us(seconds["copy"], records),
            "handler_b1000": _us(seconds["b1000"], records),
        },
        "median_seconds": {name: round(value, 3) for name, value in seconds.items()},
        "database": "given" if given_database else "temporary pgserver",
    }
