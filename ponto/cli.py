"""The `ponto` command."""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
import uuid
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from ponto import migrations
from ponto.config import UrlDatabase, database_from_env
from ponto.errors import ConfigError, InvalidInputError, PontoError
from ponto.store import connector

DATA_DIR_HELP = "the local stack's data directory (default: .ponto)"


def cmd_migrate(args: argparse.Namespace) -> int:
    database = UrlDatabase(args.database_url) if args.database_url else database_from_env(os.environ)
    conn = connector(database, application_name="ponto-migrate")()
    try:
        applied = migrations.apply(conn)
    finally:
        conn.close()
    current = migrations.available()[-1].version
    print(f"applied: {', '.join(applied) or 'nothing (up to date)'}; schema at {current}")
    return 0


def cmd_local(args: argparse.Namespace) -> int:
    from ponto.local.stack import LocalOptions, run_local

    return run_local(
        LocalOptions(
            port=args.port,
            api_key=args.api_key,
            database_url=args.database_url,
            data_dir=args.data_dir,
            sqs_endpoint=args.sqs_endpoint,
            visibility_timeout_s=args.visibility_timeout,
            demo=not args.no_demo,
            throttle=not args.no_throttle,
        )
    )


def cmd_punch(args: argparse.Namespace) -> int:
    if args.employee is None:
        raise InvalidInputError("give --employee ID to send a punch (or `ponto punch add|disregard ...`)")
    url, api_key = args.url, args.api_key
    if url is None or api_key is None:
        from ponto.local.state import LocalState

        state = LocalState.load(args.data_dir)
        url = url or f"{state.gateway_url}/punches"
        api_key = api_key or state.api_key
    body: dict[str, Any] = {
        "punch_id": str(uuid.uuid4()),
        "employee_id": args.employee,
        "punched_at": datetime.now().astimezone().isoformat(timespec="milliseconds"),
        "kind": args.kind,
    }
    if args.device:
        body["device_id"] = args.device
    request = urllib.request.Request(  # noqa: S310 - the URL is the operator's own API
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "x-api-key": api_key},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            status, payload = response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        status, payload = exc.code, exc.read().decode(errors="replace")
    except OSError as exc:
        raise PontoError(f"cannot reach {url} ({type(exc).__name__})") from exc
    shown: dict[str, Any] = {"status": status, "response": _json_or_text(payload), "punch": body}
    if status == 202 and args.wait:
        shown["seal"] = _wait_for_seal(args, body["punch_id"], args.wait)
    print(json.dumps(shown, indent=2))
    return 0 if status == 202 else 1


def _wait_for_seal(args: argparse.Namespace, punch_id: str, timeout_s: float) -> dict[str, Any] | None:
    """The punch's NSR and hash once the worker has sealed it (None if not within the timeout)."""
    import time

    import psycopg2

    from ponto.commands.common import database_url

    deadline = time.monotonic() + timeout_s
    conn = psycopg2.connect(database_url(args), connect_timeout=5, application_name="ponto-punch")
    try:
        while time.monotonic() < deadline:
            with conn, conn.cursor() as cur:
                cur.execute("SELECT nsr, substr(line, 74) FROM afd_records WHERE punch_id = %s", (punch_id,))
                row = cur.fetchone()
            if row is not None:
                return {"nsr": row[0], "sha256": row[1]}
            time.sleep(0.25)
    finally:
        conn.close()
    return None


def _queue_target(args: argparse.Namespace) -> tuple[Any, str, str, str | None, str | None]:
    """(client, queue url, dlq url, database url, gateway url): the local stack or a deployed one."""
    from ponto.local.sqs import sqs_client

    queue_url = args.queue_url or os.environ.get("PONTO_QUEUE_URL")
    dlq_url = args.dlq_url or os.environ.get("PONTO_DLQ_URL")
    if queue_url and dlq_url:
        region = args.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        client = sqs_client(args.sqs_endpoint, region, timeout_s=25)
        database_url = getattr(args, "database_url", None) or os.environ.get("PONTO_DATABASE_URL")
        return client, queue_url, dlq_url, database_url, None
    from ponto.local.state import LocalState

    state = LocalState.load(args.data_dir)
    client = sqs_client(state.sqs_endpoint, state.region, timeout_s=25)
    return client, state.queue_url, state.dlq_url, state.database_url, state.gateway_url


def cmd_status(args: argparse.Namespace) -> int:
    from ponto.local.status import collect

    client, queue_url, dlq_url, database_url, gateway_url = _queue_target(args)
    status = collect(client, queue_url, dlq_url, database_url, gateway_url)
    print(json.dumps(status.as_dict()) if args.json else status.line())
    return 0


def cmd_redrive(args: argparse.Namespace) -> int:
    from ponto.redrive import redrive

    if args.max is not None and args.max < 1:
        raise ConfigError("--max must be at least 1")
    client, queue_url, dlq_url, _, _ = _queue_target(args)
    result = redrive(client, dlq_url, queue_url, args.max, lambda line: print(line, flush=True))
    print(f"redrive done: {result.moved} moved, {result.failed} failed ({result.method})")
    return 0 if result.failed == 0 else 1


def _json_or_text(payload: str) -> Any:
    try:
        return json.loads(payload)
    except ValueError:
        return payload


def _add_queue_target(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, default=Path(".ponto"), help=DATA_DIR_HELP)
    deployed = parser.add_argument_group("a deployed stack (instead of the local one)")
    deployed.add_argument("--queue-url", help="punches queue URL (env PONTO_QUEUE_URL)")
    deployed.add_argument("--dlq-url", help="dead-letter queue URL (env PONTO_DLQ_URL)")
    deployed.add_argument("--region", help="AWS region (env AWS_REGION)")
    deployed.add_argument("--sqs-endpoint", help="SQS endpoint URL (default: AWS's)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ponto", description="Ponto, a storage-first punch clock.")
    commands = parser.add_subparsers(dest="command", required=True)

    migrate = commands.add_parser("migrate", help="apply the SQL migrations to the database")
    migrate.add_argument(
        "--database-url",
        help="libpq URI; default: PONTO_DATABASE_URL, the managed secret settings, or rds_config.py",
    )
    migrate.set_defaults(run=cmd_migrate)

    local = commands.add_parser("local", help="run the whole pipeline on this machine (foreground, Ctrl-C stops)")
    local.add_argument("--port", type=int, default=3000, help="gateway port on 127.0.0.1 (default 3000)")
    local.add_argument("--api-key", help="the x-api-key clients must send (default: the last one, else random)")
    local.add_argument("--database-url", help="use this PostgreSQL instead of the embedded one")
    local.add_argument("--data-dir", type=Path, default=Path(".ponto"), help=DATA_DIR_HELP)
    local.add_argument("--sqs-endpoint", help="use this SQS-compatible endpoint instead of the embedded server")
    local.add_argument(
        "--visibility-timeout",
        type=int,
        help="local override of the queue's visibility timeout in seconds (default: serverless.yml's)",
    )
    local.add_argument(
        "--no-demo",
        action="store_true",
        help="do not seed the demo establishment, its employees 1..50 and the device holding the API key",
    )
    local.add_argument(
        "--no-throttle",
        action="store_true",
        help="do not apply the usage plan's rate, burst and daily quota (serverless.yml) at the gateway",
    )
    local.set_defaults(run=cmd_local)

    punch = commands.add_parser(
        "punch", help="send one punch and print the receipt; `punch add|disregard`: treatments (art. 82-83)"
    )
    punch.add_argument("--employee", help="employee id (required to send a punch)")
    punch.add_argument("--kind", choices=["in", "out", "break_start", "break_end"], default="in")
    punch.add_argument("--device", help="device id")
    punch.add_argument("--url", default=os.environ.get("PONTO_URL"), help="POST URL (env PONTO_URL; default: local)")
    punch.add_argument("--api-key", default=os.environ.get("PONTO_API_KEY"), help="API key (env PONTO_API_KEY)")
    punch.add_argument("--data-dir", type=Path, default=Path(".ponto"), help=DATA_DIR_HELP)
    punch.add_argument(
        "--wait",
        type=float,
        nargs="?",
        const=15.0,
        default=None,
        metavar="SECONDS",
        help="wait (default 15 s) for the worker to seal the punch and print its NSR and SHA-256",
    )
    punch.add_argument("--database-url", help="where to look for the seal (env PONTO_DATABASE_URL; default: local)")
    punch.set_defaults(run=cmd_punch)

    status = commands.add_parser("status", help="queue depth, in flight, DLQ depth, rows recorded, last lead time")
    status.add_argument("--json", action="store_true", help="print JSON")
    status.add_argument("--database-url", help="count rows here (env PONTO_DATABASE_URL) for a deployed stack")
    _add_queue_target(status)
    status.set_defaults(run=cmd_status)

    redrive = commands.add_parser("redrive", help="move dead-lettered punches back to the punches queue")
    redrive.add_argument("--max", type=int, help="move at most N messages (default: all)")
    _add_queue_target(redrive)
    redrive.set_defaults(run=cmd_redrive)

    from ponto.commands import receipt, record, registry, timesheet

    registry.add_parsers(commands)
    record.add_parsers(commands)
    receipt.add_parsers(commands)
    timesheet.add_parsers(commands)
    timesheet.add_punch_actions(punch)

    try:
        from ponto.bench.cli import add_bench_parser
    except ImportError:  # the bench needs the dev extras
        pass
    else:
        add_bench_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except InvalidInputError as exc:  # the operator's input: nothing was written
        print(f"ponto {args.command}: {exc}", file=sys.stderr)
        return 2
    except PontoError as exc:
        print(f"ponto {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
