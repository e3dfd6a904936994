"""`ponto bench timesheet`: the espelho de ponto of a whole establishment for a month, and its memory.

Setup (untimed): one establishment (state SP) with N employees on three day schedules, and a month (March 2026,
22 working days) of their punches: four a working day, a few minutes off the schedule, about 88 per employee.
They are generated straight into the database with the real seal (`ponto.record.seal.seal`: real type-7 lines
and hash chain), as `ponto bench afd` does, plus treatments: 2 % of the days lack their exit, included by hand,
and 1 % carry a duplicate entry, disregarded. The tables are vacuumed and analysed.

Timed (wall clock, with the CPU seconds and the machine's load average beside them: on a busy machine the
wall time is the code's and its neighbours'):

* compute: the month of every employee from marks already fetched (`employee_months`, i.e. `compute_month`
  per employee), in this process, the median of three runs; the fetch (`ponto.store.timesheet.marks`, one
  streamed query) is reported beside it;
* the whole `ponto timesheet --employer X --month 2026-03 --format csv --out FILE`, in a fresh interpreter:
  its wall time from spawn to exit (imports, connection, query, computing, rendering, writing) and its peak RSS
  (VmHWM, which it reports, as `ponto bench afd`'s readers do).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg2
import psycopg2.errors
import psycopg2.extensions
import psycopg2.extras

from ponto.bench import afd as afd_bench
from ponto.bench.measure import at_most
from ponto.record import seal as sealing
from ponto.record.seal import Sealable

DEFAULT_EMPLOYEES = 1000
MONTH = (2026, 3)
SCHEDULES = (
    "mon-fri 08:00-12:00 13:00-17:00",
    "mon-fri 09:00-13:00 14:00-18:00",
    "mon-fri 07:00-11:00 12:00-16:00",
)
KINDS = ("in", "break_start", "break_end", "out")
MISSING_EXIT_RATE = 0.02  # days whose exit was forgotten, then included by hand
DUPLICATE_RATE = 0.01  # days with a duplicate entry a minute later, then disregarded
TARGETS = {"compute_seconds": 1.0, "timesheet_csv_seconds": 3.0}
COMPUTE_RUNS = 3
API_KEY_ID = "bench-timesheet-key"
ZONE = ZoneInfo("America/Sao_Paulo")
CHUNK = 50_000

Connection = psycopg2.extensions.connection


class BenchError(RuntimeError):
    """The benchmark could not measure what it claims (the command failed or wrote the wrong rows)."""


@dataclass(frozen=True)
class TimesheetBenchOptions:
    employees: int = DEFAULT_EMPLOYEES
    database_url: str | None = None


@dataclass(frozen=True)
class Generated:
    establishment_id: int
    document: str
    punches: int
    treatments: int
    seconds: float


# --- setup ----------------------------------------------------------------------------------------


def clear(url: str) -> None:
    """Empty the record, the registry and the timesheet's tables (the bench's own database)."""
    from ponto.bench import worker

    worker.clear_registry(url)  # its tables include holidays and punch_treatments


def _working_days() -> list[date]:
    year, month = MONTH
    first = date(year, month, 1)
    days = [first + timedelta(days=n) for n in range(31)]
    return [day for day in days if day.month == month and day.weekday() < 5]


def generate(url: str, employees: int, *, seed: int = 671) -> Generated:
    """Register the establishment and its employees, then seal their month of punches and add the treatments."""
    from ponto.bench import worker
    from ponto.record import registry as rules
    from ponto.record.documents import make_cnpj, make_cpf
    from ponto.store import record as record_store
    from ponto.store import registry as registry_store
    from ponto.timesheet.schedule import parse_schedule

    start = time.perf_counter()
    clear(url)
    rng = random.Random(seed)  # noqa: S311 - test data, reproducible on purpose
    people = [
        rules.employee(f"emp-{n:05d}", make_cpf(n + 1), f"Empregado {n:05d}", SCHEDULES[n % len(SCHEDULES)])
        for n in range(employees)
    ]
    conn = psycopg2.connect(url)
    try:
        establishment = registry_store.add_establishment(
            conn,
            rules.establishment(
                cnpj=make_cnpj(6710), cpf=None, name="Bench Espelho Ltda", workplace="Rua do Bench, 2", state="SP"
            ),
            worker.RESPONSIBLE_CPF,
        )
        assert establishment.establishment_id is not None
        establishment_id = establishment.establishment_id
        registry_store.add_employees(conn, establishment, people, worker.RESPONSIBLE_CPF)
        registry_store.add_device(conn, establishment, "device", "Relogio do bench", API_KEY_ID)

        punches: list[tuple[datetime, str, str, str]] = []  # (time, punch id, employee id, kind)
        treatments: list[tuple[Any, ...]] = []
        days = _working_days()
        for person in people:
            marks = parse_schedule(person.schedule or SCHEDULES[0]).marks(0)
            for day in days:
                midnight = datetime(day.year, day.month, day.day, tzinfo=ZONE)
                times = [
                    midnight + timedelta(minutes=mark + rng.randint(-7, 7), seconds=rng.randrange(60)) for mark in marks
                ]
                forgotten = rng.random() < MISSING_EXIT_RATE
                for index, (at, kind) in enumerate(zip(times, KINDS, strict=True)):
                    if forgotten and kind == "out":
                        treatments.append(
                            (establishment_id, "include", str(uuid.uuid4()), person.employee_id, at, kind,
                             "Esqueceu de registrar a saída", worker.RESPONSIBLE_CPF)
                        )  # fmt: skip
                        continue
                    punches.append((at, _punch_id(person.employee_id, day, index), person.employee_id, kind))
                if rng.random() < DUPLICATE_RATE:
                    duplicate = _punch_id(person.employee_id, day, 9)
                    punches.append((times[0] + timedelta(minutes=1), duplicate, person.employee_id, "in"))
                    treatments.append(
                        (establishment_id, "disregard", duplicate, person.employee_id, None, None,
                         "Marcação em duplicidade", worker.RESPONSIBLE_CPF)
                    )  # fmt: skip
        punches.sort()
        cpfs = {person.employee_id: person.cpf for person in people}
        with conn, conn.cursor() as cur:
            head = record_store.lock_heads(cur, [establishment_id])[establishment_id]
            for offset in range(0, len(punches), CHUNK):
                chunk = punches[offset : offset + CHUNK]
                rows = io.BytesIO(
                    "".join(
                        f"{punch_id}\t{employee}\t{at.isoformat()}\tv1\t{punch_id}\t{API_KEY_ID}\t{at.isoformat()}\t"
                        f'{{"punch_id": "{punch_id}", "employee_id": "{employee}", "punched_at": "{at.isoformat()}",'
                        f' "kind": "{kind}"}}\n'
                        for at, punch_id, employee, kind in chunk
                    ).encode()
                )
                sealed, head = sealing.seal(
                    head,
                    [Sealable(punch_id, at, cpfs[employee], 4, False) for at, punch_id, employee, _ in chunk],
                    datetime.now(UTC),
                )
                cur.copy_expert(afd_bench._PUNCH_COPY, rows)
                cur.copy_expert(afd_bench._RECORD_COPY, io.BytesIO(afd_bench._seal_rows(sealed)))
            record_store.move_heads(cur, [head])
            psycopg2.extras.execute_values(
                cur,
                "INSERT INTO punch_treatments (establishment_id, action, punch_id, employee_id, punched_at, kind,"
                " reason, responsible_cpf) VALUES %s",
                treatments,
                page_size=1000,
            )
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("VACUUM (ANALYZE) punches, afd_records, employees, punch_treatments")
            with contextlib.suppress(psycopg2.errors.InsufficientPrivilege):
                cur.execute("CHECKPOINT")
    finally:
        conn.close()
    return Generated(
        establishment_id, establishment.document, len(punches), len(treatments), time.perf_counter() - start
    )


def _punch_id(employee_id: str, day: date, index: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"ponto-bench-timesheet/{employee_id}/{day.isoformat()}/{index}"))


# --- (a) computing from rows already fetched ------------------------------------------------------


def measure_compute(url: str, establishment_id: int) -> dict[str, Any]:
    from ponto.store import timesheet as store
    from ponto.timesheet.calendar import HolidayCalendar
    from ponto.timesheet.espelho import employee_months, fetch_window, month_bounds

    conn = psycopg2.connect(url)
    try:
        first, last = month_bounds(MONTH)
        start, end = fetch_window(first, last, ZONE)
        began = time.perf_counter()
        with conn, conn.cursor() as cur:
            people = store.sheet_employees(cur, establishment_id)
            extra = store.establishment_holidays(cur, establishment_id)
        with conn:
            fetched = list(store.marks(conn, establishment_id, start, end))
        fetch_seconds = time.perf_counter() - began
    finally:
        conn.close()
    runs, cpu = [], []
    for _ in range(COMPUTE_RUNS):
        calendar = HolidayCalendar("SP", None, extra)  # a fresh calendar: no month plan cached from a run before
        began, began_cpu = time.perf_counter(), time.process_time()
        months = list(employee_months(people, fetched, MONTH, ZONE, calendar))
        runs.append(time.perf_counter() - began)
        cpu.append(time.process_time() - began_cpu)
    return {
        "fetch_seconds": round(fetch_seconds, 3),
        "compute_seconds": round(statistics.median(runs), 3),
        "compute_cpu_seconds": round(statistics.median(cpu), 3),
        "marks": sum(len(marks) for _, marks in fetched),
        "months": len(months),
    }


# --- (b) the whole command, in a fresh interpreter ------------------------------------------------


def child_main(argv: Sequence[str]) -> int:
    """In the child: `ponto timesheet ... --format csv --out FILE`; print its time and peak RSS as JSON."""
    match list(argv):
        case ["csv", url, employer, month, out]:
            pass
        case _:
            print(f"usage: python -m ponto.bench.timesheet csv URL EMPLOYER YYYY-MM OUT; not {argv!r}", file=sys.stderr)
            return 2
    from ponto.cli import main

    began = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        code = main(["timesheet", "--employer", employer, "--month", month, "--format", "csv", "--out", out,
                     "--database-url", url])  # fmt: skip
    seconds = time.perf_counter() - began
    if code != 0:
        return code
    usage = resource.getrusage(resource.RUSAGE_SELF)  # the whole process: interpreter start and imports too
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu_seconds": usage.ru_utime + usage.ru_stime,
                "peak_rss_mb": round(afd_bench._peak_rss_kb() / 1024, 1),
            }
        )
    )
    return 0


def measure_command(url: str, document: str, out: Path) -> dict[str, Any]:
    month = f"{MONTH[0]:04d}-{MONTH[1]:02d}"
    began = time.perf_counter()
    process = subprocess.run(  # noqa: S603 - this interpreter, this module
        [sys.executable, "-m", "ponto.bench.timesheet", "csv", url, document, month, str(out)],
        capture_output=True,
        check=False,
    )
    wall = time.perf_counter() - began
    if process.returncode != 0:
        raise BenchError(
            f"ponto timesheet failed ({process.returncode}): {process.stderr.decode(errors='replace')[-2000:]}"
        )
    figures: dict[str, Any] = json.loads(process.stdout)
    with out.open(encoding="utf-8", newline="") as handle:
        rows = sum(1 for _ in handle) - 1
    return {
        "timesheet_csv_seconds": round(wall, 3),
        "timesheet_csv_in_process_seconds": round(figures["seconds"], 3),
        "timesheet_csv_cpu_seconds": round(figures["cpu_seconds"], 3),
        "csv_rows": rows,
        "csv_bytes": out.stat().st_size,
        "peak_rss_mb": figures["peak_rss_mb"],
    }


# --- the run --------------------------------------------------------------------------------------


def run(options: TimesheetBenchOptions) -> dict[str, Any]:
    if options.employees < 1:
        raise ValueError("employees must be at least 1")
    from ponto.bench import worker

    with worker.database(options.database_url) as url, tempfile.TemporaryDirectory(prefix="ponto-bench-ts-") as tmp:
        worker.prepare(url)
        generated = generate(url, options.employees)
        computed = measure_compute(url, generated.establishment_id)
        command = measure_command(url, generated.document, Path(tmp) / "espelho.csv")
        clear(url)
    days = (date(MONTH[0] + MONTH[1] // 12, MONTH[1] % 12 + 1, 1) - date(*MONTH, 1)).days
    if command["csv_rows"] != options.employees * days or computed["months"] != options.employees:
        raise BenchError(f"the espelho holds {command['csv_rows']} rows, {options.employees * days} expected")
    figures = {
        "compute_seconds": computed["compute_seconds"],
        "timesheet_csv_seconds": command["timesheet_csv_seconds"],
    }
    targets_met = {name: at_most(figures[name], target) for name, target in TARGETS.items()}
    return {
        "employees": options.employees,
        "month": f"{MONTH[0]:04d}-{MONTH[1]:02d}",
        "punches": generated.punches,
        "treatments": generated.treatments,
        "marks": computed["marks"],
        "fetch_seconds": computed["fetch_seconds"],
        "compute_seconds": computed["compute_seconds"],
        "compute_cpu_seconds": computed["compute_cpu_seconds"],
        "timesheet_csv_seconds": command["timesheet_csv_seconds"],
        "timesheet_csv_in_process_seconds": command["timesheet_csv_in_process_seconds"],
        "timesheet_csv_cpu_seconds": command["timesheet_csv_cpu_seconds"],
        "csv_rows": command["csv_rows"],
        "csv_bytes": command["csv_bytes"],
        "peak_rss_mb": {"timesheet_csv": command["peak_rss_mb"]},
        "seconds": {"setup": round(generated.seconds, 1)},
        "targets": dict(TARGETS),
        "targets_met": targets_met,
        "all_targets_met": all(targets_met.values()),
        "database": "given" if options.database_url is not None else "temporary pgserver",
        # Wall times are this machine's under its load: the CPU seconds beside them, and the load, tell them apart.
        "load_average_1m": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
    }


if __name__ == "__main__":
    sys.exit(child_main(sys.argv[1:]))
