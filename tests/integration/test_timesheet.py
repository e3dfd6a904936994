"""The timesheet on a real PostgreSQL: schedules, holidays, treatments, `ponto timesheet` and `ponto aej` over
punches sealed by the real worker handler."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg2
import psycopg2.errors
import pytest

from ponto.cli import main
from ponto.local.gateway import api_key_id
from ponto.record import afd, documents, signing
from ponto.timesheet import aej
from tests.events import LambdaContext, failed_ids, sqs_event, sqs_record, v1_body

pytestmark = pytest.mark.integration

CNPJ = documents.make_cnpj(11_222_333)
OTHER_CNPJ = documents.make_cnpj(44_555_666)
RESPONSIBLE = documents.make_cpf(7)
KEY = "kiosk-key-of-establishment-one"
OTHER_KEY = "kiosk-key-of-establishment-two"
SCHEDULE = "mon-fri 08:00-12:00 13:00-17:00"
MONDAY, TUESDAY = "2026-03-02", "2026-03-03"


def cli(url: str, *args: str) -> int:
    return main([*args, "--database-url", url])


def rows(db: Any, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with db.cursor() as cur:
        cur.execute(query, params)
        return list(cur.fetchall())


@pytest.fixture
def registered(db: Any, migrated: str) -> str:
    """CNPJ (state SP) with e1 (SCHEDULE), e2 (SCHEDULE) and e3 (no schedule) and a kiosk holding KEY;
    OTHER_CNPJ with e1 and OTHER_KEY."""
    for cnpj, key in ((CNPJ, KEY), (OTHER_CNPJ, OTHER_KEY)):
        assert cli(migrated, "employer", "add", "--cnpj", cnpj, "--name", "Padaria São João", "--workplace",
                   "Rua A, 1", "--state", "SP", "--responsible-cpf", RESPONSIBLE) == 0  # fmt: skip
        with db.cursor() as cur:
            cur.execute("SELECT establishment_id FROM establishments WHERE document = %s", (cnpj,))
            (establishment_id,) = cur.fetchone()
            cur.execute(
                "INSERT INTO devices (device_id, establishment_id, kind, name, api_key_id)"
                " VALUES (%s, %s, 'device', 'kiosk', %s)",
                (f"dev-{cnpj}", establishment_id, api_key_id(key)),
            )
    for n, schedule in ((1, SCHEDULE), (2, SCHEDULE), (3, None)):
        extra = ("--schedule", schedule) if schedule else ()
        assert cli(migrated, "employee", "add", "--employer", CNPJ, "--id", f"e{n}", "--cpf",
                   documents.make_cpf(100 + n), "--name", f"Empregado {n}", *extra,
                   "--responsible-cpf", RESPONSIBLE) == 0  # fmt: skip
    assert cli(migrated, "employee", "add", "--employer", OTHER_CNPJ, "--id", "e1", "--cpf", documents.make_cpf(200),
               "--name", "Outro", "--schedule", SCHEDULE, "--responsible-cpf", RESPONSIBLE) == 0  # fmt: skip
    return migrated


def punch(key: str, employee: str, at: str, kind: str) -> dict[str, Any]:
    return sqs_record(v1_body(employee_id=employee, punched_at=at, kind=kind), api_key_id=api_key_id(key))


def seal(worker: Callable[..., Any], *records: dict[str, Any]) -> list[str]:
    """Have the real worker record and seal the punches; their punch ids."""
    assert failed_ids(worker(sqs_event(list(records)), LambdaContext())) == set()
    return [json.loads(r["body"])["punch_id"] for r in records]


def day_punches(key: str, employee: str, day: str, *times_kinds: tuple[str, str]) -> list[dict[str, Any]]:
    return [punch(key, employee, f"{day}T{clock}-03:00", kind) for clock, kind in times_kinds]


FULL_DAY = (("08:00:00", "in"), ("12:00:00", "break_start"), ("13:00:00", "break_end"), ("17:00:00", "out"))


def timesheet_json(url: str, capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    capsys.readouterr()
    assert cli(url, "timesheet", "--employer", CNPJ, "--month", "2026-03", "--format", "json", *args) == 0
    return json.loads(capsys.readouterr().out)


def day_of(month: dict[str, Any], day: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [d for d in month["days"] if d["date"] == day]
    assert len(found) == 1
    return found[0]


def record_snapshot(db: Any) -> list[tuple[Any, ...]]:
    """Every punch row and every AFD record, as stored."""
    return rows(db, "SELECT p::text FROM punches p ORDER BY punch_id") + rows(
        db, "SELECT r::text FROM afd_records r ORDER BY establishment_id, nsr"
    )


def one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    return err


# --- schedules ------------------------------------------------------------------------------------


def test_schedules_through_add_update_and_import(
    registered: str, db: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def schedule_of(employee: str) -> str | None:
        ((text,),) = rows(
            db,
            "SELECT e.schedule FROM employees e JOIN establishments s USING (establishment_id)"
            " WHERE s.document = %s AND e.employee_id = %s",
            CNPJ,
            employee,
        )
        return text  # type: ignore[no-any-return]

    # Given a schedule written loosely, when an employee is added with it, then its canonical text is stored
    assert cli(registered, "employee", "add", "--employer", CNPJ, "--id", "s1", "--cpf", documents.make_cpf(500),
               "--name", "Sched", "--schedule", "MON-fri 8:00-12:00 13:00-17:00;sat 08:00-12:00",
               "--responsible-cpf", RESPONSIBLE) == 0  # fmt: skip
    assert schedule_of("s1") == "mon-fri 08:00-12:00 13:00-17:00; sat 08:00-12:00"
    # A schedule-only update writes no AFD record (the schedule is not in the type-5 record)
    before = rows(db, "SELECT count(*) FROM afd_records")
    capsys.readouterr()
    assert cli(registered, "employee", "update", "--employer", CNPJ, "--id", "s1", "--schedule",
               "sun-thu 22:00-02:00 03:00-05:00", "--responsible-cpf", RESPONSIBLE, "--json") == 0  # fmt: skip
    assert json.loads(capsys.readouterr().out)["schedule"] == "sun-thu 22:00-02:00 03:00-05:00"
    assert rows(db, "SELECT count(*) FROM afd_records") == before
    # A name change with it is a type-5 A record
    assert cli(registered, "employee", "update", "--employer", CNPJ, "--id", "s1", "--name", "Sched Dois",
               "--schedule", SCHEDULE, "--responsible-cpf", RESPONSIBLE) == 0  # fmt: skip
    assert rows(db, "SELECT count(*) FROM afd_records") == [(before[0][0] + 1,)]
    assert schedule_of("s1") == SCHEDULE
    assert cli(registered, "employee", "update", "--employer", CNPJ, "--id", "s1", "--no-schedule",
               "--responsible-cpf", RESPONSIBLE) == 0  # fmt: skip
    assert schedule_of("s1") is None

    # A malformed schedule: exit 2, one line naming the bad part, nothing written
    records_before, employees_before = (
        rows(db, "SELECT count(*) FROM afd_records"),
        rows(db, "SELECT count(*), string_agg(coalesce(schedule, '-'), ',' ORDER BY employee_id) FROM employees"),
    )
    for case, bad_part in (
        (("employee", "add", "--employer", CNPJ, "--id", "s2", "--cpf", documents.make_cpf(501), "--name", "X",
          "--schedule", "mon-fry 08:00-12:00"), '"mon-fry"'),
        (("employee", "update", "--employer", CNPJ, "--id", "e1", "--schedule", "mon-fri 08:00-25:00"), '"25:00"'),
        (("employee", "update", "--employer", CNPJ, "--id", "e1", "--schedule", "mon-fri 13:00-17:00 08:00-12:00"),
         '"08:00-12:00"'),
    ):  # fmt: skip
        capsys.readouterr()
        assert cli(registered, *case, "--responsible-cpf", RESPONSIBLE) == 2, case
        err = one_line_error(capsys)
        assert "schedule" in err and bad_part in err, err
    assert rows(db, "SELECT count(*) FROM afd_records") == records_before

    # Import: an optional schedule column; a bad schedule names its line and imports nothing
    good = tmp_path / "good.csv"
    good.write_text(
        "id,cpf,name,schedule\n"
        f'i1,{documents.make_cpf(601)},Um,"mon,wed,fri 08:00-12:00"\n'
        f"i2,{documents.make_cpf(602)},Dois,\n",
        encoding="utf-8",
    )
    bad = tmp_path / "bad.csv"
    bad.write_text(
        f"id,cpf,name,schedule\nb1,{documents.make_cpf(701)},Um,{SCHEDULE}\nb2,{documents.make_cpf(702)},Dois,"
        "mon-fri 08:00\n",
        encoding="utf-8",
    )
    capsys.readouterr()
    assert cli(registered, "employee", "import", "--employer", CNPJ, str(bad), "--responsible-cpf", RESPONSIBLE) == 2
    err = one_line_error(capsys)
    assert "line 3" in err and '"08:00"' in err
    assert (
        rows(db, "SELECT count(*), string_agg(coalesce(schedule, '-'), ',' ORDER BY employee_id) FROM employees")
        == employees_before
    )
    assert rows(db, "SELECT count(*) FROM afd_records") == records_before
    assert cli(registered, "employee", "import", "--employer", CNPJ, str(good), "--responsible-cpf", RESPONSIBLE) == 0
    assert schedule_of("i1") == "mon,wed,fri 08:00-12:00"
    assert schedule_of("i2") is None
    capsys.readouterr()
    assert cli(registered, "employee", "list", "--employer", CNPJ, "--json") == 0
    listed = {e["employee_id"]: e["schedule"] for e in json.loads(capsys.readouterr().out)}
    assert listed["i1"] == "mon,wed,fri 08:00-12:00" and listed["e3"] is None


# --- the establishment's place and its holidays ---------------------------------------------------


def test_employer_update_state_and_city_appends_a_type_2_record(
    registered: str, db: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    def type_2() -> int:
        ((count,),) = rows(
            db,
            "SELECT count(*) FROM afd_records r JOIN establishments s USING (establishment_id)"
            " WHERE s.document = %s AND r.record_type = 2",
            CNPJ,
        )
        return int(count)

    assert type_2() == 1
    capsys.readouterr()
    assert cli(registered, "employer", "update", "--cnpj", CNPJ, "--state", "rj", "--city", "Niterói",
               "--responsible-cpf", RESPONSIBLE, "--json") == 0  # fmt: skip
    shown = json.loads(capsys.readouterr().out)
    assert (shown["state"], shown["city"]) == ("RJ", "Niterói")
    assert type_2() == 2
    assert rows(db, "SELECT state, city FROM establishments WHERE document = %s", CNPJ) == [("RJ", "Niterói")]
    # A state the calendar does not know, a city without a state: one line, exit 2, nothing written
    for case in (("--state", "XX"), ("--state", "São Paulo")):
        capsys.readouterr()
        assert cli(registered, "employer", "update", "--employer", CNPJ, *case, "--responsible-cpf", RESPONSIBLE) == 2
        assert "--state" in one_line_error(capsys)
    capsys.readouterr()
    assert cli(registered, "employer", "add", "--cnpj", documents.make_cnpj(77), "--name", "N", "--workplace", "W",
               "--city", "Campinas", "--responsible-cpf", RESPONSIBLE) == 2  # fmt: skip
    assert "--state" in one_line_error(capsys)
    assert type_2() == 2
    assert main(["verify", "--database-url", registered]) == 0


def test_a_company_day_off_is_counted_by_the_timesheet(
    registered: str, db: Any, worker: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    # Given e1 working Wednesday 2026-03-04 08:00-12:00, when that day becomes a company day off
    seal(worker, *day_punches(KEY, "e1", "2026-03-04", ("08:00:00", "in"), ("12:00:00", "out")))
    ordinary = day_of(timesheet_json(registered, capsys, "--employee", "e1"), "2026-03-04")
    assert (ordinary["holiday"], ordinary["scheduled_minutes"], ordinary["undertime_minutes"]) == (None, 480, 240)
    assert cli(registered, "holiday", "add", "--employer", CNPJ, "2026-03-04", "Aniversário da empresa") == 0
    # Then the timesheet names it, schedules nothing and pays the work at 100 %
    day = day_of(timesheet_json(registered, capsys, "--employee", "e1"), "2026-03-04")
    assert day["holiday"] == "Aniversário da empresa"
    assert (day["scheduled_minutes"], day["worked_minutes"], day["overtime_100_minutes"]) == (0, 240, 240)
    assert day["undertime_minutes"] == 0
    # Twice is an error; the list shows it, and with --year the state's holidays too (SP: 9 July)
    capsys.readouterr()
    assert cli(registered, "holiday", "add", "--employer", CNPJ, "2026-03-04", "De novo") == 2
    one_line_error(capsys)
    assert cli(registered, "holiday", "list", "--employer", CNPJ, "--json") == 0
    assert json.loads(capsys.readouterr().out) == [
        {"date": "2026-03-04", "name": "Aniversário da empresa", "source": "company"}
    ]
    assert cli(registered, "holiday", "list", "--employer", CNPJ, "--year", "2026", "--json") == 0
    listed = {(h["date"], h["source"]) for h in json.loads(capsys.readouterr().out)}
    assert {("2026-03-04", "company"), ("2026-07-09", "law"), ("2026-12-25", "law")} <= listed
    assert cli(registered, "holiday", "remove", "--employer", CNPJ, "2026-03-04") == 0
    assert day_of(timesheet_json(registered, capsys, "--employee", "e1"), "2026-03-04")["holiday"] is None


# --- treatments -----------------------------------------------------------------------------------


def test_punch_add_includes_a_forgotten_punch_with_its_reason(
    registered: str, db: Any, worker: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    # Given Monday without its 17:00 exit
    seal(worker, *day_punches(KEY, "e1", MONDAY, *FULL_DAY[:3]))
    before = record_snapshot(db)
    monday = day_of(timesheet_json(registered, capsys, "--employee", "e1"), MONDAY)
    assert monday["flags"] == ["missing_punch"] and monday["worked_minutes"] == 240
    # When the manager includes it
    capsys.readouterr()
    assert cli(registered, "punch", "add", "--employer", CNPJ, "--employee", "e1", "--at", f"{MONDAY}T17:00",
               "--kind", "out", "--reason", "Esqueceu de registrar a saída", "--responsible-cpf", RESPONSIBLE,
               "--json") == 0  # fmt: skip
    included = json.loads(capsys.readouterr().out)
    assert included["at"] == f"{MONDAY}T17:00-03:00" and included["action"] == "include"
    # Then the day is whole, the included mark shown with its reason beside the originals
    monday = day_of(timesheet_json(registered, capsys, "--employee", "e1"), MONDAY)
    assert monday["flags"] == [] and monday["worked_minutes"] == 480
    assert monday["punches"] == ["08:00", "12:00", "13:00", "17:00"]
    assert [(m["time"], m["source"], m["reason"]) for m in monday["marks"]] == [
        ("08:00", "original", None),
        ("12:00", "original", None),
        ("13:00", "original", None),
        ("17:00", "included", "Esqueceu de registrar a saída"),
    ]
    assert monday["marks"][-1]["punch_id"] == included["punch_id"]
    # And the record is as it was: no punch row, no AFD record added or changed
    assert record_snapshot(db) == before
    ((who, why),) = rows(db, "SELECT responsible_cpf, reason FROM punch_treatments")
    assert (who, why) == (RESPONSIBLE, "Esqueceu de registrar a saída")


def test_punch_disregard_takes_a_punch_out_of_the_worked_minutes(
    registered: str, db: Any, worker: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    # Given Tuesday's journey and a stray pair 18:00-19:00 (an hour too many)
    *_, stray_in, stray_out = seal(
        worker, *day_punches(KEY, "e1", TUESDAY, *FULL_DAY, ("18:00:00", "in"), ("19:00:00", "out"))
    )
    assert day_of(timesheet_json(registered, capsys, "--employee", "e1"), TUESDAY)["worked_minutes"] == 540
    before = record_snapshot(db)
    # When the stray exit is disregarded, the open 18:00 is flagged; with the entry, the day is whole again
    assert cli(registered, "punch", "disregard", stray_out, "--employer", CNPJ, "--reason", "Marcação indevida",
               "--responsible-cpf", RESPONSIBLE) == 0  # fmt: skip
    tuesday = day_of(timesheet_json(registered, capsys, "--employee", "e1"), TUESDAY)
    assert (tuesday["worked_minutes"], tuesday["flags"]) == (480, ["missing_punch"])
    # Without --employer: the establishment that sealed the punch
    assert cli(registered, "punch", "disregard", stray_in, "--reason", "Marcação indevida",
               "--responsible-cpf", RESPONSIBLE) == 0  # fmt: skip
    tuesday = day_of(timesheet_json(registered, capsys, "--employee", "e1"), TUESDAY)
    assert (tuesday["worked_minutes"], tuesday["flags"], tuesday["overtime_50_minutes"]) == (480, [], 0)
    assert tuesday["punches"] == ["08:00", "12:00", "13:00", "17:00"]
    shown = [(m["time"], m["disregarded"], m["reason"]) for m in tuesday["marks"]]
    assert shown[-2:] == [("18:00", True, "Marcação indevida"), ("19:00", True, "Marcação indevida")]
    # The originals and their seals never change
    assert record_snapshot(db) == before
    assert main(["verify", "--database-url", registered]) == 0


def test_an_included_punch_can_be_disregarded(registered: str, db: Any, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert cli(registered, "punch", "add", "--employer", CNPJ, "--employee", "e2", "--at", f"{MONDAY}T08:00-03:00",
               "--kind", "in", "--reason", "Esquecimento", "--responsible-cpf", RESPONSIBLE, "--json") == 0  # fmt: skip
    punch_id = json.loads(capsys.readouterr().out)["punch_id"]
    assert cli(registered, "punch", "disregard", punch_id, "--employer", CNPJ, "--reason", "Incluída por engano",
               "--responsible-cpf", RESPONSIBLE) == 0  # fmt: skip
    (mark,) = day_of(timesheet_json(registered, capsys, "--employee", "e2"), MONDAY)["marks"]
    assert (mark["source"], mark["disregarded"]) == ("included", True)
    assert mark["reason"] == "inclusão: Esquecimento; desconsideração: Incluída por engano"


def test_treatments_are_append_only(registered: str, db: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(registered, "punch", "add", "--employer", CNPJ, "--employee", "e1", "--at", f"{MONDAY}T08:00",
               "--kind", "in", "--reason", "Esquecimento", "--responsible-cpf", RESPONSIBLE) == 0  # fmt: skip
    with db.cursor() as cur:
        for statement in (
            "UPDATE punch_treatments SET reason = 'outro'",
            "DELETE FROM punch_treatments",
            "TRUNCATE punch_treatments",
        ):
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute(statement)
    assert rows(db, "SELECT reason FROM punch_treatments") == [("Esquecimento",)]
    # The worker's role has nothing to do with treatments; the reader's may read them
    for role, statement in (
        ("ponto_worker", "SELECT count(*) FROM punch_treatments"),
        ("ponto_worker", "INSERT INTO holidays VALUES (1, '2026-01-02', 'x')"),
    ):
        conn = psycopg2.connect(registered.replace("postgres:@", f"{role}@"))
        conn.autocommit = True
        try:
            with conn.cursor() as cur, pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute(statement)
        finally:
            conn.close()
    reader = psycopg2.connect(registered.replace("postgres:@", "ponto_reader@"))
    try:
        with reader.cursor() as cur:
            cur.execute("SELECT count(*) FROM punch_treatments, holidays")
    finally:
        reader.close()


def test_treatment_errors_are_one_line_and_write_nothing(
    registered: str, db: Any, worker: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    (mine,) = seal(worker, punch(KEY, "e1", f"{MONDAY}T08:00:00-03:00", "in"))
    (theirs,) = seal(worker, punch(OTHER_KEY, "e1", f"{MONDAY}T08:00:00-03:00", "in"))
    (unsealed,) = seal(worker, punch(KEY, "nobody", f"{MONDAY}T08:00:00-03:00", "in"))
    assert cli(registered, "punch", "disregard", mine, "--reason", "Duplicada", "--responsible-cpf", RESPONSIBLE) == 0
    before = rows(db, "SELECT count(*) FROM punch_treatments")
    add = ("punch", "add", "--employer", CNPJ, "--employee", "e1", "--kind", "out")
    cases = [
        ((*add, "--at", f"{MONDAY}T17:00", "--reason", "   "), "--reason"),
        ((*add, "--at", f"{MONDAY}T17:00", "--reason", "x" * 151), "--reason"),
        ((*add, "--at", "2099-01-01T08:00", "--reason", "Futuro"), "--at"),
        ((*add, "--at", "ontem", "--reason", "Data"), "--at"),
        (("punch", "add", "--employer", CNPJ, "--employee", "ghost", "--kind", "in", "--at", f"{MONDAY}T08:00",
          "--reason", "Quem?"), "employee ghost"),
        (("punch", "disregard", theirs, "--employer", CNPJ, "--reason", "Outra"), "not a punch of this establishment"),
        (("punch", "disregard", mine, "--employer", CNPJ, "--reason", "De novo"), "already disregarded"),
        (("punch", "disregard", unsealed, "--reason", "Sem selo"), "not sealed"),
        (("punch", "disregard", "no-such-punch", "--reason", "Nada"), "no such punch"),
    ]  # fmt: skip
    for case, says in cases:
        capsys.readouterr()
        assert cli(registered, *case, "--responsible-cpf", RESPONSIBLE) == 2, case
        err = one_line_error(capsys)
        assert says in err, err
        assert documents.make_cpf(101) not in err
    # A reason is required by the command line itself
    with pytest.raises(SystemExit) as exited:
        cli(registered, *add, "--at", f"{MONDAY}T17:00", "--responsible-cpf", RESPONSIBLE)
    assert exited.value.code == 2
    assert rows(db, "SELECT count(*) FROM punch_treatments") == before


# --- the espelho ----------------------------------------------------------------------------------


@pytest.fixture
def month_of_punches(registered: str, worker: Callable[..., Any]) -> str:
    """e1's Monday 07:58:40 in, 12:03 break, 13:01 back, 17:09 out; e2 a full Tuesday; e3 nothing. All sealed."""
    seal(
        worker,
        *day_punches(KEY, "e1", MONDAY, ("07:58:40", "in"), ("12:03:00", "break_start"), ("13:01:59", "break_end"),
                     ("17:09:00", "out")),
        *day_punches(KEY, "e2", TUESDAY, *FULL_DAY),
        *day_punches(OTHER_KEY, "e1", MONDAY, *FULL_DAY),  # the other establishment's e1: not on this espelho
    )  # fmt: skip
    return registered


def test_the_timesheet_json_of_a_hand_computed_day(month_of_punches: str, capsys: pytest.CaptureFixture[str]) -> None:
    month = timesheet_json(month_of_punches, capsys, "--employee", "e1")
    assert (month["employee_id"], month["cpf"], month["name"]) == ("e1", documents.make_cpf(101), "Empregado 1")
    assert (month["month"], month["schedule"]) == ("2026-03", SCHEDULE)
    assert len(month["days"]) == 31
    monday = day_of(month, MONDAY)
    # Worked (12:03 - 07:58) + (17:09 - 13:01) = 245 + 248 = 493; the 17:09 exit is 9 minutes off (over 5): all
    # 13 minutes beyond the 480 scheduled are overtime at 50 %; the break, 12:03 to 13:01, is 58 minutes: short
    # for more than 6 hours of work (art. 71)
    assert {key: monday[key] for key in monday if key not in ("marks", "date")} == {
        "punches": ["07:58", "12:03", "13:01", "17:09"],
        "scheduled_minutes": 480,
        "worked_minutes": 493,
        "night_minutes": 0,
        "night_reduced_minutes": 0,
        "overtime_50_minutes": 13,
        "overtime_100_minutes": 0,
        "undertime_minutes": 0,
        "flags": ["short_break"],
        "holiday": None,
    }
    assert [(m["kind"], m["source"], m["disregarded"]) for m in monday["marks"]] == [
        ("in", "original", False),
        ("break_start", "original", False),
        ("break_end", "original", False),
        ("out", "original", False),
    ]
    # Tuesday (no punch): 480 minutes of undertime; 22 working days in March 2026, all but Monday missed
    assert day_of(month, TUESDAY)["undertime_minutes"] == 480
    assert month["totals"]["worked_minutes"] == 493
    assert month["totals"]["undertime_minutes"] == 21 * 480
    # The whole establishment: an array of its active employees, in id order
    everyone = timesheet_json(month_of_punches, capsys)
    assert [m["employee_id"] for m in everyone] == ["e1", "e2", "e3"]
    assert everyone[0] == month
    assert day_of(everyone[1], TUESDAY)["worked_minutes"] == 480
    assert day_of(everyone[2], TUESDAY)["scheduled_minutes"] == 0  # no schedule


def test_the_timesheet_csv_html_pdf_and_text(
    month_of_punches: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert cli(month_of_punches, "timesheet", "--employer", CNPJ, "--month", "2026-03", "--format", "csv",
               "--out", str(tmp_path)) == 0  # fmt: skip
    path = tmp_path / f"espelho_{CNPJ}_2026-03.csv"
    assert str(path) in capsys.readouterr().out
    raw = path.read_bytes()
    assert raw.count(b"\r\n") == 1 + 3 * 31
    table = list(csv.DictReader(io.StringIO(raw.decode("utf-8"), newline="")))
    (monday,) = [r for r in table if r["employee_id"] == "e1" and r["date"] == MONDAY]
    assert (monday["cpf"], monday["punches"]) == (documents.make_cpf(101), "07:58 12:03 13:01 17:09")
    assert (monday["worked_minutes"], monday["overtime_50_minutes"], monday["flags"]) == ("493", "13", "short_break")
    # To stdout as well
    capsys.readouterr()
    assert cli(month_of_punches, "timesheet", "--employer", CNPJ, "--employee", "e2", "--month", "2026-03",
               "--format", "csv") == 0  # fmt: skip
    assert capsys.readouterr().out.encode() == b"".join(
        line + b"\r\n" for line in raw.split(b"\r\n") if line.startswith((b'"employee_id"', b'"e2"'))
    )

    html = tmp_path / "espelho.html"
    assert cli(month_of_punches, "timesheet", "--employer", CNPJ, "--month", "2026-03", "--format", "html",
               "--out", str(html)) == 0  # fmt: skip
    page = html.read_text(encoding="utf-8")
    assert page.count('<section class="espelho">') == 3
    assert "Padaria São João" in page and "07:58" in page and SCHEDULE in page

    assert cli(month_of_punches, "timesheet", "--employer", CNPJ, "--month", "2026-03", "--format", "pdf",
               "--out", str(tmp_path)) == 0  # fmt: skip
    pdf = (tmp_path / f"espelho_{CNPJ}_2026-03.pdf").read_bytes()
    assert pdf.startswith(b"%PDF-") and b"%%EOF" in pdf[-32:]

    capsys.readouterr()
    assert cli(month_of_punches, "timesheet", "--employer", CNPJ, "--employee", "e1", "--month", "2026-03") == 0
    text = capsys.readouterr().out
    assert f"Horário contratual: {SCHEDULE}" in text and "07:58 12:03 13:01 17:09" in text


def test_timesheet_input_errors(month_of_punches: str, capsys: pytest.CaptureFixture[str]) -> None:
    for case, says in (
        (("--month", "2026-13"), "--month"),
        (("--month", "2026-03", "--employee", "ghost"), "employee ghost"),
        (("--month", "2026-03", "--json", "--format", "csv"), "--json"),
    ):
        capsys.readouterr()
        assert cli(month_of_punches, "timesheet", "--employer", CNPJ, *case) == 2
        assert says in one_line_error(capsys)


# --- the AEJ --------------------------------------------------------------------------------------


def test_the_aej_with_treatments_reads_back_and_its_signature_verifies(
    month_of_punches: str, db: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    # Given e1's Monday (4 originals), e2's Tuesday with its 12:00 disregarded and a 12:01 included instead
    (e2_noon,) = [
        p for (p,) in rows(db, "SELECT punch_id FROM punches WHERE employee_id = 'e2' AND kind = 'break_start'")
    ]
    assert cli(month_of_punches, "punch", "disregard", e2_noon, "--employer", CNPJ, "--reason", "Relógio adiantado",
               "--responsible-cpf", RESPONSIBLE) == 0  # fmt: skip
    assert cli(month_of_punches, "punch", "add", "--employer", CNPJ, "--employee", "e2", "--at", f"{TUESDAY}T12:01",
               "--kind", "break_start", "--reason", "Horário correto",
               "--responsible-cpf", RESPONSIBLE) == 0  # fmt: skip
    identity = signing.self_signed_identity("Ponto test")
    certificate, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    signing.write_identity(identity, certificate, key)
    for name, value in {
        "PONTO_REP_INPI": "12345678901234567",
        "PONTO_DEVELOPER_CNPJ": documents.make_cnpj(99),
        "PONTO_DEVELOPER_NAME": "Ponto Software Livre",
        "PONTO_DEVELOPER_EMAIL": "dev@example.org",
    }.items():
        monkeypatch.setenv(name, value)
    out = tmp_path / "aej"
    out.mkdir()
    capsys.readouterr()
    # When the AEJ of March is written, signed
    assert cli(month_of_punches, "aej", "--employer", CNPJ, "--from", "2026-03-01", "--to", "2026-03-31", "--out",
               str(out), "--certificate", str(certificate), "--key", str(key), "--data-dir", str(tmp_path),
               "--json") == 0  # fmt: skip
    summary = json.loads(capsys.readouterr().out)
    path = out / f"AEJ_{CNPJ}_20260301_20260331.txt"
    assert summary["file"] == str(path)
    assert summary["marks"] == {"total": 9, "original": 8, "included": 1, "disregarded": 1}
    # Then it is ISO-8859-1 with CRLF, and reads back record by record
    raw = path.read_bytes()
    assert raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b"")
    assert "Padaria São João".encode("iso-8859-1") in raw
    lines = raw.decode("iso-8859-1").split("\r\n")[:-1]
    assert lines[-1] == afd.SIGNATURE_LINE
    records = [aej.read_record(line) for line in lines[:-1]]
    types = [t for t, _ in records]
    assert types == sorted(types, key=aej.RECORD_TYPES.index)
    by_type: dict[str, list[dict[str, str]]] = {}
    for record_type, fields in records:
        by_type.setdefault(record_type, []).append(fields)
    ((_, trailer),) = [r for r in records if r[0] == "99"]
    assert [int(trailer[f"qtRegistrosTipo{n:02d}"]) for n in range(1, 9)] == [
        len(by_type.get(f"{n:02d}", [])) for n in range(1, 9)
    ]
    assert by_type["01"][0]["idtEmpregador"] == CNPJ
    assert by_type["02"] == [{"tipoReg": "02", "idRepAej": "1", "tpRep": "3", "nrRep": "12345678901234567"}]
    assert [e["cpf"] for e in by_type["03"]] == [documents.make_cpf(n) for n in (101, 102, 103)]
    assert [(s["codHorContratual"], s["durJornada"]) for s in by_type["04"]] == [("0800-1200 1300-1700", "480")]
    assert by_type["08"][0]["nomeProg"] == "Ponto"
    marks = [(m["idtVinculoAej"], m["dataHoraMarc"], m["tpMarc"], m["seqEntSaida"], m["fonteMarc"],
              m["codHorContratual"], m["motivo"]) for m in by_type["05"]]  # fmt: skip
    assert marks == [
        ("1", "2026-03-02T07:58:00-0300", "E", "001", "O", "0800-1200 1300-1700", ""),
        ("1", "2026-03-02T12:03:00-0300", "S", "001", "O", "", ""),
        ("1", "2026-03-02T13:01:00-0300", "E", "002", "O", "", ""),
        ("1", "2026-03-02T17:09:00-0300", "S", "002", "O", "", ""),
        ("2", "2026-03-03T08:00:00-0300", "E", "001", "O", "0800-1200 1300-1700", ""),
        ("2", "2026-03-03T12:00:00-0300", "D", "001", "O", "", "Relógio adiantado"),
        ("2", "2026-03-03T12:01:00-0300", "S", "001", "I", "", "Horário correto"),
        ("2", "2026-03-03T13:00:00-0300", "E", "002", "O", "", ""),
        ("2", "2026-03-03T17:00:00-0300", "S", "002", "O", "", ""),
    ]
    assert all(m["idRepAej"] == ("1" if m["fonteMarc"] == "O" else "") for m in by_type["05"])
    # And the detached signature verifies
    assert summary["signature"] == str(path) + ".p7s"
    assert signing.verify_file(path).signer.endswith("CN=Ponto test")


def test_the_aej_refuses_marks_without_a_schedule(
    registered: str, worker: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    seal(worker, *day_punches(KEY, "e3", MONDAY, *FULL_DAY))
    for name, value in {
        "PONTO_REP_INPI": "12345678901234567",
        "PONTO_DEVELOPER_CNPJ": documents.make_cnpj(99),
        "PONTO_DEVELOPER_NAME": "Ponto",
        "PONTO_DEVELOPER_EMAIL": "dev@example.org",
    }.items():
        monkeypatch.setenv(name, value)
    capsys.readouterr()
    assert cli(registered, "aej", "--employer", CNPJ, "--from", "2026-03-01", "--to", "2026-03-31", "--out",
               str(tmp_path), "--data-dir", str(tmp_path)) == 2  # fmt: skip
    assert "e3" in one_line_error(capsys)
    assert list(tmp_path.glob("AEJ*")) == []


# --- the bench ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_bench_timesheet_reports_its_figures(capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["bench", "timesheet", "--employees", "20", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["employees"] == 20 and figures["punches"] > 20 * 80
    assert set(figures["targets"]) == {"compute_seconds", "timesheet_csv_seconds"}
    assert all(isinstance(figures["targets_met"][name], bool) for name in figures["targets"])
    assert figures["csv_rows"] == 20 * 31
    assert figures["peak_rss_mb"]["timesheet_csv"] > 0
