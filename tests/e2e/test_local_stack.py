"""`ponto local` end to end: gateway, queue, runner, the real worker handler and PostgreSQL."""

from __future__ import annotations

import http.client
import json
from datetime import UTC
from typing import Any

import pytest

from ponto.loadgen import post_punches
from ponto.punch import content_id
from tests.e2e.conftest import RunningStack, wait_for
from tests.events import legacy_body, v1_body

pytestmark = pytest.mark.e2e


def post(stack: RunningStack, body: bytes, headers: dict[str, str], path: str = "/punches") -> tuple[int, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=10)
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        connection.close()


def json_headers(stack: RunningStack) -> dict[str, str]:
    return {"Content-Type": "application/json", "x-api-key": stack.api_key}


def test_valid_and_legacy_punches_are_recorded_exactly_once(local_stack: RunningStack) -> None:
    v1 = [v1_body(employee_id=f"e2e-{i}") for i in range(3)]
    legacy = [legacy_body(usuario_id=9000 + i) for i in range(2)]
    receipts = [post(local_stack, json.dumps(b).encode(), json_headers(local_stack)) for b in [*v1, *legacy]]
    resent = post(local_stack, json.dumps(v1[0]).encode(), json_headers(local_stack))  # a clock retrying
    assert [status for status, _ in receipts] == [202] * 5 and resent[0] == 202
    legacy_resent = post(local_stack, json.dumps(legacy[1]).encode(), json_headers(local_stack))
    assert legacy_resent[0] == 202
    request_ids = [receipt["request_id"] for _, receipt in receipts]
    # The identities: v1 punches carry punch_id; legacy ones take one derived from their content, so a
    # resend is the same punch. (A resent copy may be drained before the original: one row either way.)
    wait_for(
        lambda: (
            local_stack.sql("SELECT count(*) FROM punches WHERE employee_id LIKE 'e2e-%%' OR employee_id LIKE '900_'")[
                0
            ][0]
            == 5
            and local_stack.status().queue == 0
            and local_stack.status().in_flight == 0
        ),
        60,
        "the five punches",
    )
    rows = local_stack.sql(
        "SELECT punch_id, employee_id, format, request_id FROM punches"
        " WHERE employee_id LIKE 'e2e-%%' OR employee_id LIKE '900_'"
    )
    assert sorted(row[:3] for row in rows) == sorted(
        [(b["punch_id"], b["employee_id"], "v1") for b in v1]
        + [
            (content_id("legacy", str(9000 + i), _utc(b["ponto"])), str(9000 + i), "legacy")
            for i, b in enumerate(legacy)
        ]
    )
    assert {row[3] for row in rows if row[2] == "legacy"} <= {*request_ids[3:], legacy_resent[1]["request_id"]}


def _utc(legacy_time: str) -> str:
    """A legacy time (São Paulo, no offset) as the worker normalises it."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.fromisoformat(legacy_time).replace(tzinfo=ZoneInfo("America/Sao_Paulo")).astimezone(UTC).isoformat()


def test_malformed_and_unauthorised_requests_get_4xx_and_queue_nothing(local_stack: RunningStack) -> None:
    good = json.dumps(v1_body()).encode()
    key = local_stack.api_key
    with_key = {"Content-Type": "application/json", "x-api-key": key}
    invalid_bodies = [
        b"{",
        b"",
        b"\xff\xfe",
        b'{"mensagem": "Hello"}',
        b"[]",
        b"null",
        b'{"employee_id": "x\'; DROP TABLE punches;--", "punched_at": "2026-11-22T08:00:00Z"}',
        json.dumps(v1_body(punched_at="2026-11-22 08:00")).encode(),
        json.dumps({"usuarioId": "1", "ponto": "2026-11-22 08:00:00"}).encode(),
        json.dumps(v1_body(location={"lat": 100, "lon": 0})).encode(),
        b"{" * 10_000,
    ]
    corpus: list[tuple[bytes, dict[str, str], str]] = [
        (good, {"Content-Type": "application/json"}, "/punches"),
        (good, {"Content-Type": "application/json", "x-api-key": "wrong"}, "/punches"),
        (good, {"Content-Type": "application/json", "x-api-key": key.upper()}, "/punches"),
        (good, {"Content-Type": "text/plain", "x-api-key": key}, "/punches"),
        (good, {"x-api-key": key}, "/punches"),
        (good, with_key, "/schema"),
    ] + [(body, with_key, "/punches") for body in invalid_bodies]
    # Given a drained pipeline (the earlier tests' messages, duplicates included, all processed)
    wait_for(lambda: (s := local_stack.status()).queue == 0 and s.in_flight == 0, 60, "the queue to drain")
    before = local_stack.status()
    answers = [post(local_stack, body, headers, path) for body, headers, path in corpus]
    statuses = [status for status, _ in answers]
    assert all(400 <= status < 500 for status in statuses), statuses
    assert statuses[:6] == [403, 403, 403, 415, 415, 403]
    assert all(answer["message"] == "Invalid request body" and answer["detail"] for _, answer in answers[6:])
    after = local_stack.status()
    assert after.received == before.received
    assert after.queue == after.in_flight == after.dlq == 0


def test_health_status_and_punch_commands(local_stack: RunningStack) -> None:
    punched = local_stack.cli("punch", "--employee", "cli-1", "--kind", "out")
    assert punched.returncode == 0, punched.stderr
    receipt = json.loads(punched.stdout)
    assert receipt["status"] == 202 and receipt["response"]["status"] == "accepted"
    wait_for(lambda: bool(local_stack.sql("SELECT 1 FROM punches WHERE employee_id = 'cli-1'")), 60, "the CLI punch")
    status = json.loads(local_stack.cli("status", "--json").stdout)
    assert status["recorded"] >= 1 and status["dlq"] == 0 and status["last_lead_time_ms"] is not None
    assert {"gateway", "runner", "sqs", "postgres", "local"} <= set(local_stack.pids())
    # The demo employee 42 punches with the demo device's key (the stack's): recorded and sealed
    sealed = local_stack.cli("punch", "--employee", "42", "--wait", "30")
    assert sealed.returncode == 0, sealed.stderr
    seal = json.loads(sealed.stdout)["seal"]
    assert seal is not None and seal["nsr"] > 51 and len(seal["sha256"]) == 64  # after the demo's 51 records
    assert json.loads(local_stack.cli("verify", "--json").stdout)[0]["ok"] is True


def test_a_burst_is_drained(local_stack: RunningStack) -> None:
    result = post_punches(local_stack.url, local_stack.api_key, 1000, concurrency=20, employee_prefix="burst")
    assert result.statuses == {202: 1000}
    wait_for(
        lambda: local_stack.sql("SELECT count(*) FROM punches WHERE employee_id LIKE 'burst-%%'")[0][0] == 1000,
        120,
        "the burst to be recorded",
    )
    assert (
        local_stack.sql("SELECT count(DISTINCT request_id) FROM punches WHERE employee_id LIKE 'burst-%%'")[0][0]
        == 1000
    )


def test_the_gateway_speaks_http_1_1_with_limits(local_stack: RunningStack) -> None:
    headers = json_headers(local_stack)
    connection = http.client.HTTPConnection("127.0.0.1", local_stack.port, timeout=10)
    try:
        for _ in range(3):  # one keep-alive connection, several requests
            connection.request("POST", "/punches", body=json.dumps(v1_body()), headers=headers)
            response = connection.getresponse()
            assert response.status == 202 and response.getheader("Connection") == "keep-alive"
            assert json.loads(response.read())["request_id"] == response.getheader("x-amzn-RequestId")
        connection.request("GET", "/health")
        assert json.loads(connection.getresponse().read())["status"] == "ok"
    finally:
        connection.close()
    too_long = {**headers, "Content-Length": str(11 * 1024 * 1024)}
    status, body = post(local_stack, b"", too_long)
    assert status == 413 and body["message"]
    chunked = {**headers, "Transfer-Encoding": "chunked"}
    status, _ = post(local_stack, b"", chunked)
    assert status == 411
