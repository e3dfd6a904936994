"""Counts of a running pipeline: queue depth, in flight, DLQ, rows recorded, last lead time.

Each figure has one scope (SCOPES, also in `--json` under "scopes"): `received` counts this run (the
local gateway's 202s since it started), `recorded` and `unsealed` count all time (rows in the
database), the queue's depths are now, and the lead time is the last recorded punch's.
"""

from __future__ import annotations

import json
import urllib.request
from dataclasses import asdict, dataclass
from typing import Any

import psycopg2
from botocore.exceptions import BotoCoreError, ClientError

from ponto.store import record

_QUEUE_COUNTS = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]

# The scope of each figure, by its --json key: "this_run" (since the local gateway started),
# "all_time" (everything in the database), "now" (the queues' current depths), "last" (the latest punch).
SCOPES: dict[str, str] = {
    "received": "this_run",
    "recorded": "all_time",
    "unsealed": "all_time",
    "queue": "now",
    "in_flight": "now",
    "dlq": "now",
    "last_lead_time_ms": "last",
}


@dataclass(frozen=True)
class Status:
    received: int | None  # this run: accepted by the local gateway since it started (None: not local/unknown)
    queue: int | None  # now: messages waiting in the punches queue
    in_flight: int | None  # now: received by the worker, not yet deleted
    dlq: int | None  # now: messages in the dead-letter queue
    recorded: int | None  # all time: rows in the punches table
    last_lead_time_ms: float | None  # the last recorded punch's: recorded_at - received_at
    unsealed: int | None = None  # all time: recorded punches with no NSR yet (unknown device or employee)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "scopes": SCOPES}

    def line(self) -> str:
        """The figures grouped by scope (SCOPES), e.g. `this run: received 3 | all time: recorded 54,
        unsealed 0 | now: queued 0, in flight 0, DLQ 0 | last punch: lead time 412 ms`."""

        def show(value: int | float | None) -> str:
            return "?" if value is None else f"{value:,.0f}"

        return (
            f"this run: received {show(self.received)}"
            f" | all time: recorded {show(self.recorded)}, unsealed {show(self.unsealed)}"
            f" | now: queued {show(self.queue)}, in flight {show(self.in_flight)}, DLQ {show(self.dlq)}"
            f" | last punch: lead time {show(self.last_lead_time_ms)} ms"
        )


def collect(
    client: Any, queue_url: str, dlq_url: str, database_url: str | None, gateway_url: str | None = None
) -> Status:
    """Each count is None when its source cannot be reached (a status never fails)."""
    queue, in_flight = _queue_counts(client, queue_url)
    dlq, dlq_in_flight = _queue_counts(client, dlq_url)
    recorded, lead, unsealed = _database_counts(database_url) if database_url else (None, None, None)
    return Status(
        received=_gateway_accepted(gateway_url) if gateway_url else None,
        queue=queue,
        in_flight=in_flight,
        dlq=None if dlq is None or dlq_in_flight is None else dlq + dlq_in_flight,
        recorded=recorded,
        last_lead_time_ms=lead,
        unsealed=unsealed,
    )


def _queue_counts(client: Any, url: str) -> tuple[int | None, int | None]:
    try:
        attributes = client.get_queue_attributes(QueueUrl=url, AttributeNames=_QUEUE_COUNTS)["Attributes"]
        return int(attributes[_QUEUE_COUNTS[0]]), int(attributes[_QUEUE_COUNTS[1]])
    except (BotoCoreError, ClientError, KeyError, ValueError):
        return None, None


def _database_counts(database_url: str) -> tuple[int | None, float | None, int | None]:
    try:
        conn = psycopg2.connect(database_url, connect_timeout=2, application_name="ponto-status")
    except psycopg2.Error:
        return None, None, None
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM punches")
            (recorded,) = cur.fetchone() or (None,)
            cur.execute(
                "SELECT extract(epoch FROM recorded_at - received_at) * 1000 FROM punches"
                " WHERE received_at IS NOT NULL ORDER BY recorded_at DESC LIMIT 1"
            )
            row = cur.fetchone()
            unsealed = _unsealed(cur)
        return recorded, None if row is None or row[0] is None else float(row[0]), unsealed
    except psycopg2.Error:
        return None, None, None
    finally:
        conn.close()


def _unsealed(cur: Any) -> int | None:
    """None on a database migrated before the legal record (no afd_records table)."""
    cur.execute("SELECT to_regclass('afd_records') IS NOT NULL")
    row = cur.fetchone()
    return record.unsealed_count(cur) if row and row[0] else None


def _gateway_accepted(gateway_url: str) -> int | None:
    try:
        with urllib.request.urlopen(f"{gateway_url}/health", timeout=2) as response:  # noqa: S310 - loopback URL
            return int(json.load(response)["accepted"])
    except (OSError, ValueError, KeyError):
        return None
