"""loadtest/run: fire the JMeter plan, wait for the pipeline to drain, verify the database, report.

Exit status: 0 the run passed, 1 it failed (see summary.json), 2 it could not run (no JMeter, the
local stack did not start, bad arguments).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from loadtest import jmeter as jm
from loadtest import verify
from loadtest.results import JtlError, jtl_stats, parse_jtl, per_second
from loadtest.sampler import Observation, Probe, RowProbe, Sampler, StatusProbe, is_drained
from loadtest.summary import Summary, evaluate, text, write_json
from ponto.local.launcher import LocalStack, StackError
from ponto.local.stack import ponto_command
from ponto.local.state import new_api_key

REPO = Path(__file__).resolve().parent.parent
STABLE_S = 3.0


@dataclass(frozen=True)
class Target:
    protocol: str
    host: str
    port: int
    path: str

    @property
    def url(self) -> str:
        default = {"http": 80, "https": 443}[self.protocol]
        port = "" if self.port == default else f":{self.port}"
        return f"{self.protocol}://{self.host}{port}{self.path}"


def parse_target(url: str) -> Target:
    """The plan's protocol/host/port/path for a URL: the stack's base URL (the ApiEndpoint output,
    e.g. https://abc.execute-api.us-east-1.amazonaws.com/dev) or the full .../punches URL."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"--url {url!r}: expected http(s)://host[:port][/stage][/punches]")
    path = parts.path.rstrip("/")
    if not path.endswith("/punches"):
        path += "/punches"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return Target(parts.scheme, parts.hostname, port, path)


def default_runid() -> str:
    return "r" + dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S") + secrets.token_hex(2)


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value}: must be >= 1")
    return number


def _property(value: str) -> tuple[str, str]:
    name, sep, rest = value.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"{value}: expected NAME=VALUE")
    return name, rest


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="loadtest/run",
        description="Peak-throughput test of POST /punches with JMeter, then a database verification: "
        "every 202 must be recorded exactly once. Without --url, starts `ponto local` for the run.",
    )
    parser.add_argument("--url", help="target stack: its ApiEndpoint (or the full .../punches URL)")
    parser.add_argument(
        "--api-key", default=os.environ.get("PONTO_API_KEY"), help="x-api-key (default: $PONTO_API_KEY)"
    )
    parser.add_argument("--threads", type=_positive, default=200, help="concurrent clients (200)")
    parser.add_argument("--loops", type=_positive, default=100, help="requests per client (100)")
    parser.add_argument("--rampup", type=int, default=10, help="seconds to start all threads (10)")
    parser.add_argument("--employees", type=_positive, default=500, help="employee ids per run (500)")
    parser.add_argument("--runid", help="tag of this run: letters and digits (default: r<UTC time><hex>)")
    parser.add_argument("--out", type=Path, help="output directory (default: loadtest/out/<runid>)")
    parser.add_argument(
        "--database-url",
        help="libpq URL of the stack's database: verifies the rows (local: passed to ponto local; "
        "default: the local stack's own database)",
    )
    parser.add_argument(
        "--queue-url", help="deployed stack: punches queue URL (with --dlq-url: sampled via `ponto status`)"
    )
    parser.add_argument("--dlq-url", help="deployed stack: dead-letter queue URL, checked to be empty")
    parser.add_argument(
        "--timeout", type=float, default=300.0, help="seconds to wait for the drain after the load (300)"
    )
    parser.add_argument(
        "--max-duration", type=float, default=1800.0, help="JMeter is stopped after this many seconds (1800)"
    )
    parser.add_argument(
        "-J",
        dest="properties",
        type=_property,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra JMeter property (e.g. -J response_timeout=60000)",
    )
    parser.add_argument(
        "--ponto",
        default=ponto_command(),
        help="the ponto command (default: the one beside this Python)",
    )
    return parser


def say(message: str) -> None:
    print(f"loadtest: {message}", flush=True)


def run_jmeter(command: Sequence[str], cwd: Path, output: Path, max_duration: float) -> tuple[int, bool]:
    """Run JMeter, echoing and saving its output; stop it (its pid) after max_duration seconds.

    Returns (exit code, whether it was stopped for time)."""
    stopped = threading.Event()
    with output.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(  # noqa: S603
            list(command),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )

        def stop() -> None:
            stopped.set()
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()

        watchdog = threading.Timer(max_duration, stop)
        watchdog.daemon = True
        watchdog.start()
        try:
            assert process.stdout is not None
            for line in process.stdout:
                log.write(line)
                print(f"  jmeter| {line}", end="", flush=True)
            code = process.wait()
        finally:
            watchdog.cancel()
            if process.poll() is None:
                process.kill()
                process.wait()
    return code, stopped.is_set()


def wait_for_drain(
    sampler: Sampler, since: float, accepted: int, timeout: float
) -> tuple[bool, float, list[Observation]]:
    """Wait until the pipeline is done with the run; (drained, seconds waited, observations since)."""
    deadline = time.monotonic() + timeout
    history: list[Observation] = []
    while True:
        seen = sampler.observations
        history = [o for o in seen if o.t >= since]
        if history and is_drained(history, accepted, STABLE_S, since):
            return True, max(history[-1].t - since, 0.0), history
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False, timeout, history
        sampler.wait_next(len(seen), min(remaining, 2.0))


def _stop_on_signals() -> None:
    """Ctrl-C and SIGTERM unwind through the cleanup (JMeter killed, the local stack stopped), even
    when this process was started with SIGINT ignored (a background job of a script)."""

    def terminate(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, terminate)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        runid = verify.check_runid(args.runid or default_runid())
        target = parse_target(args.url) if args.url else None
    except ValueError as exc:
        print(f"loadtest: {exc}", file=sys.stderr)
        return 2
    if target is not None and not args.api_key:
        print("loadtest: --url needs --api-key (or PONTO_API_KEY)", file=sys.stderr)
        return 2
    if bool(args.queue_url) != bool(args.dlq_url):
        print("loadtest: give --queue-url and --dlq-url together", file=sys.stderr)
        return 2
    out: Path = (args.out or REPO / "loadtest" / "out" / runid).resolve()
    out.mkdir(parents=True, exist_ok=True)
    for stale in ("results.jtl", "summary.json", "report.html"):
        (out / stale).unlink(missing_ok=True)

    try:
        jmeter = jm.find_jmeter(cache_dir=jm.DEFAULT_CACHE)
    except jm.JMeterError as exc:
        print(f"loadtest: {exc}", file=sys.stderr)
        return 2
    say(f"run {runid}, JMeter {jmeter.version}{' (2.13 compat launch)' if jmeter.compat else ''}, out {out}")

    stack: LocalStack | None = None
    sampler: Sampler | None = None
    key_file = out / ".apikey.properties"
    try:
        database_url: str | None = args.database_url
        probes: list[Probe] = []
        if target is None:
            api_key = new_api_key()
            # The load test measures the pipeline, not the usage plan (500/s per key by default, which
            # API Gateway applies too: raise apiRateLimit on a stack you load-test).
            stack = LocalStack(
                args.ponto, out / "stack", api_key, out / "stack.log", database_url=args.database_url, throttle=False
            )
            say(f"starting: {args.ponto} local --port {stack.port} --data-dir {stack.data_dir}")
            try:
                base = stack.start()
            except StackError as exc:
                print(f"loadtest: {exc}", file=sys.stderr)
                return 2
            target = parse_target(base)
            database_url = database_url or stack.local_database_url()
            # The local stack's own status, even if the shell names a deployed one.
            local_env = {k: v for k, v in os.environ.items() if k not in ("PONTO_QUEUE_URL", "PONTO_DLQ_URL")}
            probes.append(StatusProbe(args.ponto, ["--data-dir", str(stack.data_dir)], env=local_env))
            say(f"ponto local ready at {base}")
        else:
            api_key = args.api_key
            if args.queue_url and args.dlq_url:
                deployed = ["--queue-url", args.queue_url, "--dlq-url", args.dlq_url]
                if database_url:
                    deployed += ["--database-url", database_url]
                probes.append(StatusProbe(args.ponto, deployed))
        url_for_rows = database_url
        probes.append(RowProbe(lambda: url_for_rows, runid))
        sampler = Sampler(probes)
        sampler.start()

        key_file.touch(mode=0o600)
        key_file.write_text(jm.properties_text({"apikey": api_key}), encoding="utf-8")
        properties = {
            "protocol": target.protocol,
            "host": target.host,
            "port": str(target.port),
            "path": target.path,
            "threads": str(args.threads),
            "loops": str(args.loops),
            "rampup": str(args.rampup),
            "runid": runid,
            "employees": str(args.employees),
            **dict(args.properties),
        }
        command = jm.plan_command(
            jmeter,
            plan=jm.PLAN,
            jtl=out / "results.jtl",
            log=out / "jmeter.log",
            properties=properties,
            property_file=key_file,
        )
        say(f"{args.threads} threads x {args.loops} loops -> {target.url}")
        (out / "jmeter.cmd").write_text(jm.redact(command, [api_key]) + "\n", encoding="utf-8")
        code, timed_out = run_jmeter(command, out, out / "jmeter.out", args.max_duration)
        load_end = time.time()
        key_file.unlink(missing_ok=True)

        notes: list[str] = []
        if code != 0:
            notes.append(f"JMeter exited with {code}; see jmeter.log")
        if timed_out:
            notes.append(f"JMeter stopped after --max-duration {args.max_duration:.0f} s")
        try:
            samples = parse_jtl(out / "results.jtl")
        except JtlError as exc:
            print(f"loadtest: {exc}", file=sys.stderr)
            samples = []
            notes.append(f"results unreadable: {exc}")
        stats = jtl_stats(samples)

        say(f"load done: {stats.requests} requests, {stats.accepted} accepted; waiting for the drain")
        drained, drain_s, history = wait_for_drain(sampler, load_end, stats.accepted, args.timeout)
        if not drained:
            notes.append(f"the pipeline did not drain within --timeout {args.timeout:.0f} s")
        sampler.stop()
        observations = sampler.observations
        last = history[-1] if history else (observations[-1] if observations else None)
        dlq = last.dlq if last else None
        if dlq is None:
            notes.append(
                "DLQ not checked: pass --queue-url and --dlq-url for a deployed stack"
                if stack is None
                else "DLQ unknown: `ponto status` gave no answer"
            )

        recorded = duplicates = None
        lead_p50 = lead_p99 = None
        if database_url:
            try:
                db = verify.verify_run(database_url, runid)
            except Exception as exc:  # report, do not crash: the summary says what is unknown
                notes.append(f"database verification failed: {exc}")
            else:
                recorded, duplicates = db.recorded, db.duplicates
                lead_p50, lead_p99 = db.lead_time_p50_ms, db.lead_time_p99_ms
                if db.missing_request_id:
                    notes.append(f"{db.missing_request_id} rows have no request_id (not checked for duplicates)")
        else:
            notes.append("recorded/duplicates not verified: pass --database-url for a deployed stack")

        summary = evaluate(
            Summary(
                runid=runid,
                url=target.url,
                threads=args.threads,
                loops=args.loops,
                jmeter_version=jmeter.version + (" (compat)" if jmeter.compat else ""),
                requests=stats.requests,
                errors=stats.errors,
                accepted=stats.accepted,
                recorded=recorded,
                duplicates=duplicates,
                dlq=dlq,
                throughput_rps=stats.throughput_rps,
                p50_ms=stats.p50_ms,
                p95_ms=stats.p95_ms,
                p99_ms=stats.p99_ms,
                drain_s=round(drain_s, 3),
                drained=drained,
                lead_time_p50_ms=lead_p50,
                lead_time_p99_ms=lead_p99,
                duration_s=stats.duration_s,
                started_at=(
                    dt.datetime.fromtimestamp(stats.first_start_ms / 1000, dt.UTC).isoformat()
                    if stats.first_start_ms is not None
                    else None
                ),
                response_codes=stats.response_codes,
                failure_messages=stats.failure_messages,
                notes=notes,
            )
        )
        write_json(summary, out / "summary.json")
        origin_s = stats.first_start_ms / 1000 if stats.first_start_ms is not None else load_end
        from loadtest.report import write_report  # matplotlib: imported only when reporting

        report = write_report(
            out,
            summary,
            per_second(samples),
            observations,
            origin_s=origin_s,
            load_end_s=(stats.last_end_ms / 1000 - origin_s) if stats.last_end_ms is not None else None,
        )
        print()
        print(text(summary))
        print(f"\nsummary: {out / 'summary.json'}\nreport:  {report}")
        return 0 if summary.passed else 1
    finally:
        key_file.unlink(missing_ok=True)
        if sampler is not None and sampler.is_alive():
            sampler.stop()
        if stack is not None:
            say("stopping ponto local")
            stack.stop()


if __name__ == "__main__":
    _stop_on_signals()
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("loadtest: interrupted", file=sys.stderr)
        sys.exit(130)
