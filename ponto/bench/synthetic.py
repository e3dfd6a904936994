"""Synthetic punches as the gateway queues them and the Lambda event source delivers them.

Deterministic for a given seed, so every approach of a benchmark writes the very same rows.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from ponto.lambda_context import LambdaContext
from ponto.lambda_events import received_message, sqs_lambda_record

QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:ponto-bench-punches"
FUNCTION_NAME = "ponto-bench-worker"
_KINDS = ("in", "break_start", "break_end", "out")
_BRT = timezone(timedelta(hours=-3))
# 2026-11-23 08:00 BRT: the morning rush of a working day.
_START_MS = 1_795_950_000_000


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def punch_records(count: int, *, seed: int = 2026, keys: int = 10) -> list[dict[str, Any]]:
    """`count` SQS records of distinct v1 punches, with the attributes the gateway's mapping adds.

    Each punch comes through one of `keys` API keys (`api_key_ids(keys)`), drawn at random."""
    if not 1 <= keys <= 100:
        raise ValueError("keys: 1 to 100")
    rng = random.Random(seed)  # noqa: S311 - test data, reproducible on purpose
    employees = max(1, count // 4)
    records = []
    for index in range(count):
        received_ms = _START_MS + index * 37 + rng.randrange(0, 1000)
        punched_at = datetime.fromtimestamp((received_ms - rng.randrange(200, 5000)) / 1000, tz=UTC)
        body = {
            "punch_id": _uuid(rng),
            "employee_id": f"emp-{rng.randrange(employees):05d}",
            "punched_at": punched_at.astimezone(_BRT).isoformat(timespec="milliseconds"),
            "kind": _KINDS[index % len(_KINDS)],
            "device_id": f"kiosk-{rng.randrange(40):02d}",
            "location": {
                "lat": round(-23.55 + rng.uniform(-0.05, 0.05), 6),
                "lon": round(-46.63 + rng.uniform(-0.05, 0.05), 6),
                "accuracy_m": round(rng.uniform(3, 30), 1),
            },
        }
        attributes = {
            "requestId": _uuid(rng),
            "receivedAt": str(received_ms),
            "sourceIp": f"203.0.113.{rng.randrange(1, 255)}",
            "apiKeyId": api_key_id(rng.randrange(keys)),
        }
        records.append(sqs_record(json.dumps(body), attributes, message_id=_uuid(rng), rng=rng))
    return records


def api_key_id(index: int) -> str:
    """The id of the synthetic API key `index` (0 to 99), as the gateway puts it in apiKeyId."""
    return f"key{index:02d}abcdef"


def api_key_ids(keys: int) -> list[str]:
    """The ids of the first `keys` synthetic API keys."""
    return [api_key_id(index) for index in range(keys)]


def sqs_record(body: str, attributes: dict[str, str], *, message_id: str, rng: random.Random) -> dict[str, Any]:
    """One record of an SQS event, shaped as the event source mapping delivers it."""
    sent_ms = int(attributes.get("receivedAt") or _START_MS)
    message = received_message(
        message_id, body, attributes, sent_ms=sent_ms, receipt_handle=f"AQEB{rng.getrandbits(256):064x}"
    )
    return sqs_lambda_record(message, QUEUE_ARN, "us-east-1")


def batches(records: Sequence[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    """The records in consecutive batches of at most `size`, as the event source mapping groups them."""
    if size < 1:
        raise ValueError("batch size must be at least 1")
    for start in range(0, len(records), size):
        yield list(records[start : start + size])


def sqs_events(records: Sequence[dict[str, Any]], batch_size: int) -> list[dict[str, Any]]:
    return [{"Records": batch} for batch in batches(records, batch_size)]


def bench_context() -> LambdaContext:
    """A fresh invocation's context for the benchmarked worker."""
    return LambdaContext(FUNCTION_NAME)
