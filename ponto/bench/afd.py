"""`ponto bench afd`: the legal record's readers at scale, and their memory.

Setup (untimed): N sealed punches of ONE establishment are generated straight into the database, with
the real seal (`ponto.record.seal.seal`, hence the real type-7 lines and hash chain): the establishment
(type 2) and its employees (type 5) through the real registry, then the punches' rows and their seals
COPYed in chunks, the head moved at the end, and the tables vacuumed and analysed (as autovacuum would
have, long before anyone exports a year of punches).

Timed, each in a fresh interpreter of its own so that its peak RSS is its own (the high-water mark of
the child's address space, VmHWM, which it reports with its figures):

* the AFD export: the functions `ponto afd` runs (`write_afd` over `record_lines`) into a file;
* `ponto verify` of the establishment (`verify_chain` over `chain_rows`);
* `ponto afd verify` of the exported file (`check_afd_file`).

Each child times its own work, after its imports; the constant-memory claim is the peak RSS staying
flat from 100,000 to 1,000,000 punches.
"""

from __future__ import annotations

import contextlib
import io
import json
import queue
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg2
import psycopg2.errors
import psycopg2.extensions

from ponto.bench.measure import at_least, rate
from ponto.record import seal as sealing
from ponto.record.seal import Head, Sealable

DEFAULT_PUNCHES = 1_000_000
EMPLOYEES = 1000
CHUNK = 50_000  # punches sealed and COPYed at a time during setup
PUNCH_SPACING_S = 7  # seconds between two generated punches (1M punches: ~81 days of one establishment)
TARGETS = {"afd_records_per_s": 100_000.0, "verify_records_per_s": 100_000.0}
REP_INPI = "12345678901234567"  # the AFD header's INPI number and developer: demo values
DEVELOPER_CNPJ = "11222333000181"
API_KEY_ID = "bench-afd-key"
_KINDS = ("in", "break_start", "break_end", "out")
_PUNCH_COPY = (
    "COPY punches (punch_id, employee_id, punched_at, format, message_id, api_key_id, received_at, raw) FROM STDIN"
)
_RECORD_COPY = "COPY afd_records (establishment_id, nsr, record_type, recorded_at, punch_id, line) FROM STDIN"

Connection = psycopg2.extensions.connection


class BenchError(RuntimeError):
    """The benchmark could not measure what it claims (a reader failed, or found the record broken)."""


@dataclass(frozen=True)
class AfdBenchOptions:
    punches: int = DEFAULT_PUNCHES
    database_url: str | None = None
    out: Path | None = None  # a folder to keep the exported AFD in (default: a temporary one)


# --- setup: the establishment and its sealed punches --------------------------------------------


@dataclass(frozen=True)
class Generated:
    establishment_id: int
    document: str
    records: int  # every record of the establishment: types 2, 5 and 7
    punches: int
    seconds: float


def generate(url: str, punches: int) -> Generated:
    """Register one establishment with EMPLOYEES employees, then seal `punches` punches for it."""
    from ponto.bench import worker  # the registry helpers; imported here so the readers' children stay lean
    from ponto.record import registry as rules
    from ponto.record.documents import make_cnpj, make_cpf
    from ponto.store import record as record_store
    from ponto.store import registry as registry_store

    start = time.perf_counter()
    worker.clear_registry(url)
    people = [
        rules.employee(f"emp-{index:05d}", make_cpf(index + 1), f"Empregado {index:05d}") for index in range(EMPLOYEES)
    ]
    conn = psycopg2.connect(url)
    try:
        establishment = registry_store.add_establishment(
            conn,
            rules.establishment(
                cnpj=make_cnpj(4242), cpf=None, name="Bench AFD Ltda", workplace="Rua do Bench, 1, Sao Paulo"
            ),
            worker.RESPONSIBLE_CPF,
        )
        registry_store.add_employees(conn, establishment, people, worker.RESPONSIBLE_CPF)
        registry_store.add_device(conn, establishment, "device", "Relogio do bench", API_KEY_ID)
        assert establishment.establishment_id is not None
        establishment_id = establishment.establishment_id
        with conn, conn.cursor() as cur:
            head = record_store.head(cur, establishment_id)
        head = _write_punches(url, head, people, punches)
        with conn, conn.cursor() as cur:
            cur.execute(
                "UPDATE record_heads SET last_nsr = %s, last_hash = %s, last_recorded_at = %s"
                " WHERE establishment_id = %s",
                (head.last_nsr, head.last_hash, head.last_recorded_at, establishment_id),
            )
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("VACUUM (ANALYZE) punches, afd_records")
            with contextlib.suppress(psycopg2.errors.InsufficientPrivilege):
                cur.execute("CHECKPOINT")
    finally:
        conn.close()
    return Generated(establishment_id, establishment.document, head.last_nsr, punches, time.perf_counter() - start)


def _write_punches(url: str, head: Head, people: Sequence[Any], count: int) -> Head:
    """Seal `count` punches after `head`, a chunk at a time; a second thread COPYs each chunk (its
    punches, then its seals, one transaction) while this one seals the next. Returns the new head."""
    chunks: queue.Queue[tuple[bytes, bytes] | None] = queue.Queue(maxsize=2)
    failure: list[BaseException] = []

    def writer() -> None:
        conn = psycopg2.connect(url)
        try:
            while (chunk := chunks.get()) is not None:
                if failure:
                    continue
                punch_rows, seal_rows = chunk
                with conn, conn.cursor() as cur:
                    cur.copy_expert(_PUNCH_COPY, io.BytesIO(punch_rows))
                    cur.copy_expert(_RECORD_COPY, io.BytesIO(seal_rows))
        except BaseException as exc:  # reported by the sealing thread
            failure.append(exc)
            while chunks.get() is not None:
                pass
        finally:
            conn.close()

    thread = threading.Thread(target=writer, name="ponto-bench-afd-writer")
    thread.start()
    try:
        first = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=PUNCH_SPACING_S * count + 86_400)
        done = 0
        while done < count and not failure:
            size = min(CHUNK, count - done)
            punch_rows, items = _punch_chunk(people, first, done, size)
            sealed, head = sealing.seal(head, items, datetime.now(UTC))
            chunks.put((punch_rows, _seal_rows(sealed)))
            done += size
    finally:
        chunks.put(None)
        thread.join()
    if failure:
        raise BenchError("writing the generated punches failed") from failure[0]
    return head


def _punch_chunk(people: Sequence[Any], first: datetime, done: int, size: int) -> tuple[bytes, list[Sealable]]:
    """Punches done..done+size: their rows for punches (COPY text) and what the seal takes of them."""
    rows: list[str] = []
    items: list[Sealable] = []
    employees = len(people)
    for index in range(done, done + size):
        person = people[index % employees]
        punched_at = first + timedelta(seconds=PUNCH_SPACING_S * index)
        at = punched_at.isoformat()
        punch_id = str(uuid.UUID(int=index + 1, version=4))
        raw = (
            f'{{"punch_id": "{punch_id}", "employee_id": "{person.employee_id}", "punched_at": "{at}",'
            f' "kind": "{_KINDS[(index // employees) % 4]}"}}'
        )
        rows.append(f"{punch_id}\t{person.employee_id}\t{at}\tv1\t{punch_id}\t{API_KEY_ID}\t{at}\t{raw}\n")
        items.append(Sealable(punch_id, punched_at, person.cpf, 4, False))
    return "".join(rows).encode(), items


def _seal_rows(sealed: Sequence[sealing.SealedRecord]) -> bytes:
    times: dict[datetime, str] = {}
    parts = []
    for establishment_id, nsr, recorded_at, punch_id, line in sealed:
        at = times.get(recorded_at)
        if at is None:
            at = times[recorded_at] = recorded_at.isoformat()
        parts.append(f"{establishment_id}\t{nsr}\t7\t{at}\t{punch_id}\t{line}\n")
    return "".join(parts).encode()


# --- the readers, each in a child process --------------------------------------------------------


def _export(url: str, establishment_id: int, target: str) -> dict[str, Any]:
    """What `ponto afd --employer X` does, without its signing: span, then write_afd over record_lines."""
    from ponto.record.export import RepIdentity, write_afd
    from ponto.store import record, registry

    conn = psycopg2.connect(url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT document FROM establishments WHERE establishment_id = %s", (establishment_id,))
            row = cur.fetchone()
            assert row is not None
            establishment = registry.find_establishment(cur, row[0])
            span = record.span(cur, establishment_id, None, None)
        assert span.first_recorded_at is not None and span.last_recorded_at is not None
        zone = establishment.zone
        with open(target, "wb", buffering=1 << 20) as out, conn:
            written = write_afd(
                out,
                establishment=establishment,
                rep=RepIdentity(REP_INPI, DEVELOPER_CNPJ),
                first_day=span.first_recorded_at.astimezone(zone).date(),
                last_day=span.last_recorded_at.astimezone(zone).date(),
                generated_at=datetime.now(UTC),
                records=record.record_lines(conn, establishment_id, None, None),
            )
    finally:
        conn.close()
    return {"records": written.records, "punches": written.counts["7"], "bytes": written.size}


def _verify(url: str, establishment_id: int) -> dict[str, Any]:
    """What `ponto verify --employer X` does: the head, then verify_chain over chain_rows."""
    from ponto.record.verify import verify_chain
    from ponto.store import record

    conn = psycopg2.connect(url)
    try:
        with conn, conn.cursor() as cur:
            head = record.head(cur, establishment_id)
        with conn:
            report = verify_chain(establishment_id, record.chain_rows(conn, establishment_id), head)
    finally:
        conn.close()
    return {"records": report.records, "punches": report.punches, "ok": report.ok, "problems": report.problems[:5]}


def _check(path: str) -> dict[str, Any]:
    """What `ponto afd verify FILE` does, without a signature to check: check_afd_file."""
    from ponto.record.afd_check import check_afd_file

    result = check_afd_file(Path(path))
    return {
        "records": result.records,
        "punches": result.counts.get("7", 0),
        "ok": result.ok,
        "problems": [f"line {p.line}: {p.message}" for p in result.problems[:5]],
    }


def child_main(argv: Sequence[str]) -> int:
    """In the child: import what the reader needs, then time it; print its figures as JSON."""
    # The reader's imports, before the clock starts (a warm `ponto` process has them too).
    import ponto.record.afd_check
    import ponto.record.export
    import ponto.record.verify
    import ponto.store.record
    import ponto.store.registry  # noqa: F401

    baseline_kb = _rss_kb()
    start = time.perf_counter()
    match list(argv):
        case ["export", url, establishment_id, target]:
            figures = _export(url, int(establishment_id), target)
        case ["verify", url, establishment_id]:
            figures = _verify(url, int(establishment_id))
        case ["check", path]:
            figures = _check(path)
        case _:
            print(f"usage: python -m ponto.bench.afd export|verify|check ...; not {argv!r}", file=sys.stderr)
            return 2
    figures["seconds"] = time.perf_counter() - start
    figures["rss_before_mb"] = round(baseline_kb / 1024, 1)
    figures["peak_rss_mb"] = round(_peak_rss_kb() / 1024, 1)
    print(json.dumps(figures))
    return 0


def _rss_kb() -> int:
    """This process's resident set now (kB)."""
    return _status_kb("VmRSS")


def _peak_rss_kb() -> int:
    """This process's peak resident set (kB): VmHWM, the high-water mark of its own address space.

    Not getrusage's ru_maxrss, nor wait4's from the parent: Linux carries the maximum over an exec, so a
    child's ru_maxrss starts at the RSS of the parent that forked it (here, the generator's)."""
    return _status_kb("VmHWM")


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    raise BenchError(f"/proc/self/status has no {field} (the bench reads memory as Linux reports it)")


def run_child(*argv: str) -> dict[str, Any]:
    """Run one reader in a fresh interpreter; its figures, its peak RSS among them."""
    process = subprocess.run(  # noqa: S603 - this interpreter, this module
        [sys.executable, "-m", "ponto.bench.afd", *argv], capture_output=True, check=False
    )
    if process.returncode != 0:
        tail = process.stderr.decode(errors="replace")[-2000:]
        raise BenchError(f"the {argv[0]} child failed ({process.returncode}): {tail}")
    figures: dict[str, Any] = json.loads(process.stdout)
    return figures


# --- the run -----------------------------------------------------------------------------------


def run(options: AfdBenchOptions) -> dict[str, Any]:
    if options.punches < 1:
        raise ValueError("punches must be at least 1")
    from ponto.bench import worker

    with worker.database(options.database_url) as url, _folder(options.out) as folder:
        worker.prepare(url)
        generated = generate(url, options.punches)
        from ponto.record.afd import file_name

        target = folder / file_name(REP_INPI, generated.document)
        export = run_child("export", url, str(generated.establishment_id), str(target))
        verify = run_child("verify", url, str(generated.establishment_id))
        check = run_child("check", str(target))
        worker.clear_registry(url)
    records = generated.records
    for name, figures in (("export", export), ("verify", verify), ("afd verify", check)):
        if figures["records"] != records or figures["punches"] != generated.punches:
            raise BenchError(f"{name}: {figures['records']} records, {records} expected")
    if not verify["ok"]:
        raise BenchError(f"verify found the generated record broken: {verify['problems']}")
    if not check["ok"]:
        raise BenchError(f"afd verify found the exported AFD broken: {check['problems']}")
    rates = {
        "afd_records_per_s": rate(records, export["seconds"]),
        "verify_records_per_s": rate(records, verify["seconds"]),
        "afd_check_records_per_s": rate(records, check["seconds"]),
    }
    targets_met = {name: at_least(rates[name], target) for name, target in TARGETS.items()}
    return {
        "records": records,
        "punches": generated.punches,
        **rates,
        "peak_rss_mb": {
            "export": export["peak_rss_mb"],
            "verify": verify["peak_rss_mb"],
            "afd_check": check["peak_rss_mb"],
        },
        # Each child's resident set after its imports, before it read anything: the peak's floor.
        "rss_before_mb": {
            "export": export["rss_before_mb"],
            "verify": verify["rss_before_mb"],
            "afd_check": check["rss_before_mb"],
        },
        "seconds": {
            "setup": round(generated.seconds, 1),
            "export": round(export["seconds"], 3),
            "verify": round(verify["seconds"], 3),
            "afd_check": round(check["seconds"], 3),
        },
        "afd_bytes": export["bytes"],
        "afd_file": str(target) if options.out is not None else None,
        "verify_ok": verify["ok"],
        "afd_check_ok": check["ok"],
        "targets": dict(TARGETS),
        "targets_met": targets_met,
        "all_targets_met": all(targets_met.values()),
        "database": "given" if options.database_url is not None else "temporary pgserver",
    }


@contextlib.contextmanager
def _folder(out: Path | None) -> Iterator[Path]:
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        yield out
        return
    with tempfile.TemporaryDirectory(prefix="ponto-bench-afd-") as directory:
        yield Path(directory)


if __name__ == "__main__":
    sys.exit(child_main(sys.argv[1:]))
