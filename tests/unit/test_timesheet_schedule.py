"""Schedules (their text form, canonical text and errors) and the holiday calendar of the timesheet."""

from __future__ import annotations

from datetime import date

import pytest

from ponto.timesheet.calendar import STATES, HolidayCalendar
from ponto.timesheet.schedule import Interval, ScheduleError, parse_schedule

TIRADENTES = date(2026, 4, 21)


# --- schedules --------------------------------------------------------------------------------------------------


def test_schedule_days_and_minutes() -> None:
    schedule = parse_schedule("mon-fri 08:00-12:00 13:00-17:00; sat 08:00-12:00")
    assert schedule.intervals(0) == (Interval(480, 720), Interval(780, 1020))
    assert [schedule.minutes(weekday) for weekday in range(7)] == [480, 480, 480, 480, 480, 240, 0]
    assert schedule.marks(5) == (480, 720)
    assert schedule.works(5) and not schedule.works(6)


def test_a_range_crossing_midnight_belongs_to_the_day_it_starts() -> None:
    schedule = parse_schedule("mon-fri 22:00-05:00")
    assert schedule.intervals(0) == (Interval(1320, 1740),) and schedule.minutes(0) == 420
    assert schedule.intervals(5) == ()
    # A break after midnight: the second range starts on the next day too.
    sunday = parse_schedule("sun-thu 18:00-23:00 00:00-03:00").intervals(6)
    assert sunday == (Interval(1080, 1380), Interval(1440, 1620))


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("mon-fri 08:00-12:00 13:00-17:00", "mon-fri 08:00-12:00 13:00-17:00"),
        ("mon-fri 08:00-12:00 13:00-17:00; sat 08:00-12:00", "mon-fri 08:00-12:00 13:00-17:00; sat 08:00-12:00"),
        ("mon,wed,fri 08:00-12:00", "mon,wed,fri 08:00-12:00"),
        ("  Mon,Tue,Wed  8:00-12:00 ;", "mon-wed 08:00-12:00"),
        ("sat 08:00-12:00; mon-fri 08:00-12:00", "mon-sat 08:00-12:00"),
        ("sun 22:00-05:00; mon-thu 22:00-05:00", "sun-thu 22:00-05:00"),
        ("fri-mon 08:00-12:00; wed 08:00-12:00", "fri-mon,wed 08:00-12:00"),
        ("mon-sun 08:00-12:00", "mon-sun 08:00-12:00"),
        ("mon-fri 22:00-02:00 03:00-05:00", "mon-fri 22:00-02:00 03:00-05:00"),
        ("fri 13:00-17:00; mon-thu 08:00-12:00 13:00-17:00", "mon-thu 08:00-12:00 13:00-17:00; fri 13:00-17:00"),
    ],
)  # fmt: skip
def test_schedule_canonical_text(text: str, canonical: str) -> None:
    schedule = parse_schedule(text)
    assert schedule.text == canonical
    assert parse_schedule(canonical) == schedule


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("mun-fri 08:00-12:00", 'schedule: "mun-fri" is not a day group (days: mon tue wed thu fri sat sun)'),
        ("mon-fri 08:00-12:00; mon 13:00-17:00", 'schedule: "mon" is named twice'),
        ("mon-fri,wed 08:00-12:00", 'schedule: "wed" is named twice'),
        ("mon 25:00-26:00", 'schedule: "25:00" is not a time (HH:MM, 00:00 to 23:59)'),
        ("mon 08:60-12:00", 'schedule: "08:60" is not a time (HH:MM, 00:00 to 23:59)'),
        ("mon 08:00-08:00", 'schedule: "08:00-08:00" is an empty range'),
        ("mon 08:00", 'schedule: "08:00" is not a time range (HH:MM-HH:MM)'),
        ("mon 08:00-12:00-13:00", 'schedule: "08:00-12:00-13:00" is not a time range (HH:MM-HH:MM)'),
        ("mon", 'schedule: "mon" has no time ranges (HH:MM-HH:MM)'),
        (" ; ", 'schedule: empty (e.g. "mon-fri 08:00-12:00 13:00-17:00")'),
        (
            "mon-fri 08:00-12:00 11:00-13:00",
            'schedule: "11:00-13:00" overlaps "08:00-12:00" (list a day\'s ranges in time order)',
        ),
        (
            "mon-fri 13:00-17:00 08:00-12:00",
            'schedule: "08:00-12:00" comes before "13:00-17:00" (list a day\'s ranges in time order)',
        ),
        (
            "mon 06:00-07:00 19:00-20:00",
            'schedule: "19:00-20:00" starts 12 hours after "06:00-07:00" ends (a break is shorter than 11 hours)',
        ),
        ("mon 08:00-20:00 21:00-09:00", 'schedule: "mon 08:00-20:00 21:00-09:00" spans more than 24 hours'),
        ("mon 20:00-06:00; tue 05:00-08:00", "schedule: mon 20:00-06:00 runs into tue 05:00-08:00"),
        ("sun 20:00-06:00; mon 05:00-08:00", "schedule: sun 20:00-06:00 runs into mon 05:00-08:00"),
    ],
)
def test_schedule_errors_name_the_bad_part(text: str, message: str) -> None:
    with pytest.raises(ScheduleError) as raised:
        parse_schedule(text)
    assert str(raised.value) == message
    assert isinstance(raised.value, ValueError)


# --- holidays ---------------------------------------------------------------------------------------------------


def test_national_state_and_company_holidays() -> None:
    extra = {date(2026, 12, 24): "Véspera de Natal (recesso)"}
    sao_paulo = HolidayCalendar("SP", None, extra)
    assert sao_paulo.name(TIRADENTES) == "Tiradentes"
    assert sao_paulo.name(date(2026, 7, 9)) == "Revolução Constitucionalista"
    assert sao_paulo.name(date(2026, 12, 24)) == "Véspera de Natal (recesso)"
    assert sao_paulo.name(date(2027, 12, 24)) is None
    assert sao_paulo.name(date(2026, 3, 2)) is None
    # 9 July is São Paulo's, not Rio de Janeiro's; and the library's "optional" days are not holidays.
    assert HolidayCalendar("rj", None, {}).name(date(2026, 7, 9)) is None
    assert HolidayCalendar(None, None, {}).name(date(2026, 2, 17)) is None  # Carnival
    # A company day off on a legal holiday keeps the holiday's name.
    assert HolidayCalendar(None, None, {TIRADENTES: "Recesso"}).name(TIRADENTES) == "Tiradentes"


def test_city_holidays_where_the_library_knows_them() -> None:
    capital = HolidayCalendar("SP", "Sao Paulo", {})
    assert capital.city_known and capital.name(date(2026, 1, 25)) == "Aniversário da Cidade de São Paulo"
    assert capital.name(date(2026, 7, 9)) == "Revolução Constitucionalista"
    campinas = HolidayCalendar("SP", "Campinas", {})
    assert not campinas.city_known and campinas.name(date(2026, 1, 25)) is None


def test_an_unknown_state_is_refused() -> None:
    with pytest.raises(ValueError, match=r'^holidays: "XX" is not a Brazilian state \(states: AC AL .* TO\)$'):
        HolidayCalendar("XX", None, {})
    assert len(STATES) == 27
