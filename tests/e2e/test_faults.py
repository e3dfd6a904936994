"""Faults under load: the runner SIGKILLed, PostgreSQL stopped for 30 s. Nothing lost, nothing twice."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from ponto.loadgen import LoadResult, post_punches
from tests.e2e.conftest import RunningStack, socket_dir_of, start_stack, stop_stack, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def in_background(target: Any) -> tuple[threading.Thread, list[LoadResult]]:
    results: list[LoadResult] = []
    thread = threading.Thread(target=lambda: results.append(target()), daemon=True)
    thread.start()
    return thread, results


def recorded_punch_ids(stack: RunningStack, prefix: str) -> list[str]:
    return [row[0] for row in stack.sql("SELECT punch_id FROM punches WHERE employee_id LIKE %s", f"{prefix}-%")]


def assert_each_accepted_punch_recorded_once(stack: RunningStack, prefix: str, load: LoadResult) -> None:
    ids = recorded_punch_ids(stack, prefix)
    assert len(ids) == len(set(ids)) == load.accepted
    assert set(ids) == set(load.punch_ids)
    rows = stack.sql(
        "SELECT count(*), count(DISTINCT request_id) FROM punches WHERE employee_id LIKE %s", f"{prefix}-%"
    )
    assert rows[0] == (load.accepted, load.accepted)


def drained(stack: RunningStack) -> bool:
    status = stack.status()
    return status.queue == 0 and status.in_flight == 0


def test_sigkill_of_the_runner_under_load_loses_and_duplicates_nothing(scratch: Path) -> None:
    stack = start_stack(scratch / "stack")
    try:
        first_runner = stack.pid("runner")
        thread, results = in_background(
            lambda: post_punches(stack.url, stack.api_key, 3000, concurrency=20, rate_per_s=300, employee_prefix="kill")
        )
        wait_for(lambda: stack.sql("SELECT count(*) FROM punches")[0][0] > 200, 60, "the drain to start")
        os.kill(first_runner, signal.SIGKILL)
        thread.join(120)
        (load,) = results
        assert load.statuses == {202: 3000}
        wait_for(lambda: stack.pid("runner") != first_runner and psutil.pid_exists(stack.pid("runner")), 30, "restart")
        wait_for(lambda: len(recorded_punch_ids(stack, "kill")) >= 3000 and drained(stack), 180, "the drain")
        assert_each_accepted_punch_recorded_once(stack, "kill", load)
        assert stack.status().dlq == 0
        assert any("runner exited" in line for line in stack.output)
    finally:
        stop_stack(stack)


def test_a_30_second_database_outage_under_load_loses_and_duplicates_nothing(own_postgres: Any, scratch: Path) -> None:
    import pgserver

    url = own_postgres.get_uri()
    stack = start_stack(scratch / "stack", database_url=url)
    pg_ctl = pgserver.pg_ctl  # type: ignore[attr-defined]
    data, user = own_postgres.pgdata, own_postgres.system_user
    try:
        thread, results = in_background(
            lambda: post_punches(
                stack.url, stack.api_key, 2400, concurrency=10, rate_per_s=50, deadline_s=120, employee_prefix="outage"
            )
        )
        time.sleep(5)
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=data, user=user)
        outage_started = time.monotonic()
        time.sleep(30)
        start = ["-w", "-o", '-h ""', "-o", f"-k {socket_dir_of(url)}", "-l", str(own_postgres.log), "start"]
        pg_ctl(start, pgdata=data, user=user)
        assert time.monotonic() - outage_started >= 30
        thread.join(120)
        (load,) = results
        assert load.statuses == {202: 2400}, "storage first: the gateway accepts while the database is down"

        wait_for(lambda: drained(stack), 180, "the queue to drain")
        dead = stack.status().dlq or 0
        if dead:
            redriven = stack.cli("redrive")
            assert redriven.returncode == 0, redriven.stdout + redriven.stderr
            assert f"{dead} moved" in redriven.stdout
        wait_for(lambda: len(recorded_punch_ids(stack, "outage")) >= 2400 and drained(stack), 180, "the backlog")
        assert_each_accepted_punch_recorded_once(stack, "outage", load)
        assert stack.status().dlq == 0
    finally:
        stop_stack(stack)
