"""The espelho of an establishment (`ponto.timesheet.espelho`) and the AEJ's marks and schedules
(`ponto.timesheet.aej_marks`): employees' months in order, the CSV's light documents, tpMarc/seqEntSaida of
treated marks, record 04 per daily journey."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ponto.timesheet import aej, render
from ponto.timesheet.aej_marks import ScheduleCodes, TreatedMark, aej_file_lines, treated_marks
from ponto.timesheet.calendar import HolidayCalendar
from ponto.timesheet.compute import Mark
from ponto.timesheet.espelho import (
    SheetPerson,
    csv_document,
    employee_months,
    fetch_window,
    month_bounds,
    month_document,
)
from ponto.timesheet.schedule import parse_schedule

ZONE = ZoneInfo("America/Sao_Paulo")
CALENDAR = HolidayCalendar("SP", None, {date(2026, 3, 4): "Aniversário da empresa"})
SCHEDULE = "mon-fri 08:00-12:00 13:00-17:00"
ANA = SheetPerson("ana", "11144477735", "Ana", SCHEDULE)
BIA = SheetPerson("bia", "52998224725", "Bia", None)
CAIO = SheetPerson("caio", "39053344705", "Caio", SCHEDULE, active=False)


def at(day: str, clock: str) -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=ZONE)


def marks(prefix: str, day: str, *clocks_kinds: str, **treated: tuple[bool, str | None, str]) -> list[Mark]:
    """Marks of `day` from "HH:MM/kind" items; `treated` maps an item's index (as "m<i>") to (disregarded,
    reason, source)."""
    found = []
    for index, item in enumerate(clocks_kinds):
        clock, _, kind = item.partition("/")
        disregarded, reason, source = treated.get(f"m{index}", (False, None, "original"))
        found.append(Mark(f"{prefix}{index}", at(day, clock), kind or None, source, disregarded, reason))  # type: ignore[arg-type]
    return found


def test_month_bounds_and_the_fetch_window() -> None:
    assert month_bounds((2026, 2)) == (date(2026, 2, 1), date(2026, 2, 28))
    assert month_bounds((2026, 12)) == (date(2026, 12, 1), date(2026, 12, 31))
    start, end = fetch_window(date(2026, 3, 1), date(2026, 3, 31), ZONE)
    assert start == datetime(2026, 2, 27, tzinfo=ZONE) and end == datetime(2026, 4, 3, tzinfo=ZONE)


def test_employee_months_follow_the_people_and_skip_removed_employees_without_marks() -> None:
    ana = marks("a", "2026-03-02", "08:00/in", "12:00/out")
    result = list(employee_months([ANA, BIA, CAIO], [("ana", ana)], (2026, 3), ZONE, CALENDAR))
    assert [person.employee_id for person, _ in result] == ["ana", "bia"]
    assert result[0][1].days[1].worked_minutes == 240
    assert result[1][1].days[1].worked_minutes == 0
    # A removed employee with marks in the month is on it; `everyone` keeps them without
    caio = marks("c", "2026-03-03", "08:00/in")
    assert [p.employee_id for p, _ in employee_months([CAIO], [("caio", caio)], (2026, 3), ZONE, CALENDAR)] == ["caio"]
    assert [p.employee_id for p, _ in employee_months([CAIO], [], (2026, 3), ZONE, CALENDAR, everyone=True)] == ["caio"]
    # Marks out of the people's order are an error, not silently dropped
    with pytest.raises(ValueError, match="out of the employees' order"):
        list(employee_months([ANA, BIA], [("bia", []), ("ana", ana)], (2026, 3), ZONE, CALENDAR))


def test_the_month_document_has_the_schedule_and_each_days_holiday() -> None:
    ((person, result),) = employee_months([ANA], [], (2026, 3), ZONE, CALENDAR)
    document = month_document(person, result)
    assert list(document) == ["employee_id", "cpf", "name", "month", "schedule", "days", "totals"]
    assert document["schedule"] == SCHEDULE
    holidays = {day["date"]: day["holiday"] for day in document["days"] if day["holiday"]}
    assert holidays == {"2026-03-04": "Aniversário da empresa"}


def test_the_csv_of_light_documents_is_the_csv_of_full_ones() -> None:
    given = marks(
        "a", "2026-03-02", "08:00/in", "08:01/in", "12:00/out", "13:00/in", "17:00/out",
        m1=(True, "Duplicada", "original"), m4=(False, "Esqueceu", "included"),
    )  # fmt: skip
    months = list(employee_months([ANA, BIA], [("ana", given)], (2026, 3), ZONE, CALENDAR))
    full, light = io.StringIO(newline=""), io.StringIO(newline="")
    assert render.render_csv([month_document(p, r) for p, r in months], full) == 62
    assert render.render_csv((csv_document(p, r) for p, r in months), light) == 62
    assert light.getvalue() == full.getvalue()
    assert '"2026-03-02","08:00 12:00 13:00 17:00","17:00","08:01",480,480' in full.getvalue()


# --- the AEJ's marks ------------------------------------------------------------------------------


def tp_seq(treated: list[TreatedMark]) -> list[tuple[str, str, int]]:
    return [(t.mark.at.astimezone(ZONE).strftime("%H:%M"), t.tp_marc, t.seq) for t in treated]


def test_treated_marks_pair_as_the_espelho_and_number_the_pairs() -> None:
    day = marks(
        "a", "2026-03-02", "08:00/in", "12:00/break_start", "12:05/break_start", "13:00/break_end", "17:00/out",
        m2=(True, "Duplicada", "original"),
    )  # fmt: skip
    assert tp_seq(treated_marks(list(reversed(day)), ZONE)) == [
        ("08:00", "E", 1),
        ("12:00", "S", 1),
        ("12:05", "D", 1),
        ("13:00", "E", 2),
        ("17:00", "S", 2),
    ]
    # Without kinds the marks alternate; an exit without its entry is S; a lone disregarded mark is D 1
    loose = marks("b", "2026-03-03", "08:00", "12:00", "13:00")
    assert tp_seq(treated_marks(loose, ZONE)) == [("08:00", "E", 1), ("12:00", "S", 1), ("13:00", "E", 2)]
    lone = marks("c", "2026-03-04", "07:00/out", "20:00/in", m1=(True, "Engano", "original"))
    assert tp_seq(treated_marks(lone, ZONE)) == [("07:00", "S", 1), ("20:00", "D", 1)]


def test_a_night_journey_belongs_to_the_day_it_starts() -> None:
    night = marks("n", "2026-03-02", "22:00/in") + marks("m", "2026-03-03", "05:00/out")
    first, last = treated_marks(night, ZONE)
    assert (first.tp_marc, first.journey_day, last.tp_marc, last.journey_day) == (
        "E",
        date(2026, 3, 2),
        "S",
        date(2026, 3, 2),
    )
    assert last.local_day == date(2026, 3, 3)


def test_schedule_codes_are_daily_journeys_with_reduced_night_minutes() -> None:
    codes = ScheduleCodes()
    weekday_codes, default = codes.weekday_codes(parse_schedule("mon-fri 08:00-12:00 13:00-17:00; sat 08:00-12:00"))
    assert weekday_codes == ("0800-1200 1300-1700",) * 5 + ("0800-1200", None)
    assert default == "0800-1200 1300-1700"
    night_codes, _ = codes.weekday_codes(parse_schedule("sun-thu 22:00-05:00"))
    many, _ = codes.weekday_codes(parse_schedule("mon 06:00-07:00 07:10-08:00 08:10-09:00 09:10-10:00"))
    assert night_codes[6] == "2200-0500" and many[0] == "H04"
    records = {schedule.code: schedule for schedule in codes.records.values()}
    assert records["0800-1200 1300-1700"].duration_minutes == 480
    assert records["2200-0500"].duration_minutes == 480  # 420 clock minutes of night, as 52.5-minute hours
    assert records["2200-0500"].pairs == (("2200", "0500"),)
    assert records["H04"].pairs[-1] == ("0910", "1000")


def aej_lines_of(people: list[SheetPerson], given: list[tuple[str, list[Mark]]]) -> list[str]:
    return aej_file_lines(
        employer=aej.AejEmployer(aej.CNPJ, "11222333000181", "Padaria"),
        first=date(2026, 3, 1),
        last=date(2026, 3, 31),
        generated_at=datetime(2026, 4, 1, tzinfo=UTC),
        zone=ZONE,
        rep_number="12345678901234567",
        people=people,
        marks=given,
        program=aej.AejProgram("Ponto", "0.1.0", aej.CNPJ, "11444777000161", "Ponto", "dev@example.org"),
    )


def test_the_aej_keeps_the_periods_marks_and_names_every_journeys_schedule() -> None:
    before = marks("x", "2026-02-28", "08:00/in", "12:00/out")  # in the margin: paired, not written
    saturday = marks("s", "2026-03-07", "08:00/in", "10:00/out")  # a day the schedule does not name
    included = marks("i", "2026-03-02", "08:00/in", "17:00/out", m1=(False, "Esqueceu", "included"))
    lines = aej_lines_of([ANA, CAIO], [("ana", before + included + saturday)])
    records = [aej.read_record(line) for line in lines[:-1]]
    written = [(f["dataHoraMarc"][:16], f["tpMarc"], f["fonteMarc"], f["idRepAej"], f["codHorContratual"], f["motivo"])
               for t, f in records if t == "05"]  # fmt: skip
    assert written == [
        ("2026-03-02T08:00", "E", "O", "1", "0800-1200 1300-1700", ""),
        ("2026-03-02T17:00", "S", "I", "", "", "Esqueceu"),
        ("2026-03-07T08:00", "E", "O", "1", "0800-1200 1300-1700", ""),  # the employee's default journey
        ("2026-03-07T10:00", "S", "O", "1", "", ""),
    ]
    assert [f["cpf"] for t, f in records if t == "03"] == [ANA.cpf]  # removed and without marks: not a vínculo


def test_the_aej_refuses_marks_of_an_employee_without_a_schedule() -> None:
    with pytest.raises(ValueError, match="no contractual schedule: bia") as refused:
        aej_lines_of([ANA, BIA], [("bia", marks("b", "2026-03-02", "08:00/in"))])
    assert BIA.cpf not in str(refused.value) and "\n" not in str(refused.value)
    # Without marks in the period it is only a vínculo
    lines = aej_lines_of([BIA], [("bia", marks("b", "2026-02-27", "08:00/in"))])
    assert [line[:2] for line in lines[:-1]] == ["01", "02", "03", "08", "99"]


def test_fetched_times_in_utc_compute_as_local_ones() -> None:
    local = marks("a", "2026-03-02", "08:00/in", "12:00/out")
    utc = [mark._replace(at=mark.at.astimezone(UTC)) for mark in local]
    (_, from_local), (_, from_utc) = (
        next(employee_months([ANA], [("ana", given)], (2026, 3), ZONE, CALENDAR)) for given in (local, utc)
    )
    assert from_local == from_utc
    assert from_local.days[1].punches == ("08:00", "12:00")
    assert timedelta(0) == utc[0].at.utcoffset()
