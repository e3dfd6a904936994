"""`ponto bench worker`: the worker handler's throughput beside the reference design and a raw COPY.

Three ways to write the same punches into the same (emptied) table, timed side by side:

* the real worker handler, as serverless.yml names it, invoked with SQS events of 10 and 1,000 records;
* the reference project's way: batches of 10, a new connection per invocation, one INSERT per row,
  one commit per batch (parameterised here: its SQL injection is not part of the cost being compared);
* the limit: one COPY of every row, from a buffer built beforehand, then a commit.

The handler's punches come through unregistered API keys: they are recorded unsealed. The sealed path
is timed beside them, at batch 1,000, with the same punches: their keys made devices of ONE
establishment where every employee is registered (each batch takes that one head: the worst case), and
of 100 establishments (one key each; each employee registered where their punches go). After each
sealed run every punch must hold exactly one seal and every establishment's record must pass
`ponto verify` (NSRs from 1 without gaps, the hash chain, the head).

Only the writing is timed: events, contexts, buffers and the registry are built first.
"""

from __future__ import annotations

import contextlib
import cProfile
import gc
import importlib
import io
import json
import os
import pstats
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

import psycopg2
import psycopg2.errors
import psycopg2.extensions
import psycopg2.extras

from ponto import migrations
from ponto.bench.measure import at_least, median, rate, ratio, silenced_stdout
from ponto.bench.synthetic import api_key_ids, batches, bench_context, punch_records, sqs_events
from ponto.punch import Punch, parse_record
from ponto.record import registry as rules
from ponto.record.documents import make_cnpj, make_cpf
from ponto.record.verify import verify_chain
from ponto.serverless_config import SERVERLESS_YML, function_handler
from ponto.store import COLUMNS, COPY_SQL, copy_text
from ponto.store import record as record_store
from ponto.store import registry as registry_store

DEFAULT_RECORDS = 20_000
DEFAULT_REPEAT = 5  # each approach runs this many times; the median counts
DEFAULT_SEED_RECORDS = 5_000  # the reference approach runs at ~2k rows/s: a subset keeps the run short
SEED_BATCH_SIZE = 10  # the SQS event source's default batch size, which the reference kept
SEALED_BATCH_SIZE = 1000
SPREAD_ESTABLISHMENTS = 100  # the spread layout: one API key (a device) per establishment
KEYS = SPREAD_ESTABLISHMENTS  # the synthetic punches' API keys
UNSEALED_TARGETS = {"ratio_vs_seed_b1000": 25.0, "ratio_vs_copy_b1000": 0.6, "ratio_vs_seed_b10": 3.0}
SEALED_TARGETS = {"ratio_sealed_1_vs_copy": 0.5, "ratio_sealed_100_vs_copy": 0.6}
TARGETS = {**UNSEALED_TARGETS, **SEALED_TARGETS}
TIMEZONE = "America/Sao_Paulo"
PROFILED_BATCHES = 5
SEALED_RUNS = ("sealed_1", f"sealed_{SPREAD_ESTABLISHMENTS}")
RESPONSIBLE_CPF = make_cpf(99_999_999)  # who registers the bench's establishments and employees

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
        None,  # punched_at_problem: the synthetic punches' times are all real
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
    from ponto.local.stack import start_pgserver

    with tempfile.TemporaryDirectory(prefix="ponto-bench-") as directory:
        server = start_pgserver(directory)
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


# --- the sealed path: the registry, its reset, the checks --------------------------------------

_REGISTRY_TABLES = "punches, afd_records, devices, employees, record_heads, establishments, holidays, punch_treatments"
_RECORD_COLUMNS = "establishment_id, nsr, record_type, recorded_at, punch_id, line"
# After the registry's own records (types 2 and 5) come back: each head where those records end.
_RESET_HEADS = """
UPDATE record_heads AS h SET last_nsr = r.nsr, last_hash = NULL, last_recorded_at = r.recorded_at
FROM (SELECT establishment_id, max(nsr) AS nsr, max(recorded_at) AS recorded_at FROM afd_records
      GROUP BY establishment_id) AS r
WHERE h.establishment_id = r.establishment_id
"""
_SEAL_COUNTS = """
SELECT (SELECT count(*) FROM punches),
       (SELECT count(*) FROM afd_records WHERE record_type = 7),
       (SELECT count(*) FROM punches p WHERE NOT EXISTS (SELECT 1 FROM afd_records r WHERE r.punch_id = p.punch_id)),
       (SELECT count(*) FROM afd_records r WHERE r.record_type = 7
            AND NOT EXISTS (SELECT 1 FROM punches p WHERE p.punch_id = r.punch_id))
"""


@dataclass(frozen=True)
class Layout:
    """Which establishment each API key's device belongs to, for one sealed run."""

    name: str
    devices: dict[str, int]  # api_key_id -> establishment_id

    @property
    def establishments(self) -> list[int]:
        return sorted(set(self.devices.values()))


@dataclass(frozen=True)
class Registry:
    """The bench's establishments and employees, the layouts of its sealed runs, and the registry's
    own AFD records (types 2 and 5), kept to put back whenever the record is emptied."""

    layouts: dict[str, Layout]
    records: bytes  # COPY text of afd_records as the registry left it
    zones: dict[int, str]  # establishment_id -> time zone


def clear_registry(url: str) -> None:
    """Empty the record AND the registry (establishments, employees, devices, heads)."""
    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SET session_replication_role = replica")
            cur.execute(f"TRUNCATE {_REGISTRY_TABLES} RESTART IDENTITY")
            cur.execute("RESET session_replication_role")
    finally:
        conn.close()


def build_registry(url: str, punches: Sequence[Punch]) -> Registry:
    """Register what the sealed runs need, with the real registry functions (types 2 and 5 records):

    * `sealed_1`: one establishment, every employee of the punches registered there, every key a device;
    * `sealed_100`: one establishment per key, each employee registered where their punches' keys go.

    Devices are not registered here: `use_layout` puts one layout's devices in place before its run.
    """
    clear_registry(url)
    employees = sorted({p.employee_id for p in punches})
    people = {
        employee_id: rules.employee(employee_id, make_cpf(index + 1), f"Empregado {employee_id}")
        for index, employee_id in enumerate(employees)
    }
    by_key: dict[str, set[str]] = {}
    for punch in punches:
        if punch.api_key_id is not None:
            by_key.setdefault(punch.api_key_id, set()).add(punch.employee_id)
    keys = [key for key in api_key_ids(KEYS) if key in by_key]
    conn = psycopg2.connect(url)
    try:
        one = _register(conn, 0, "Bench (uma unidade)", [people[e] for e in employees])
        spread = {
            key: _register(conn, index + 1, f"Bench unidade {index:02d}", [people[e] for e in sorted(by_key[key])])
            for index, key in enumerate(keys)
        }
        with conn, conn.cursor() as cur:
            # As autovacuum would soon after a registration: the seal's lookup planned on real counts.
            cur.execute("ANALYZE establishments, employees, record_heads")
            records = io.BytesIO()
            cur.copy_expert(f"COPY afd_records ({_RECORD_COLUMNS}) TO STDOUT", records)
            cur.execute("SELECT establishment_id, timezone FROM establishments")
            zones = {int(row[0]): str(row[1]) for row in cur.fetchall()}
    finally:
        conn.close()
    layouts = {
        "sealed_1": Layout("sealed_1", dict.fromkeys(keys, one)),
        f"sealed_{SPREAD_ESTABLISHMENTS}": Layout(f"sealed_{SPREAD_ESTABLISHMENTS}", spread),
    }
    return Registry(layouts, records.getvalue(), zones)


def _register(conn: Connection, number: int, name: str, employees: Sequence[rules.Employee]) -> int:
    establishment = registry_store.add_establishment(
        conn,
        rules.establishment(cnpj=make_cnpj(number + 1), cpf=None, name=name, workplace="Rua do Bench, 1, Sao Paulo"),
        RESPONSIBLE_CPF,
    )
    registry_store.add_employees(conn, establishment, employees, RESPONSIBLE_CPF)
    assert establishment.establishment_id is not None
    return establishment.establishment_id


def use_layout(url: str, layout: Layout | None) -> None:
    """Make the layout's devices the only ones (none: every punch stays unsealed)."""
    conn = psycopg2.connect(url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("DELETE FROM devices")
            if layout is not None:
                psycopg2.extras.execute_values(
                    cur,
                    "INSERT INTO devices (device_id, establishment_id, kind, name, api_key_id) VALUES %s",
                    [
                        (str(uuid.uuid4()), establishment_id, "device", f"Relogio {key}", key)
                        for key, establishment_id in layout.devices.items()
                    ],
                )
            cur.execute("ANALYZE devices")
    finally:
        conn.close()


def reset_record(url: str, registry: Registry) -> None:
    """Empty the record tables, put the registry's own records back and each head where they end;
    then checkpoint, as `truncate` does."""
    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SET session_replication_role = replica")
            cur.execute("TRUNCATE punches, afd_records")
            cur.execute("RESET session_replication_role")
            cur.copy_expert(f"COPY afd_records ({_RECORD_COLUMNS}) FROM STDIN", io.BytesIO(registry.records))
            cur.execute(_RESET_HEADS)
            with contextlib.suppress(psycopg2.errors.InsufficientPrivilege):
                cur.execute("CHECKPOINT")
    finally:
        conn.close()


def verify_sealed(url: str, expected: int, layout: Layout) -> None:
    """Every punch written, each with exactly one seal, and every establishment's record as `ponto
    verify` wants it: NSRs from 1 without gaps, each punch's hash chained, the head where it ends."""
    conn = psycopg2.connect(url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(_SEAL_COUNTS)
            row = cur.fetchone()
        assert row is not None
        punches, seals, unsealed, orphans = (int(value) for value in row)
        if (punches, seals, unsealed, orphans) != (expected, expected, 0, 0):
            raise BenchError(
                f"{layout.name}: {punches} punches, {seals} seals, {unsealed} punches unsealed and {orphans} seals"
                f" without their punch after writing {expected} distinct punches"
            )
        sealed = 0
        for establishment_id in layout.establishments:
            with conn, conn.cursor() as cur:
                head = record_store.head(cur, establishment_id)
            with conn:
                report = verify_chain(establishment_id, record_store.chain_rows(conn, establishment_id), head)
            if not report.ok:
                raise BenchError(f"{layout.name}: establishment {establishment_id}: {'; '.join(report.problems[:3])}")
            sealed += report.punches
        if sealed != expected:
            raise BenchError(f"{layout.name}: {sealed} seals in the layout's establishments, {expected} expected")
    finally:
        conn.close()


def seal_rows(url: str) -> bytes:
    """The seals (type-7 rows) just written, as COPY text: what `time_afd_copy` writes again."""
    conn = psycopg2.connect(url)
    try:
        with conn, conn.cursor() as cur:
            buffer = io.BytesIO()
            cur.copy_expert(
                f"COPY (SELECT {_RECORD_COLUMNS} FROM afd_records WHERE record_type = 7"
                " ORDER BY establishment_id, nsr) TO STDOUT",
                buffer,
            )
    finally:
        conn.close()
    return buffer.getvalue()


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


def time_afd_copy(url: str, rows: bytes) -> float:
    """Seconds one COPY of the seals' rows into afd_records (from a buffer) and its commit take: the
    database's share of sealing, beside `time_copy`'s share of recording."""
    conn = psycopg2.connect(url)
    try:
        buffer = io.BytesIO(rows)
        start = time.perf_counter()
        with conn.cursor() as cur:
            cur.copy_expert(f"COPY afd_records ({_RECORD_COLUMNS}) FROM STDIN", buffer)
        conn.commit()
        return time.perf_counter() - start
    finally:
        conn.close()


class _MemoryCursor:
    """Enough of a cursor for `seal_punches`, answered from memory: the seal's Python work alone.

    The registry lookup and the heads come from dicts; the record rows are read from the seal's COPY
    stream and dropped; the heads' UPDATE is built (mogrify) but not sent. Every head is handed out as
    the registry left it: the NSRs repeat from batch to batch, which costs the Python the same.
    """

    def __init__(self, conn: Connection, layout: Layout, registry: Registry, cpfs: Mapping[tuple[int, str], str]):
        self._real = conn.cursor()
        self.connection = conn
        self._layout = layout
        self._cpfs = cpfs
        self._heads = {eid: (eid, 0, None, None, registry.zones[eid], 0) for eid in layout.establishments}
        self._rows: list[tuple[Any, ...]] = []

    def mogrify(self, query: Any, args: Any = None) -> bytes:
        return self._real.mogrify(query, args)

    def execute(self, query: Any, args: Any = None) -> None:
        text = query if isinstance(query, str) else ""
        if "FROM devices" in text:
            devices = self._layout.devices
            self._rows = [(key, devices[key], "device") for key in _array_items(args[0]) if key in devices]
        elif "JOIN employees" in text:
            self._rows = [
                (establishment_id, employee_id, self._cpfs[establishment_id, employee_id])
                for establishment_id, employee_id in zip(args[0], _array_items(args[1]), strict=True)
                if (establishment_id, employee_id) in self._cpfs
            ]
        elif "FOR UPDATE" in text:
            self._rows = [self._heads[eid] for eid in args[0]]
        else:
            self._rows = []

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._rows

    def copy_expert(self, sql: str, stream: Any) -> None:
        while stream.read(8192):
            pass

    def close(self) -> None:
        self._real.close()


def _array_items(literal: str) -> list[str]:
    """The items of a text[] literal made by `ponto.store.record.text_array` (the bench's have no escapes)."""
    return [item[1:-1] for item in literal[1:-1].split(",")] if literal != "{}" else []


def employee_cpfs(url: str) -> dict[tuple[int, str], str]:
    conn = psycopg2.connect(url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT establishment_id, employee_id, cpf FROM employees WHERE active")
            return {(int(eid), str(employee_id)): str(cpf) for eid, employee_id, cpf in cur.fetchall()}
    finally:
        conn.close()


def time_python_sealed(url: str, records: Sequence[dict[str, Any]], layout: Layout, registry: Registry) -> float:
    """Seconds the worker's own Python work takes for the sealed path with no database: parse each
    batch of 1,000, make its COPY rows, then `seal_punches` (resolve, seal, the record rows, the heads'
    UPDATE) against a cursor answered from memory."""
    cpfs = employee_cpfs(url)
    conn = psycopg2.connect(url)  # for mogrify only: nothing is sent
    try:
        cursor = _MemoryCursor(conn, layout, registry, cpfs)
        groups = list(batches(records, SEALED_BATCH_SIZE))
        start = time.perf_counter()
        for group in groups:
            punches = parse_records(group)
            copy_text(punches).encode()
            record_store.seal_punches(cast(record_store.Cursor, cursor), punches)
        elapsed = time.perf_counter() - start
        cursor.close()
        return elapsed
    finally:
        conn.close()


# Where the profiled handler waits on PostgreSQL: psycopg2's C methods, by the function that calls them.
_DATABASE_CALLS = ("execute", "copy_expert", "fetchall", "fetchone")


def profile_sealed_batches(handler: Handler, records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """cProfile of the handler on sealed batches of 1,000 (`records` in order), per batch: ms waiting on
    each database call (by the function that makes it), ms of Python (the rest, inflated by the
    profiler), and the Python functions that cost most."""
    events = sqs_events(records, SEALED_BATCH_SIZE)
    contexts = [bench_context() for _ in events]
    profiler = cProfile.Profile()
    failed = 0
    with silenced_stdout():
        start = time.perf_counter()
        for event, context in zip(events, contexts, strict=True):
            profiler.enable()
            response = handler(event, context)
            profiler.disable()
            failed += len(response.get("batchItemFailures") or [])
        elapsed = time.perf_counter() - start
    if failed:
        raise BenchError(f"profiled batches: {failed} records reported as failed")
    batches_run = len(events)
    stats = pstats.Stats(profiler)
    entries = cast(dict[tuple[str, int, str], tuple[Any, ...]], stats.stats)  # type: ignore[attr-defined]
    waits: dict[str, float] = {}
    python: list[tuple[float, str]] = []
    total = 0.0
    for (filename, line, name), (_, _, own, _, callers) in entries.items():
        total += own
        method = name.split("'")[1] if name.startswith("<method '") else ""
        if filename == "~" and method in _DATABASE_CALLS and "psycopg2" in name:
            for (_, _, caller), caller_stats in callers.items():
                label = f"{method} from {caller}"
                waits[label] = waits.get(label, 0.0) + caller_stats[2]
        elif filename != "~":
            python.append((own, f"{os.path.basename(filename)}:{line} {name}"))
    waiting = sum(waits.values())
    python.sort(reverse=True)
    per_batch = 1000 / batches_run  # seconds over every batch -> ms per batch
    return {
        "batches": batches_run,
        "ms_per_batch": round(elapsed * per_batch, 1),
        "ms_database_calls": round(waiting * per_batch, 1),
        "ms_python_profiled": round((total - waiting) * per_batch, 1),
        "ms_by_database_call": {k: round(v * per_batch, 2) for k, v in sorted(waits.items(), key=lambda i: -i[1])},
        "top_python_ms": {name: round(own * per_batch, 2) for own, name in python[:8]},
    }


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
    records = punch_records(options.records, keys=KEYS)
    seed_count = max(1, min(options.records, options.seed_records))
    warmup = punch_records(SEED_BATCH_SIZE, seed=1)  # other ids than `records`: truncated before timing
    punches = parse_records(records)
    names = ("b10", "b1000", "seed", "copy", "python", *SEALED_RUNS, "afd_copy", "python_sealed")
    timings: dict[str, list[float]] = {name: [] for name in names}
    with database(options.database_url) as url:
        prepare(url)
        # Untimed: the establishments and employees of the sealed runs, with their own AFD records.
        registry = build_registry(url, punches)
        truncate(url)
        with worker_handler(url) as handler, _frozen_heap():
            # A warm execution environment (connection open, contract compiled), as after a cold start.
            time_handler(handler, warmup, SEED_BATCH_SIZE)
            # Every round runs each approach once, so a change in the machine's load touches all alike.
            for _ in range(options.repeat):
                use_layout(url, None)  # no device: the handler's punches are recorded unsealed
                sys.modules[handler.__module__].store.close()  # it may know the last layout's devices
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
                seals = b""
                for name, layout in registry.layouts.items():
                    use_layout(url, layout)
                    reset_record(url, registry)
                    # A device never moves to another establishment, so a warm worker keeps the devices
                    # it has looked up; the bench moves them between layouts: a fresh connection each.
                    sys.modules[handler.__module__].store.close()
                    timings[name].append(time_handler(handler, records, SEALED_BATCH_SIZE))
                    verify_sealed(url, len(records), layout)
                    seals = seals or seal_rows(url)
                reset_record(url, registry)
                timings["afd_copy"].append(time_afd_copy(url, seals))
                one = registry.layouts["sealed_1"]
                timings["python_sealed"].append(time_python_sealed(url, records, one, registry))
            use_layout(url, registry.layouts["sealed_1"])
            reset_record(url, registry)
            sys.modules[handler.__module__].store.close()
            profile = profile_sealed_batches(handler, records[: PROFILED_BATCHES * SEALED_BATCH_SIZE])
        clear_registry(url)
    seconds = {name: median(values) for name, values in timings.items()}
    figures = report(
        len(records), seed_count, seconds, repeat=options.repeat, given_database=options.database_url is not None
    )
    figures["sealed_1_profile"] = profile
    figures["seconds_each_round"] = {name: [round(v, 3) for v in values] for name, values in timings.items()}
    return figures


@contextlib.contextmanager
def _frozen_heap() -> Iterator[None]:
    """Keep the garbage collector off the bench's own data while timing.

    A Lambda's heap holds one batch; the bench's holds every synthetic record of the run (~350,000
    objects at 20,000 records), and a full collection that falls inside a timed run walks all of it
    (~100 ms here, charged to whatever the handler was doing). Frozen, those objects are not traversed."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _us(seconds: float | None, rows: int) -> float | None:
    return None if seconds is None else round(seconds / rows * 1e6, 1)


def report(
    records: int, seed_records: int, seconds: Mapping[str, float], *, repeat: int = 1, given_database: bool = False
) -> dict[str, Any]:
    """The figures of a run from the median seconds of each approach (the sealed ones when measured)."""
    b10 = rate(records, seconds["b10"])
    b1000 = rate(records, seconds["b1000"])
    seed = rate(seed_records, seconds["seed"])
    copy = rate(records, seconds["copy"])
    ratios = {
        "ratio_vs_seed_b10": ratio(b10, seed),
        "ratio_vs_seed_b1000": ratio(b1000, seed),
        "ratio_vs_copy_b1000": ratio(b1000, copy),
    }
    sealed: dict[str, Any] = {}
    if all(name in seconds for name in SEALED_RUNS):
        for name in SEALED_RUNS:
            sealed[f"{name}_rows_per_s"] = rate(records, seconds[name])
        for name in SEALED_RUNS:
            ratios[f"ratio_{name}_vs_copy"] = ratio(sealed[f"{name}_rows_per_s"], copy)
        sealed["seals_verified"] = True
    measured = TARGETS if sealed else UNSEALED_TARGETS
    targets_met = {name: at_least(ratios[name], target) for name, target in measured.items()}
    figures = {
        "records": records,
        "seed_records": seed_records,
        "repeat": repeat,
        "rows_verified": True,
        "rows_per_s_b10": b10,
        "rows_per_s_b1000": b1000,
        "seed_rows_per_s": seed,
        "copy_rows_per_s": copy,
        **sealed,
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
    }
    if sealed:
        # The same for the sealed path: the Python of recording and sealing alone (no database), the
        # database alone (the punches' COPY, then the seals' COPY into afd_records), and the handler.
        figures["us_per_row_sealed"] = {
            "python_alone": _us(seconds.get("python_sealed"), records),
            "copy_alone": _us(seconds["copy"], records),
            "afd_copy_alone": _us(seconds.get("afd_copy"), records),
            **{f"handler_{name}": _us(seconds[name], records) for name in SEALED_RUNS},
        }
    figures["median_seconds"] = {name: round(value, 3) for name, value in seconds.items()}
    figures["database"] = "given" if given_database else "temporary pgserver"
    return figures
