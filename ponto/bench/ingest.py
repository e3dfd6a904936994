"""`ponto bench ingest`: the queue's raw send rate vs the local gateway's accepted rate.

Both are measured against the same running local stack, with the same concurrency and the same
punch bodies and message attributes, alternating rounds so that drift hits both alike. The raw
sends go straight to the queue with boto3 (what any producer would use), and once more with the
gateway's own lean SQS client; the gateway rate is HTTP POSTs that the gateway validates, maps and
sends. The target compares the gateway with boto3's raw rate.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ponto.bench.measure import at_least, median, rate, ratio
from ponto.lambda_events import message_attributes
from ponto.loadgen import post_punches, punch_body
from ponto.local.gateway import QueueUnavailable
from ponto.local.gateway_server import JsonProtocolSender
from ponto.local.launcher import on_a_local_stack
from ponto.local.sqs import sqs_client
from ponto.local.state import LocalState

TARGET_RATIO = 0.8
DEFAULT_REQUESTS = 2000
DEFAULT_CONCURRENCY = 20
DEFAULT_ROUNDS = 3


@dataclass(frozen=True)
class IngestBenchOptions:
    requests: int = DEFAULT_REQUESTS
    concurrency: int = DEFAULT_CONCURRENCY
    rounds: int = DEFAULT_ROUNDS
    data_dir: Path | None = None  # a running local stack; default: start one


def raw_sends(state: LocalState, count: int, concurrency: int) -> tuple[float, int]:
    """(sends/s, errors): SendMessage of `count` punches with the gateway's four attributes."""
    clients = [sqs_client(state.sqs_endpoint, state.region) for _ in range(concurrency)]
    indexes = iter(range(count))
    lock = threading.Lock()
    errors = 0

    def work(client: Any) -> None:
        nonlocal errors
        while True:
            with lock:
                index = next(indexes, None)
            if index is None:
                return
            body = json.dumps(punch_body(f"bench-raw-{index % 500}"))
            try:
                client.send_message(QueueUrl=state.queue_url, MessageBody=body, MessageAttributes=_attributes(state))
            except Exception:  # any failure counts, whatever boto3 raised
                with lock:
                    errors += 1

    threads = [threading.Thread(target=work, args=(client,), daemon=True) for client in clients]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(600)
    return rate(count - errors, time.perf_counter() - started), errors


def raw_protocol_sends(state: LocalState, count: int, concurrency: int) -> tuple[float, int]:
    """(sends/s, errors) through the gateway's own SQS client (JSON protocol, pooled connections)."""

    async def main() -> tuple[float, int]:
        sender = JsonProtocolSender(state.sqs_endpoint, state.queue_url, state.region, pool=concurrency)
        indexes = iter(range(count))
        errors = 0

        async def work() -> None:
            nonlocal errors
            for index in indexes:
                try:
                    await sender.send(json.dumps(punch_body(f"bench-raw-{index % 500}")), _attributes(state))
                except QueueUnavailable:
                    errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(work() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
        await sender.close()
        return rate(count - errors, elapsed), errors

    return asyncio.run(main())


def _attributes(state: LocalState) -> dict[str, dict[str, str]]:
    values = {
        "requestId": str(uuid.uuid4()),
        "receivedAt": str(int(time.time() * 1000)),
        "sourceIp": "127.0.0.1",
        "apiKeyId": state.api_key_id,
    }
    return message_attributes(values)


def measure(state: LocalState, options: IngestBenchOptions) -> dict[str, Any]:
    raw_rates: list[float] = []
    protocol_rates: list[float] = []
    gateway_rates: list[float] = []
    raw_errors = gateway_errors = 0
    local = urllib.parse.urlsplit(state.sqs_endpoint).hostname in ("127.0.0.1", "localhost", "::1")
    url = f"{state.gateway_url}/punches"
    for _ in range(options.rounds):
        sends, errors = raw_sends(state, options.requests, options.concurrency)
        raw_rates.append(sends)
        raw_errors += errors
        if local:
            sends, errors = raw_protocol_sends(state, options.requests, options.concurrency)
            protocol_rates.append(sends)
            raw_errors += errors
        load = post_punches(
            url, state.api_key, options.requests, concurrency=options.concurrency, employee_prefix="bench-gateway"
        )
        gateway_rates.append(rate(load.accepted, load.elapsed_s))
        gateway_errors += load.sent - load.accepted
    raw_rate, gateway_rate = median(raw_rates), median(gateway_rates)
    protocol_rate = median(protocol_rates) if protocol_rates else None
    ingest_ratio = ratio(gateway_rate, raw_rate)
    return {
        "requests_per_round": options.requests,
        "concurrency": options.concurrency,
        "rounds": options.rounds,
        "raw_sends_per_s": raw_rate,
        "gateway_accepted_per_s": gateway_rate,
        "ratio_gateway_vs_raw": ingest_ratio,
        # The same sends through the gateway's own lean SQS client: what HTTP, the schema and the
        # mapping template cost on top of the queue, with the client's cost taken out.
        "raw_protocol_sends_per_s": protocol_rate,
        "ratio_gateway_vs_raw_protocol": None if protocol_rate is None else ratio(gateway_rate, protocol_rate),
        "raw_errors": raw_errors,
        "gateway_errors": gateway_errors,
        "raw_sends_each_round": raw_rates,
        "raw_protocol_sends_each_round": protocol_rates,
        "gateway_accepted_each_round": gateway_rates,
        "targets": {"ratio_gateway_vs_raw": TARGET_RATIO},
        "targets_met": {"ratio_gateway_vs_raw": at_least(ingest_ratio, TARGET_RATIO)},
    }


def run(options: IngestBenchOptions) -> dict[str, Any]:
    return on_a_local_stack(options.data_dir, "ponto-bench-ingest-", lambda state: measure(state, options))
