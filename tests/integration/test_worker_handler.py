"""The worker handler named in serverless.yml, end to end on a real PostgreSQL."""

from __future__ import annotations

import json
import random
import sys
import uuid
from collections.abc import Callable
from datetime import UTC
from typing import Any

import pytest

from ponto.punch import parse_record
from tests.events import LambdaContext, failed_ids, legacy_body, sqs_event, sqs_record, v1_body
from tests.integration.conftest import import_handler

pytestmark = pytest.mark.integration

Handler = Callable[..., dict[str, Any]]


def rows(db: Any, sql: str = "SELECT count(*) FROM punches", *params: Any) -> Any:
    with db.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def count(db: Any) -> int:
    return int(rows(db)[0][0])


def test_a_mixed_batch_of_1000_delivered_twice_records_each_punch_once(worker: Handler, db: Any) -> None:
    # Given 1,000 records: v1 punches (some resent by the clock), legacy punches, invalid JSON
    # and schema violations, shuffled
    rng = random.Random(7)
    valid_v1 = [sqs_record(v1_body(employee_id=f"emp-{i % 50}")) for i in range(600)]
    resent = [sqs_record(json.loads(rng.choice(valid_v1)["body"])) for _ in range(100)]
    legacy = [sqs_record(legacy_body(usuario_id=i, ponto=f"2026-11-22 08:{i % 60:02d}:00")) for i in range(200)]
    invalid_json = [sqs_record('{"employee_id": "e", "punched_at": ') for _ in range(50)]
    violations = [sqs_record(v1_body(kind="almoço")) for _ in range(25)] + [
        sqs_record({"mensagem": "Hello"}) for _ in range(25)
    ]
    records = valid_v1 + resent + legacy + invalid_json + violations
    rng.shuffle(records)
    assert len(records) == 1000
    invalid_ids = {r["messageId"] for r in invalid_json + violations}

    # When the batch is delivered, then redelivered (SQS is at least once)
    first = worker(sqs_event(records), LambdaContext())
    second = worker(sqs_event(records), LambdaContext())

    # Then each distinct valid punch is one row, and exactly the invalid records failed, both times
    assert count(db) == 600 + 200
    assert failed_ids(first) == failed_ids(second) == invalid_ids
    assert rows(db, "SELECT count(*) FROM punches WHERE format = 'legacy'")[0][0] == 200


def test_rows_hold_the_normalised_punch_and_the_raw_body(worker: Handler, db: Any) -> None:
    body = v1_body(punched_at="2026-11-22T08:00:03.25-03:00")
    record = sqs_record(body, request_id="req-9", received_at_ms=1_795_000_000_000, source_ip="192.0.2.1")
    assert worker(sqs_event([record]), LambdaContext()) == {"batchItemFailures": []}
    (row,) = rows(
        db,
        "SELECT punch_id, employee_id, punched_at AT TIME ZONE 'UTC', kind, device_id, location, format,"
        " request_id, message_id, source_ip, api_key_id, extract(epoch FROM received_at), raw,"
        " recorded_at > received_at FROM punches",
    )
    assert row[0] == body["punch_id"] and row[1] == "emp-0001"
    assert row[2].isoformat() == "2026-11-22T11:00:03.250000"
    assert row[3:7] == ("in", "kiosk-lobby-1", body["location"], "v1")
    assert row[7:11] == ("req-9", record["messageId"], "192.0.2.1", "local-key")
    assert float(row[11]) == 1_795_000_000.0
    assert row[12] == body
    assert row[13] is True


def test_body_fields_are_stored_as_the_clock_sent_them(worker: Handler, db: Any) -> None:
    # kind, device_id and location come from raw: a number keeps its digits (12.50, not 12.5)
    text = (
        '{"employee_id": "emp-7", "punched_at": "2026-11-22T08:00:00Z", "kind": "break_end",'
        ' "device_id": "kiosk-2", "location": {"lat": -23.50, "lon": -46.630, "accuracy_m": 12.50}}'
    )
    assert worker(sqs_event([sqs_record(text)]), LambdaContext()) == {"batchItemFailures": []}
    assert rows(db, "SELECT kind, device_id, location::text FROM punches") == [
        ("break_end", "kiosk-2", '{"lat": -23.50, "lon": -46.630, "accuracy_m": 12.50}')
    ]


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-22T08:00:03.123456-03:00",  # written as sent
        "2026-11-22T11:00:03Z",
        "1960-01-01T00:00:00+14:00",  # the contract's first and last years, at its extreme offsets
        "9998-12-31T23:59:60-12:00",
        "2026-11-22T11:00:03.1234567Z",  # written as datetime read it (PostgreSQL would round)
        "2026-12-31T23:59:60-03:00",
    ],
)
def test_the_database_holds_the_instant_the_worker_parsed(worker: Handler, db: Any, text: str) -> None:
    record = sqs_record(v1_body(punched_at=text))
    assert worker(sqs_event([record]), LambdaContext()) == {"batchItemFailures": []}
    (stored,) = rows(db, "SELECT punched_at FROM punches")[0]
    assert stored == parse_record(record, UTC).punched_at


def test_a_legacy_record_is_read_in_the_configured_time_zone(worker: Handler, db: Any) -> None:
    worker(sqs_event([sqs_record(legacy_body(7, "2026-11-22 08:00:00"), request_id="r-7")]), LambdaContext())
    assert rows(db, "SELECT employee_id, request_id FROM punches") == [("7", "r-7")]
    assert rows(db, "SELECT extract(hour FROM punched_at AT TIME ZONE 'UTC') FROM punches")[0][0] == 11


def test_sql_looking_strings_are_stored_as_data(worker: Handler, db: Any) -> None:
    nasty = "x'); DROP TABLE punches; --"
    record = sqs_record(v1_body(punch_id=None), request_id=nasty, source_ip="1' OR '1'='1", api_key_id='";\\N')
    poison = sqs_record({"employee_id": nasty, "punched_at": "2026-11-22T08:00:00Z"})
    response = worker(sqs_event([record, poison]), LambdaContext())
    assert failed_ids(response) == {poison["messageId"]}
    assert rows(db, "SELECT request_id, source_ip, api_key_id FROM punches") == [(nasty, "1' OR '1'='1", '";\\N')]


def test_a_dropped_connection_is_replaced(worker: Handler, db: Any) -> None:
    worker(sqs_event([sqs_record(v1_body())]), LambdaContext())
    # The database drops the worker's connection while the execution environment is frozen
    assert rows(db, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name = 'ponto-worker'")[0][0] == 1  # fmt: skip
    response = worker(sqs_event([sqs_record(v1_body())]), LambdaContext())
    assert response == {"batchItemFailures": []}
    assert count(db) == 2


def test_an_unreachable_database_fails_every_record(
    worker_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, db: Any, tmp_path: Any
) -> None:
    env = {
        **worker_env,
        "PONTO_DATABASE_URL": f"postgresql://postgres@/postgres?host={tmp_path}&connect_timeout=2",
    }
    handler = import_handler("worker", env, monkeypatch)
    records = [sqs_record(v1_body()), sqs_record(legacy_body()), sqs_record("nope")]
    response = handler(sqs_event(records), LambdaContext())
    assert failed_ids(response) == {r["messageId"] for r in records}
    assert count(db) == 0


def test_the_worker_emits_its_metrics(worker: Handler, db: Any, capsys: pytest.CaptureFixture[str]) -> None:
    body = v1_body()
    worker(sqs_event([sqs_record(body), sqs_record(body), sqs_record("{")]), LambdaContext())
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert len(emf) == 1
    metric = emf[0]
    assert metric["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "PontoTest"
    values = {name: metric[name] for name in ("BatchSize", "PunchesRecorded", "PunchesDuplicate", "PunchesRejected")}
    assert values == {
        "BatchSize": [3.0],
        "PunchesRecorded": [1.0],
        "PunchesDuplicate": [1.0],
        "PunchesRejected": [1.0],
    }
    assert metric["LeadTime"][0] >= 0 and "PunchAge" in metric


def test_the_connection_is_reused_across_invocations(worker: Handler, db: Any) -> None:
    store = sys.modules[worker.__module__].store
    worker(sqs_event([sqs_record(v1_body())]), LambdaContext())
    first = store._conn
    worker(sqs_event([sqs_record(v1_body())]), LambdaContext())
    assert store._conn is first and first is not None and not first.closed
    assert str(uuid.UUID(rows(db, "SELECT punch_id FROM punches LIMIT 1")[0][0]))


def test_a_resent_body_without_punch_id_is_recorded_once(worker: Handler, db: Any) -> None:
    # A clock without punch ids sends a punch, gets no answer and sends the same body again: two
    # requests (two request ids, two messages), one punch
    v1, legacy = v1_body(punch_id=None), legacy_body(9, "2026-11-22 08:00:00")
    first = [sqs_record(v1, request_id="first-v1"), sqs_record(legacy, request_id="first-legacy")]
    worker(sqs_event(first), LambdaContext())
    resent = [sqs_record(v1, request_id="again-v1"), sqs_record(legacy, request_id="again-legacy")]
    assert worker(sqs_event(resent), LambdaContext()) == {"batchItemFailures": []}
    assert count(db) == 2
    assert sorted(r[0] for r in rows(db, "SELECT request_id FROM punches")) == ["first-legacy", "first-v1"]
