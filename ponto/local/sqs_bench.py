"""Throughput of ponto's local SQS server next to moto's, under the same boto3 client load.

    python -m ponto.local.sqs_bench --messages 5000 --json

Each server is started as a child process on a free loopback port (ponto's on a fresh SQLite file in
a temporary directory), then: `--threads` boto3 clients send `--messages` messages one SendMessage at
a time; then the same clients receive them in batches of 10 (ReceiveMessage + DeleteMessageBatch)
until all are gone.  Every phase stops at `--max-seconds` (a slow server reports what it managed).
`--backlog N` first fills ponto's queue with N extra messages (SendMessageBatch), so its receive
rate is measured with the queue that deep.  Only 127.0.0.1 is contacted; the children are stopped by
their pid.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
from botocore.config import Config

SERVERS = ("ponto", "moto")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


@contextlib.contextmanager
def running_server(kind: str, workdir: str) -> Iterator[str]:
    """Start `kind` ("ponto" or "moto") as a child process; yields its endpoint URL."""
    port = free_port()
    if kind == "ponto":
        db = os.path.join(workdir, f"bench-{port}.db")
        command = [sys.executable, "-m", "ponto.local.sqs_server", "--port", str(port), "--db", db]
    elif kind == "moto":
        command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    else:
        raise ValueError(kind)
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
    try:
        deadline = time.monotonic() + 30
        while not _port_open(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{kind} server did not start ({' '.join(command)})")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def client(endpoint: str, pool: int = 4) -> Any:
    session = boto3.session.Session()
    return session.client(
        "sqs",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",  # noqa: S106 - a dummy: the servers accept any credentials
        config=Config(max_pool_connections=pool, retries={"max_attempts": 1}, read_timeout=60),
    )


def _body(i: int) -> str:
    return json.dumps(
        {
            "punch_id": f"bench-{i:08d}",
            "employee_id": str(1000 + i % 500),
            "punched_at": "2026-01-05T08:00:00-03:00",
            "kind": "in",
            "device_id": "bench-clock",
        }
    )


def _phase_worker(
    phase: str,
    endpoint: str,
    queue_url: str,
    worker: int,
    workers: int,
    threads: int,
    messages: int,
    max_seconds: float,
    barrier: Any,
    remaining: Any,
    results: Any,
) -> None:
    """One client process of a phase: `threads` threads, one boto3 client each."""
    clients = [client(endpoint) for _ in range(threads)]
    for c in clients:  # first call of each client outside the timing (lazy setup in botocore)
        c.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    counts = [0] * threads
    ends = [0.0] * threads
    barrier.wait()
    started = time.monotonic()
    deadline = started + max_seconds

    def send(t: int) -> None:
        stride = workers * threads
        for i in range(worker * threads + t, messages, stride):
            if time.monotonic() > deadline:
                break
            clients[t].send_message(QueueUrl=queue_url, MessageBody=_body(i))
            counts[t] += 1
        ends[t] = time.monotonic()

    def receive(t: int) -> None:
        empties = 0
        while time.monotonic() < deadline and remaining.value > 0 and empties < 100:
            batch = clients[t].receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                empties += 1
                time.sleep(0.02)
                continue
            empties = 0
            clients[t].delete_message_batch(
                QueueUrl=queue_url,
                Entries=[{"Id": str(k), "ReceiptHandle": m["ReceiptHandle"]} for k, m in enumerate(batch)],
            )
            counts[t] += len(batch)
            ends[t] = time.monotonic()
            with remaining.get_lock():
                remaining.value -= len(batch)

    target = send if phase == "send" else receive
    pool = [threading.Thread(target=target, args=(t,)) for t in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    results.put((sum(counts), started, max(ends)))


def _phase(
    phase: str, endpoint: str, queue_url: str, procs: int, threads: int, messages: int, max_seconds: float
) -> tuple[int, float]:
    """Run a phase over `procs` client processes; (messages handled, seconds)."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(procs)
    remaining = context.Value("q", messages)
    results = context.Queue()
    workers = [
        context.Process(
            target=_phase_worker,
            args=(phase, endpoint, queue_url, n, procs, threads, messages, max_seconds, barrier, remaining, results),
        )
        for n in range(procs)
    ]
    for process in workers:
        process.start()
    outcomes = [results.get(timeout=max_seconds + 120) for _ in workers]
    for process in workers:
        process.join(30)
    handled = sum(o[0] for o in outcomes)
    seconds = max(o[2] for o in outcomes) - min(o[1] for o in outcomes)
    return handled, max(seconds, 1e-9)


def bench(
    endpoint: str, messages: int, procs: int, threads: int, max_seconds: float, backlog: int = 0
) -> dict[str, Any]:
    admin = client(endpoint)
    queue_url = admin.create_queue(QueueName=f"bench-{os.getpid()}", Attributes={"VisibilityTimeout": "120"})[
        "QueueUrl"
    ]
    result: dict[str, Any] = {}
    if backlog:
        started = time.perf_counter()
        for start in range(0, backlog, 10):
            admin.send_message_batch(
                QueueUrl=queue_url,
                Entries=[{"Id": str(k), "MessageBody": _body(-1 - start - k)} for k in range(min(10, backlog - start))],
            )
        result["backlog"] = backlog
        result["backlog_fill_per_s"] = round(backlog / (time.perf_counter() - started), 1)
    sent, send_seconds = _phase("send", endpoint, queue_url, procs, threads, messages, max_seconds)
    received, receive_seconds = _phase("receive", endpoint, queue_url, procs, threads, sent, max_seconds)
    depth = admin.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"])
    result.update(
        {
            "messages_sent": sent,
            "send_seconds": round(send_seconds, 3),
            "sends_per_s": round(sent / send_seconds, 1),
            "messages_received": received,
            "receive_seconds": round(receive_seconds, 3),
            "receives_per_s": round(received / receive_seconds, 1),
            "left_in_queue": int(depth["Attributes"]["ApproximateNumberOfMessages"]),
            "completed": sent == messages and received >= sent,
        }
    )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ponto.local.sqs_bench", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--procs", type=int, default=2, help="client processes (default 2)")
    parser.add_argument("--threads", type=int, default=3, help="client threads per process, one boto3 client each")
    parser.add_argument("--max-seconds", type=float, default=120.0, help="time limit of each phase")
    parser.add_argument("--servers", default=",".join(SERVERS), help="comma-separated: ponto,moto")
    parser.add_argument("--backlog", type=int, default=0, help="extra messages queued first (ponto only)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args(argv)
    if args.messages < 1 or args.threads < 1 or args.procs < 1:
        parser.error("--messages, --procs and --threads must be positive")
    results: dict[str, Any] = {
        "messages": args.messages,
        "client_processes": args.procs,
        "threads_per_process": args.threads,
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
    }
    with tempfile.TemporaryDirectory(prefix="ponto-sqs-bench-") as workdir:
        for kind in [s.strip() for s in args.servers.split(",") if s.strip()]:
            if kind not in SERVERS:
                parser.error(f"unknown server {kind!r}")
            with running_server(kind, workdir) as endpoint:
                backlog = args.backlog if kind == "ponto" else 0
                results[kind] = bench(endpoint, args.messages, args.procs, args.threads, args.max_seconds, backlog)
            if not args.json:
                print(f"{kind}: {results[kind]}", flush=True)
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
