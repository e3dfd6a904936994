"""`ponto bench worker|coldstart|ingest|receipts|afd|timesheet`: the argument parsing and the printing."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ponto.bench import afd, coldstart, ingest, receipts, timesheet, worker


def add_bench_parser(subparsers: Any) -> None:
    """Register `bench` (with `worker` and `coldstart`) on the `ponto` command's subparsers."""
    bench = subparsers.add_parser("bench", help="measure the worker against the reference design")
    benches = bench.add_subparsers(dest="bench_command", required=True)

    throughput = benches.add_parser(
        "worker",
        help="rows/s of the worker handler (batches of 10 and 1,000), the reference design and a raw COPY",
    )
    throughput.add_argument(
        "--records", type=_positive, default=worker.DEFAULT_RECORDS, help="punches to write (default: %(default)s)"
    )
    throughput.add_argument(
        "--seed-records",
        type=_positive,
        default=worker.DEFAULT_SEED_RECORDS,
        help="punches the slow reference design writes, at most --records (default: %(default)s)",
    )
    throughput.add_argument(
        "--repeat", type=_positive, default=worker.DEFAULT_REPEAT, help="runs of each approach; medians count"
    )
    throughput.add_argument(
        "--database-url",
        help="libpq URI of a database to use (its record AND registry are EMPTIED); default: a temporary pgserver",
    )
    throughput.add_argument("--json", action="store_true", help="print the figures as JSON")
    throughput.set_defaults(run=run_worker)

    cold = benches.add_parser("coldstart", help="import time of the worker handler and size of the deploy zip")
    cold.add_argument("--runs", type=_positive, default=coldstart.DEFAULT_RUNS, help="fresh interpreters per import")
    packaging = cold.add_mutually_exclusive_group()
    packaging.add_argument(
        "--package",
        dest="package",
        action="store_true",
        default=True,
        help="run `serverless package` into a temporary folder and measure the zip it builds (the default)",
    )
    packaging.add_argument(
        "--no-package",
        dest="package",
        action="store_false",
        help="measure .serverless/<service>.zip as it is (built earlier, maybe from other code), if there is one",
    )
    cold.add_argument("--json", action="store_true", help="print the figures as JSON")
    cold.set_defaults(run=run_coldstart)

    ingest_bench = benches.add_parser(
        "ingest", help="the queue's raw send rate vs the gateway's accepted rate, same concurrency (local stack)"
    )
    ingest_bench.add_argument("--requests", type=_positive, default=ingest.DEFAULT_REQUESTS, help="per round")
    ingest_bench.add_argument("--concurrency", type=_positive, default=ingest.DEFAULT_CONCURRENCY)
    ingest_bench.add_argument("--rounds", type=_positive, default=ingest.DEFAULT_ROUNDS, help="medians count")
    ingest_bench.add_argument("--data-dir", type=Path, help="a running local stack (default: start one)")
    ingest_bench.add_argument("--json", action="store_true", help="print the figures as JSON")
    ingest_bench.set_defaults(run=run_ingest)

    reads = benches.add_parser(
        "receipts",
        help="a burst of receipt reads against the local stack: answers, latency and peak DB connections vs the cap",
    )
    reads.add_argument("--readers", type=_positive, default=receipts.DEFAULT_READERS, help="clocks polling at once")
    reads.add_argument("--reads", type=_positive, default=receipts.DEFAULT_READS, help="reads per clock")
    reads.add_argument("--punches", type=_positive, default=receipts.DEFAULT_PUNCHES, help="sealed punches to read")
    reads.add_argument("--data-dir", type=Path, help="a running local stack (default: start one)")
    reads.add_argument("--json", action="store_true", help="print the figures as JSON")
    reads.set_defaults(run=run_receipts)

    afd_bench = benches.add_parser(
        "afd",
        help="records/s and peak RSS of the AFD export, `ponto verify` and `ponto afd verify` over N sealed punches",
    )
    afd_bench.add_argument(
        "--punches",
        type=_positive,
        default=afd.DEFAULT_PUNCHES,
        help="sealed punches to generate (default: %(default)s)",
    )
    afd_bench.add_argument(
        "--database-url",
        help="libpq URI of a database to use (its record AND registry are EMPTIED); default: a temporary pgserver",
    )
    afd_bench.add_argument("--out", type=Path, help="a folder to keep the exported AFD in (default: not kept)")
    afd_bench.add_argument("--json", action="store_true", help="print the figures as JSON")
    afd_bench.set_defaults(run=run_afd)

    espelho = benches.add_parser(
        "timesheet",
        help="the espelho of N employees x one month (~88 punches each): computing it, and the whole"
        " `ponto timesheet --format csv` with its peak RSS",
    )
    espelho.add_argument(
        "--employees", type=_positive, default=timesheet.DEFAULT_EMPLOYEES, help="employees (default: %(default)s)"
    )
    espelho.add_argument(
        "--database-url",
        help="libpq URI of a database to use (its record AND registry are EMPTIED); default: a temporary pgserver",
    )
    espelho.add_argument("--json", action="store_true", help="print the figures as JSON")
    espelho.set_defaults(run=run_timesheet)


def run_worker(args: argparse.Namespace) -> int:
    options = worker.WorkerBenchOptions(
        records=args.records, seed_records=args.seed_records, repeat=args.repeat, database_url=args.database_url
    )
    return _print(worker.run(options), as_json=args.json)


def run_ingest(args: argparse.Namespace) -> int:
    options = ingest.IngestBenchOptions(
        requests=args.requests, concurrency=args.concurrency, rounds=args.rounds, data_dir=args.data_dir
    )
    return _print(ingest.run(options), as_json=args.json)


def run_receipts(args: argparse.Namespace) -> int:
    options = receipts.ReceiptsBenchOptions(
        readers=args.readers, reads=args.reads, punches=args.punches, data_dir=args.data_dir
    )
    return _print(receipts.run(options), as_json=args.json)


def run_afd(args: argparse.Namespace) -> int:
    options = afd.AfdBenchOptions(punches=args.punches, database_url=args.database_url, out=args.out)
    return _print(afd.run(options), as_json=args.json)


def run_timesheet(args: argparse.Namespace) -> int:
    options = timesheet.TimesheetBenchOptions(employees=args.employees, database_url=args.database_url)
    return _print(timesheet.run(options), as_json=args.json)


def run_coldstart(args: argparse.Namespace) -> int:
    return _print(coldstart.run(coldstart.ColdStartOptions(runs=args.runs, package=args.package)), as_json=args.json)


def _print(figures: dict[str, Any], *, as_json: bool) -> int:
    if as_json:
        print(json.dumps(figures, indent=2))
    else:
        print(format_figures(figures))
    return 0


def format_figures(figures: dict[str, Any]) -> str:
    """One `name: value` line per figure; targets as `name >= target: met|missed`."""
    lines = []
    for name, value in figures.items():
        if name in ("targets", "targets_met"):
            continue
        if isinstance(value, dict):
            value = ", ".join(f"{key}={item}" for key, item in value.items())
        elif isinstance(value, list):
            value = ", ".join(
                " ".join(str(v) for v in item.values()) if isinstance(item, dict) else str(item) for item in value
            )
        lines.append(f"{name}: {'n/a' if value is None else value}")
    met = figures.get("targets_met", {})
    for name, target in figures.get("targets", {}).items():
        verdict = {True: "met", False: "MISSED", None: "not measured"}[met.get(name)]
        lines.append(f"target {name} {_sense(name)} {target}: {verdict}")
    return "\n".join(lines)


def _sense(name: str) -> str:
    return "<=" if name in ("import_ratio", "zip_mb") or name.endswith("_seconds") else ">="


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value
