"""A 202 means "this will be recorded" (issue 11): every body the contract accepts is recorded.

Bodies are generated from the contract's own schema (hypothesis-jsonschema, both branches of the
Punch oneOf, patterns respected as the gateway applies them), queued as SQS records and pushed through
the real worker handler into the real PostgreSQL. None may be reported as a batch item failure (the
DLQ): each is a row, with its time, or, when its time names no instant (29 February of a common year,
which no pattern of the contract excludes), without one and with the reason. Half the punches come from
a registered employee on a registered device: those with a time are sealed, and the chain verifies.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from ponto.cli import main
from ponto.contract import load_contract
from ponto.local import status
from ponto.local.gateway import api_key_id
from ponto.punch import parse_record
from ponto.record import documents
from tests.events import LambdaContext, failed_ids, legacy_body, sqs_event, sqs_record, v1_body

pytestmark = pytest.mark.integration

CONTRACT = load_contract()
BRANCHES = dict(zip(("v1", "legacy"), CONTRACT.punch_schema["oneOf"], strict=True))
ZONE = ZoneInfo("America/Sao_Paulo")  # the worker fixture's PONTO_TIMEZONE
CNPJ = documents.make_cnpj(77_888_999)
RESPONSIBLE = documents.make_cpf(7)
KEY = "kiosk-key-of-the-recordable-tests"
V1_EMPLOYEE, LEGACY_EMPLOYEE = "e1", 42  # registered: their punches are sealed when they have a time

Batch = list[tuple[dict[str, Any], bool]]


def cli(url: str, *args: str) -> None:
    assert main([*args, "--database-url", url]) == 0


@pytest.fixture
def registered(db: Any, migrated: str) -> str:
    """An establishment, a device holding KEY, and the employees e1 and 42."""
    cli(migrated, "employer", "add", "--cnpj", CNPJ, "--name", "Padaria", "--workplace", "Rua A, 1",
        "--responsible-cpf", RESPONSIBLE)  # fmt: skip
    with db.cursor() as cur:
        cur.execute(
            "INSERT INTO devices (device_id, establishment_id, kind, name, api_key_id)"
            " SELECT 'kiosk', establishment_id, 'device', 'kiosk', %s FROM establishments WHERE document = %s",
            (api_key_id(KEY), CNPJ),
        )
    for n, employee in enumerate((V1_EMPLOYEE, str(LEGACY_EMPLOYEE)), start=1):
        cli(migrated, "employee", "add", "--employer", CNPJ, "--id", employee, "--cpf", documents.make_cpf(100 + n),
            "--name", f"Empregado {n}", "--responsible-cpf", RESPONSIBLE)  # fmt: skip
    return migrated


def rows(db: Any, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with db.cursor() as cur:
        cur.execute(query, params)
        return list(cur.fetchall())


def as_queued(body: dict[str, Any], registered_employee: bool) -> dict[str, Any]:
    """The body as a clock of the establishment sends it: a fresh punch_id (the generator repeats its
    simplest ids; a repeated id is a duplicate, recorded once, which other tests cover)."""
    if "punch_id" in body:
        fresh = str(uuid.uuid4())
        body["punch_id"] = fresh.upper() if body["punch_id"] != body["punch_id"].lower() else fresh
    if registered_employee:
        body["usuarioId" if "usuarioId" in body else "employee_id"] = (
            LEGACY_EMPLOYEE if "usuarioId" in body else V1_EMPLOYEE
        )
    CONTRACT.validate_punch(body)  # what the generator made is what the gateway accepts
    return sqs_record(body, api_key_id=api_key_id(KEY))


def check_recorded(db: Any, worker: Callable[..., Any], batch: Batch, seen: set[str]) -> None:
    records = [as_queued(body, registered_employee) for body, registered_employee in batch]
    assert failed_ids(worker(sqs_event(records), LambdaContext())) == set()
    for record in records:
        punch = parse_record(record, ZONE)
        found = rows(
            db,
            "SELECT punched_at, punched_at_problem, raw::text,"
            " EXISTS (SELECT 1 FROM afd_records r WHERE r.punch_id = p.punch_id) FROM punches p WHERE punch_id = %s",
            punch.punch_id,
        )
        assert len(found) == 1, record["body"]
        if punch.punch_id in seen:  # a legacy body whose usuarioId and time came before: a resend
            continue
        seen.add(punch.punch_id)
        punched_at, problem, _, sealed = found[0]
        assert (punched_at, problem) == (punch.punched_at, punch.punched_at_problem), record["body"]
        registered_employee = punch.employee_id in (V1_EMPLOYEE, str(LEGACY_EMPLOYEE))
        assert sealed is (registered_employee and punch.punched_at is not None), record["body"]


@pytest.mark.parametrize("branch", BRANCHES)
def test_every_body_the_contract_accepts_is_recorded(
    branch: str, registered: str, db: Any, worker: Callable[..., Any]
) -> None:
    seen: set[str] = set()
    common_year = "2027-02-29T23:59:60.123456789-12:00"  # no instant; the slow reading of the text

    @settings(
        max_examples=100, derandomize=True, deadline=None, database=None, print_blob=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    )  # fmt: skip
    @given(batch=st.lists(st.tuples(from_schema(BRANCHES[branch]), st.booleans()), min_size=1, max_size=8))
    @example(batch=[(v1_body(punched_at=common_year), True), (legacy_body(ponto="2100-02-29 08:00:00"), True)])
    @example(
        batch=[
            (v1_body(punched_at="9998-12-31T23:59:60-12:00"), True),
            (legacy_body(ponto="1960-01-01T00:00:00+14:00"), True),
        ]
    )
    def check(batch: Batch) -> None:
        check_recorded(db, worker, batch, seen)

    check()
    assert len(seen) >= 100  # the examples ran, each recording at least one new punch
    # The seals of every odd time (years 1960-9998, offsets -12:00..+14:00, leap seconds) verify.
    assert main(["verify", "--database-url", registered]) == 0


def test_a_punch_on_29_february_of_a_common_year_is_recorded_with_the_reason_and_never_sealed(
    registered: str, db: Any, worker: Callable[..., Any]
) -> None:
    body = v1_body(employee_id=V1_EMPLOYEE, punched_at="2027-02-29T08:00:00-03:00")
    legacy = legacy_body(LEGACY_EMPLOYEE, "2027-02-29 08:00:00")
    timed = v1_body(employee_id=V1_EMPLOYEE)
    records = [sqs_record(b, api_key_id=api_key_id(KEY)) for b in (body, legacy, timed)]
    # Recorded, not failed (no DLQ), in the same batch as a punch that is sealed
    assert failed_ids(worker(sqs_event(records), LambdaContext())) == set()
    assert rows(
        db,
        "SELECT raw ->> 'punched_at', punched_at, punched_at_problem FROM punches WHERE format = 'v1'"
        " AND punched_at IS NULL",
    ) == [
        (
            "2027-02-29T08:00:00-03:00",
            None,
            "'2027-02-29T08:00:00-03:00' is not a valid date-time (day is out of range for month)",
        )
    ]
    without_time = "SELECT count(*) FROM punches WHERE punched_at IS NULL AND punched_at_problem IS NOT NULL"
    assert rows(db, without_time) == [(2,)]
    assert rows(db, "SELECT punch_id FROM afd_records WHERE record_type = 7") == [(timed["punch_id"],)]
    # `ponto status` counts them as unsealed; `ponto seal` leaves them so, and the record verifies
    assert status._database_counts(registered)[2] == 2
    assert main(["seal", "--database-url", registered]) == 0
    assert rows(db, "SELECT count(*) FROM afd_records WHERE record_type = 7") == [(1,)]
    assert main(["verify", "--database-url", registered]) == 0
    # A redelivery is a duplicate, not a second row
    assert failed_ids(worker(sqs_event(records), LambdaContext())) == set()
    assert rows(db, "SELECT count(*) FROM punches") == [(3,)]


def test_the_database_refuses_a_punch_with_neither_a_time_nor_a_reason(registered: str, db: Any) -> None:
    import psycopg2.errors

    with pytest.raises(psycopg2.errors.CheckViolation):
        rows(
            db,
            "INSERT INTO punches (punch_id, employee_id, format, message_id, raw) VALUES ('x', 'e', 'v1', 'm', '{}')",
        )
