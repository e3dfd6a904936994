"""The legal record end to end on `ponto local`: devices of two establishments punch in a burst while the
runner is SIGKILLed and PostgreSQL restarts; both AFDs then hold exactly the accepted punches, once each."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from ponto.loadgen import LoadResult, post_punches
from ponto.local import demo
from ponto.record import afd, afd_check, documents
from tests.e2e.conftest import RunningStack, restart_postgres, start_stack, stop_stack, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

OTHER_CNPJ = documents.make_cnpj(55_666_777)
RESPONSIBLE = documents.make_cpf(3)
EMPLOYEES = 500  # post_punches sends employee ids "<prefix>-<n % 500>"


def ok(stack: RunningStack, *args: str) -> Any:
    done = stack.cli(*args, "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


def drained(stack: RunningStack) -> bool:
    status = stack.status()
    return status.queue == 0 and status.in_flight == 0


def test_a_burst_through_faults_ends_in_two_valid_afds(own_postgres: Any, scratch: Path) -> None:
    stack = start_stack(scratch / "stack", database_url=own_postgres.get_uri())
    try:
        # Given the demo establishment (the stack's key is its browser device) and a second one, each
        # with employees r-0..r-499 and more devices
        ok(stack, "employer", "add", "--cnpj", OTHER_CNPJ, "--name", "Oficina Dois", "--workplace", "Av. B, 2",
           "--responsible-cpf", RESPONSIBLE)  # fmt: skip
        roster = scratch / "roster.csv"
        for n, cnpj in enumerate((demo.demo_cnpj(), OTHER_CNPJ)):
            rows = "".join(f"r-{i},{documents.make_cpf(500_000 + n * 1000 + i)},Pessoa {i}\n" for i in range(EMPLOYEES))
            roster.write_text("id,cpf,name\n" + rows, encoding="utf-8")
            assert (
                ok(stack, "employee", "import", "--employer", cnpj, str(roster), "--responsible-cpf", RESPONSIBLE)[
                    "imported"
                ]
                == EMPLOYEES
            )
        keys = {
            demo.demo_cnpj(): [stack.api_key, ok(stack, "device", "add", "--employer", demo.demo_cnpj(), "--kind",
                                                 "device")["api_key"]],
            OTHER_CNPJ: [ok(stack, "device", "add", "--employer", OTHER_CNPJ, "--kind", kind)["api_key"]
                         for kind in ("mobile", "desktop")],
        }  # fmt: skip
        time.sleep(1.5)  # the gateway reads new keys within a second

        # When four devices send a burst, the runner is SIGKILLed and PostgreSQL restarts meanwhile
        results: dict[str, LoadResult] = {}

        def send(cnpj: str, key: str) -> None:
            results[key] = post_punches(
                stack.url, key, 500, concurrency=4, rate_per_s=60, deadline_s=120, employee_prefix="r"
            )

        senders = [threading.Thread(target=send, args=(c, k)) for c, ks in keys.items() for k in ks]
        for thread in senders:
            thread.start()
        wait_for(lambda: stack.sql("SELECT count(*) FROM punches")[0][0] > 100, 60, "the drain to start")
        os.kill(stack.pid("runner"), signal.SIGKILL)
        time.sleep(2)
        restart_postgres(own_postgres, down_s=5)
        for thread in senders:
            thread.join(150)
        assert all(r.statuses == {202: 500} for r in results.values()), {k: r.statuses for k, r in results.items()}
        wait_for(lambda: stack.sql("SELECT count(*) FROM punches")[0][0] >= 2000 and drained(stack), 240, "the drain")
        dead = stack.status().dlq or 0
        if dead:  # a batch that met the restart more often than maxReceiveCount: redrive brings it back
            assert stack.cli("redrive").returncode == 0
            wait_for(lambda: drained(stack) and (stack.status().dlq or 0) == 0, 120, "the redrive")

        # Then every accepted punch is sealed once, in its own establishment's record
        assert stack.status().unsealed == 0
        for cnpj, cnpj_keys in keys.items():
            accepted = {p for k in cnpj_keys for p in results[k].punch_ids}
            sealed = stack.sql(
                "SELECT r.punch_id FROM afd_records r JOIN establishments s USING (establishment_id)"
                " WHERE s.document = %s AND r.record_type = 7",
                cnpj,
            )
            assert sorted(p for (p,) in sealed) == sorted(accepted)
            exported = ok(stack, "afd", "--employer", cnpj, "--out", str(scratch))
            path = Path(exported["file"])
            assert exported["counts"]["7"] == len(accepted)
            assert Path(exported["signature"]).exists()
            checked = subprocess.run(
                [sys.executable, "-m", "ponto.cli", "afd", "verify", str(path)],
                capture_output=True,
                text=True,
                check=False,
            )
            assert checked.returncode == 0, checked.stdout
            result = afd_check.check_afd_file(path)
            assert result.counts["7"] == len(accepted) and result.problems == []
            assert path.name == afd.file_name(demo.DEMO_REP_INPI, cnpj)
        verified = stack.cli("verify")
        assert verified.returncode == 0, verified.stdout
    finally:
        stop_stack(stack)
