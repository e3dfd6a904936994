"""What the database says about a run: its rows are those of employees lt-<runid>-<n>."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import psycopg2

RUNID = re.compile(r"^[A-Za-z0-9]{1,40}$")

# One pass over the run's rows. Duplicates: rows beyond the first per API request id, plus rows
# beyond the first per client punch_id in the raw body (the table's key makes the second 0 unless
# the worker derives its key differently).
VERIFY_SQL = """
SELECT count(*)                                                             AS recorded,
       count(request_id) - count(DISTINCT request_id)                       AS duplicate_requests,
       count(raw->>'punch_id') - count(DISTINCT raw->>'punch_id')           AS duplicate_punch_ids,
       count(*) - count(request_id)                                         AS missing_request_id,
       percentile_cont(0.5) WITHIN GROUP (
           ORDER BY extract(epoch FROM recorded_at - received_at) * 1000)  AS lead_p50_ms,
       percentile_cont(0.99) WITHIN GROUP (
           ORDER BY extract(epoch FROM recorded_at - received_at) * 1000)  AS lead_p99_ms,
       max(extract(epoch FROM recorded_at - received_at) * 1000)            AS lead_max_ms
  FROM punches
 WHERE employee_id LIKE %s
"""

COUNT_SQL = "SELECT count(*) FROM punches WHERE employee_id LIKE %s"


def check_runid(runid: str) -> str:
    if not RUNID.match(runid):
        raise ValueError(f"run id {runid!r}: use 1-40 letters and digits")
    return runid


def employee_prefix(runid: str) -> str:
    return f"lt-{check_runid(runid)}-"


def like_pattern(runid: str) -> str:
    """The LIKE pattern for a run's employees, its wildcards escaped (backslash is the default)."""
    prefix = employee_prefix(runid)
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


@dataclass(frozen=True)
class DbVerification:
    recorded: int
    duplicate_requests: int
    duplicate_punch_ids: int
    missing_request_id: int
    lead_time_p50_ms: float | None
    lead_time_p99_ms: float | None
    lead_time_max_ms: float | None

    @property
    def duplicates(self) -> int:
        return self.duplicate_requests + self.duplicate_punch_ids


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def connect(database_url: str) -> Any:
    conn = psycopg2.connect(database_url, application_name="ponto-loadtest", connect_timeout=10)
    conn.autocommit = True
    return conn


def count_rows(conn: Any, runid: str) -> int:
    with conn.cursor() as cur:
        cur.execute(COUNT_SQL, (like_pattern(runid),))
        row = cur.fetchone()
    return int(row[0])


def verify_run(database_url: str, runid: str) -> DbVerification:
    conn = connect(database_url)
    try:
        with conn.cursor() as cur:
            cur.execute(VERIFY_SQL, (like_pattern(runid),))
            row = cur.fetchone()
    finally:
        conn.close()
    return DbVerification(
        recorded=int(row[0]),
        duplicate_requests=int(row[1]),
        duplicate_punch_ids=int(row[2]),
        missing_request_id=int(row[3]),
        lead_time_p50_ms=_float(row[4]),
        lead_time_p99_ms=_float(row[5]),
        lead_time_max_ms=_float(row[6]),
    )
