"""`ponto bench receipts`: a burst of receipt reads (every clock polling at 08:00) against the local stack,
and the database connections it opens.

The local gateway serves the read routes as API Gateway does on AWS: with at most the receipts
function's reserved concurrency in execution environments (serverless.yml's receiptsConcurrency), each
holding one connection; a read that finds them all busy gets API Gateway's answer to a throttled Lambda
(503 "Busy, retry later", which the clock treats as "poll again"). The bench fires `--readers`
concurrent clients, each reading `--reads` times (after a 503, about a second later: its Retry-After, with jitter),
and samples pg_stat_activity meanwhile: the figure
that matters is the most connections the reads ever held, against the cap.
"""

from __future__ import annotations

import json
import random
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg2

from ponto.bench.measure import median
from ponto.local.launcher import on_a_local_stack
from ponto.local.state import LocalState
from ponto.serverless_config import read_function_settings

DEFAULT_READERS = 200
DEFAULT_READS = 5
DEFAULT_PUNCHES = 50
RETRY_AFTER_S = 1.0  # the contract's INTEGRATION_FAILURE answer: Retry-After 1
APPLICATION = "ponto-receipts"  # the receipts function's application_name on its connections


@dataclass(frozen=True)
class ReceiptsBenchOptions:
    readers: int = DEFAULT_READERS
    reads: int = DEFAULT_READS  # per reader
    punches: int = DEFAULT_PUNCHES
    data_dir: Path | None = None  # a running local stack; default: start one


def _request(url: str, method: str, key: str, body: Any = None) -> tuple[int, float]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - the local gateway
    request.add_header("x-api-key", key)
    request.add_header("Content-Type", "application/json")
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback only
            response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except OSError:
        status = 0
    return status, time.perf_counter() - started


def _seal_punches(state: LocalState, count: int, deadline_s: float = 120) -> list[str]:
    """`count` punches of the demo employees through the gateway, waited for until sealed."""
    ids = [str(uuid.uuid4()) for _ in range(count)]
    now = datetime.now().astimezone().replace(microsecond=0).isoformat()
    for index, punch_id in enumerate(ids):
        body = {"punch_id": punch_id, "employee_id": str(index % 50 + 1), "punched_at": now, "kind": "in"}
        _request(f"{state.gateway_url}/punches", "POST", state.api_key, body)
    deadline = time.monotonic() + deadline_s
    conn = psycopg2.connect(state.database_url)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            while time.monotonic() < deadline:
                cur.execute("SELECT count(*) FROM afd_records WHERE punch_id = ANY(%s)", (ids,))
                if cur.fetchone()[0] == count:  # type: ignore[index]
                    return ids
                time.sleep(0.5)
    finally:
        conn.close()
    raise RuntimeError("the bench's punches were not sealed in time (is the local stack's worker running?)")


class ConnectionSampler(threading.Thread):
    """The receipts function's connections, sampled every 10 ms."""

    def __init__(self, database_url: str) -> None:
        super().__init__(daemon=True)
        self.database_url = database_url
        self.stop = threading.Event()
        self.peak = 0
        self.samples = 0

    def run(self) -> None:
        conn = psycopg2.connect(self.database_url, application_name="ponto-bench-sampler")
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                while not self.stop.wait(0.01):
                    cur.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (APPLICATION,))
                    self.peak = max(self.peak, int(cur.fetchone()[0]))  # type: ignore[index]
                    self.samples += 1
        finally:
            conn.close()


def measure(state: LocalState, options: ReceiptsBenchOptions) -> dict[str, Any]:
    cap = read_function_settings("receipts").reserved_concurrency
    ids = _seal_punches(state, options.punches)
    statuses: dict[int, int] = {}
    latencies: list[float] = []
    lock = threading.Lock()
    start = threading.Barrier(options.readers)

    served: set[int] = set()
    jitter = random.Random(671)  # noqa: S311 - spreading retries, not security

    def reader(index: int) -> None:
        start.wait(60)  # every clock at once
        for read in range(options.reads):
            punch_id = ids[(index + read) % len(ids)]
            status, seconds = _request(f"{state.gateway_url}/punches/{punch_id}/receipt", "GET", state.api_key)
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
                latencies.append(seconds)
                if status == 200:
                    served.add(index)
            if status == 503:
                # As the clock does: the answer's Retry-After, with jitter so that the clocks spread out.
                time.sleep(RETRY_AFTER_S * jitter.uniform(0.5, 1.5))

    sampler = ConnectionSampler(state.database_url)
    sampler.start()
    threads = [threading.Thread(target=reader, args=(i,), daemon=True) for i in range(options.readers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    elapsed = time.perf_counter() - started
    time.sleep(0.05)
    sampler.stop.set()
    sampler.join(5)
    total = sum(statuses.values())
    latencies.sort()
    return {
        "readers": options.readers,
        "reads": total,
        "seconds": round(elapsed, 2),
        "reads_per_s": round(total / elapsed, 1) if elapsed else None,
        "answered_200": statuses.get(200, 0),
        "readers_answered": len(served),
        "answered_503_busy": statuses.get(503, 0),
        "other_statuses": {str(k): v for k, v in statuses.items() if k not in (200, 503)},
        "latency_p50_ms": round(median(latencies) * 1000, 1) if latencies else None,
        "latency_p95_ms": round(latencies[int(len(latencies) * 0.95) - 1] * 1000, 1) if latencies else None,
        "db_connections_peak": sampler.peak,
        "db_connection_samples": sampler.samples,
        "reserved_concurrency": cap,
        "peak_within_cap": sampler.peak <= cap,
    }


def run(options: ReceiptsBenchOptions) -> dict[str, Any]:
    return on_a_local_stack(options.data_dir, "ponto-bench-receipts-", lambda state: measure(state, options))
