"""The timesheet end to end on `ponto local`: the demo establishment, punches sent through the gateway,
then `ponto timesheet` in every format and `ponto aej`, as a user runs them."""

from __future__ import annotations

import json
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest

from ponto.record import signing
from ponto.timesheet import aej
from tests.e2e.conftest import RunningStack, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

DEMO = "12345678000195"
DAY = "2026-11-23"  # a Monday: the demo schedule is mon-fri 08:00-12:00 13:00-17:00
TIMES = ("07:58", "12:00", "13:00", "17:30")  # the last mark 30 minutes over: no tolerance


def post(stack: RunningStack, body: dict[str, Any]) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{stack.port}/punches", data=json.dumps(body).encode(), method="POST"
    )
    request.add_header("x-api-key", stack.api_key)
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:
        return int(response.status)


def run(stack: RunningStack, *args: str) -> str:
    done = stack.cli(*args)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_timesheet_and_aej_of_punches_sent_through_the_gateway(local_stack: RunningStack, tmp_path: Path) -> None:
    stack = local_stack
    ids = [str(uuid.uuid4()) for _ in TIMES]
    for punch_id, clock in zip(ids, TIMES, strict=True):
        body = {"punch_id": punch_id, "employee_id": "5", "punched_at": f"{DAY}T{clock}:00-03:00"}
        assert post(stack, body) == 202
    wait_for(
        lambda: stack.sql("SELECT count(*) FROM afd_records WHERE punch_id = ANY(%s)", ids) == [(4,)], 60, "4 seals"
    )
    (document,) = [json.loads(run(stack, "timesheet", "--employer", DEMO, "--employee", "5", "--month", "2026-11",
                                  "--format", "json"))]  # fmt: skip
    assert (document["employee_id"], document["month"]) == ("5", "2026-11")
    (day,) = [d for d in document["days"] if d["date"] == DAY]
    assert day["punches"] == list(TIMES)
    assert (day["scheduled_minutes"], day["worked_minutes"]) == (480, 4 * 60 + 2 + 4 * 60 + 30)
    assert (day["overtime_50_minutes"], day["overtime_100_minutes"], day["undertime_minutes"]) == (32, 0, 0)
    assert (day["night_minutes"], day["flags"]) == (0, [])
    for output in ("csv", "html", "pdf", "text"):
        run(stack, "timesheet", "--employer", DEMO, "--month", "2026-11", "--format", output, "--out", str(tmp_path))
    assert (tmp_path / f"espelho_{DEMO}_2026-11.pdf").read_bytes().startswith(b"%PDF-")
    assert "Funcionário Demo 5" in (tmp_path / f"espelho_{DEMO}_2026-11.html").read_text(encoding="utf-8")
    rows = (tmp_path / f"espelho_{DEMO}_2026-11.csv").read_text(encoding="utf-8").splitlines()
    assert len(rows) == 1 + 50 * 30  # a header, then every demo employee's every day of November
    run(stack, "aej", "--employer", DEMO, "--from", "2026-11-01", "--to", "2026-11-30", "--out", str(tmp_path))
    (aej_file,) = tmp_path.glob("AEJ_*.txt")
    lines = aej_file.read_bytes().decode("iso-8859-1").split("\r\n")
    marks = [aej.read_record(line)[1] for line in lines if line.startswith("05|")]
    assert [m["tpMarc"] for m in marks] == ["E", "S", "E", "S"]
    assert {m["fonteMarc"] for m in marks} == {"O"}
    signing.verify_file(aej_file, signing.signature_path(aej_file))
