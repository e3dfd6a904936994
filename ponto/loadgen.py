"""A bounded HTTP load generator for punches: loopback targets, a count and a deadline."""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.parse
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime


@dataclass
class LoadResult:
    statuses: Counter[int] = field(default_factory=Counter)
    request_ids: list[str] = field(default_factory=list)  # of the 202 answers
    punch_ids: list[str] = field(default_factory=list)  # of the 202 answers
    latencies_ms: list[float] = field(default_factory=list)
    elapsed_s: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def sent(self) -> int:
        return sum(self.statuses.values())

    @property
    def accepted(self) -> int:
        return self.statuses[202]

    @property
    def rate(self) -> float:
        return self.sent / self.elapsed_s if self.elapsed_s else 0.0


def punch_body(employee: str, kind: str = "in") -> dict[str, str]:
    return {
        "punch_id": str(uuid.uuid4()),
        "employee_id": employee,
        "punched_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "kind": kind,
    }


def post_punches(
    url: str,
    api_key: str,
    count: int,
    *,
    concurrency: int = 10,
    rate_per_s: float | None = None,
    deadline_s: float = 300,
    employee_prefix: str = "load",
) -> LoadResult:
    """POST `count` v1 punches (fewer if the deadline passes), optionally paced to `rate_per_s`."""
    target = urllib.parse.urlsplit(url)
    if target.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError("the load generator only targets loopback addresses")
    result = LoadResult()
    started = time.monotonic()
    stop_at = started + deadline_s
    next_index = iter(range(count))
    index_lock = threading.Lock()

    def take() -> int | None:
        with index_lock:
            return next(next_index, None)

    def work() -> None:
        connection = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port or 80, timeout=30)
        while time.monotonic() < stop_at:
            index = take()
            if index is None:
                break
            if rate_per_s:
                delay = started + index / rate_per_s - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            body = punch_body(f"{employee_prefix}-{index % 500}", ("in", "out")[index % 2])
            sent_at = time.perf_counter()
            try:
                connection.request(
                    "POST",
                    target.path or "/punches",
                    body=json.dumps(body),
                    headers={"Content-Type": "application/json", "x-api-key": api_key},
                )
                response = connection.getresponse()
                payload = response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port or 80, timeout=30)
                status, payload = 0, b""
            latency = (time.perf_counter() - sent_at) * 1000
            with result._lock:
                result.statuses[status] += 1
                result.latencies_ms.append(latency)
                if status == 202:
                    result.request_ids.append(json.loads(payload)["request_id"])
                    result.punch_ids.append(body["punch_id"])
        connection.close()

    threads = [threading.Thread(target=work, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, stop_at - time.monotonic()) + 35)
    result.elapsed_s = time.monotonic() - started
    return result
