"""The timesheet's computation (REP-P.md, "CLT rules a timesheet applies"): hand-computed days, each checked field
by field; the month around them; journeys."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

import pytest

from ponto.timesheet.calendar import HolidayCalendar
from ponto.timesheet.compute import Mark, compute_month
from ponto.timesheet.journeys import Punch, build_journeys
from ponto.timesheet.schedule import parse_schedule

ZONE = ZoneInfo("America/Sao_Paulo")
CALENDAR = HolidayCalendar("SP", None, {})
OFFICE = "mon-fri 08:00-12:00 13:00-17:00"
NIGHT = "mon-fri 22:00-01:00 02:00-05:00"

MONDAY = date(2026, 3, 2)
TUESDAY = date(2026, 3, 3)
SATURDAY = date(2026, 3, 7)
SUNDAY = date(2026, 3, 8)
TIRADENTES = date(2026, 4, 21)  # a national holiday, on a Tuesday


def at(day: date, clock: str) -> datetime:
    """An instant given as local `clock` ("HH:MM" or "HH:MM:SS"; "+HH:MM" is on the next day), in UTC as the
    store returns it."""
    if clock.startswith("+"):
        day, clock = day + timedelta(days=1), clock[1:]
    return datetime.combine(day, time.fromisoformat(clock), ZONE).astimezone(UTC)


def originals(day: date, clocks: str, prefix: str = "p") -> list[Mark]:
    """Original punches without a kind, ids `p1`, `p2`, ..."""
    return [Mark(f"{prefix}{n}", at(day, clock), None, "original") for n, clock in enumerate(clocks.split(), 1)]


def entries(marks: list[Mark]) -> list[dict[str, object]]:
    """The espelho's listing of `marks`, read back from their instants."""
    listed: list[dict[str, object]] = []
    for mark in marks:
        local = mark.at.astimezone(ZONE)
        listed.append(
            {
                "time": f"{local:%H:%M}",
                "date": local.date().isoformat(),
                "punch_id": mark.punch_id,
                "kind": mark.kind,
                "source": mark.source,
                "disregarded": mark.disregarded,
                "reason": mark.reason,
            }
        )
    return listed


def day_json(schedule: str | None, marks: list[Mark], day: date) -> dict[str, object]:
    result = compute_month(marks, parse_schedule(schedule) if schedule else None, (day.year, day.month), ZONE, CALENDAR)
    return result.days[day.day - 1].as_json()


class Case(NamedTuple):
    schedule: str | None
    marks: list[Mark]
    day: date
    expected: dict[str, object]


def case(
    schedule: str | None,
    marks: list[Mark],
    day: date,
    *,
    punches: str,
    scheduled: int,
    worked: int,
    night: int,
    reduced: int,
    overtime_50: int,
    overtime_100: int,
    undertime: int,
    flags: list[str],
    listed: list[dict[str, object]] | None = None,
) -> Case:
    """A day and every field of its JSON; `listed` defaults to all `marks`."""
    return Case(
        schedule,
        marks,
        day,
        {
            "date": day.isoformat(),
            "punches": punches.split(),
            "scheduled_minutes": scheduled,
            "worked_minutes": worked,
            "night_minutes": night,
            "night_reduced_minutes": reduced,
            "overtime_50_minutes": overtime_50,
            "overtime_100_minutes": overtime_100,
            "undertime_minutes": undertime,
            "flags": flags,
            "marks": entries(marks) if listed is None else listed,
        },
    )


EVENING = originals(MONDAY, "14:00 18:00 19:00 23:00", "m")
FORGOT_EXIT = originals(MONDAY, "08:00 12:00 13:00")
DUPLICATE = [
    *originals(MONDAY, "08:00 12:00 13:00 17:00"),
    Mark("p9", at(MONDAY, "08:01"), None, "original", disregarded=True, reason="Marcação em duplicidade"),
]
KINDS = [
    Mark("k1", at(MONDAY, "08:00"), "in", "original"),
    Mark("k2", at(MONDAY, "13:00"), "break_end", "original"),
    Mark("k3", at(MONDAY, "17:00"), "out", "original"),
]

CASES = {
    "exact day": case(
        OFFICE, originals(MONDAY, "08:00 12:00 13:00 17:00"), MONDAY,
        punches="08:00 12:00 13:00 17:00", scheduled=480, worked=480, night=0, reduced=0,
        overtime_50=0, overtime_100=0, undertime=0, flags=[],
    ),
    # 3 + 1 + 1 + 3 = 8 minutes: each mark within 5 and the day within 10.
    "variations within the tolerance": case(
        OFFICE, originals(MONDAY, "07:57 12:01 13:01 17:03"), MONDAY,
        punches="07:57 12:01 13:01 17:03", scheduled=480, worked=486, night=0, reduced=0,
        overtime_50=0, overtime_100=0, undertime=0, flags=[],
    ),
    # 3 + 2 + 1 + 3 = 9 minutes: nothing is paid or discounted, but 12:02-13:01 is a 59-minute break for a
    # journey of more than 6 hours; the tolerance is about pay (art. 58 §1), not about the break (art. 71).
    "variations within the tolerance, break 59 minutes": case(
        OFFICE, originals(MONDAY, "07:57 12:02 13:01 17:03"), MONDAY,
        punches="07:57 12:02 13:01 17:03", scheduled=480, worked=487, night=0, reduced=0,
        overtime_50=0, overtime_100=0, undertime=0, flags=["short_break"],
    ),
    # 4 + 3 + 3 + 4 = 14 minutes: each mark within 5 but the day over 10, so all of them count.
    "variations over 10 in the day": case(
        OFFICE, originals(MONDAY, "07:56 12:03 13:03 17:04"), MONDAY,
        punches="07:56 12:03 13:03 17:04", scheduled=480, worked=488, night=0, reduced=0,
        overtime_50=8, overtime_100=0, undertime=0, flags=[],
    ),
    "one mark over 5": case(
        OFFICE, originals(MONDAY, "08:06 12:00 13:00 17:00"), MONDAY,
        punches="08:06 12:00 13:00 17:00", scheduled=480, worked=474, night=0, reduced=0,
        overtime_50=0, overtime_100=0, undertime=6, flags=[],
    ),
    # Seconds are dropped: 07:59-12:00 is 241 minutes, 13:00-17:00 240; variations 1 + 0 + 0 + 0.
    "seconds truncated": case(
        OFFICE, originals(MONDAY, "07:59:59 12:00:30 13:00:00 17:00:59"), MONDAY,
        punches="07:59 12:00 13:00 17:00", scheduled=480, worked=481, night=0, reduced=0,
        overtime_50=0, overtime_100=0, undertime=0, flags=[],
    ),
    # The unpaired 13:00 adds nothing and is never filled in.
    "missing punch": case(
        OFFICE, FORGOT_EXIT, MONDAY,
        punches="08:00 12:00 13:00", scheduled=480, worked=240, night=0, reduced=0,
        overtime_50=0, overtime_100=0, undertime=240, flags=["missing_punch"],
    ),
    # By kind, 08:00 "in" then 13:00 "break_end" leaves 08:00 unpaired (alternating would pair 08:00-13:00).
    "missing punch found by kind": case(
        OFFICE, KINDS, MONDAY,
        punches="08:00 13:00 17:00", scheduled=480, worked=240, night=0, reduced=0,
        overtime_50=0, overtime_100=0, undertime=240, flags=["missing_punch"],
    ),
    "absent on a working day": case(
        OFFICE, [], date(2026, 3, 4),
        punches="", scheduled=480, worked=0, night=0, reduced=0,
        overtime_50=0, overtime_100=0, undertime=480, flags=[],
    ),
    # The journey crosses midnight and stays on Monday; 360 night minutes are paid as 360 * 8 / 7 = 411.4 -> 411.
    "night shift across midnight": case(
        NIGHT, originals(MONDAY, "22:00 +01:00 +02:00 +05:00"), MONDAY,
        punches="22:00 01:00 02:00 05:00", scheduled=360, worked=360, night=360, reduced=411,
        overtime_50=0, overtime_100=0, undertime=0, flags=[],
    ),
    # Súmula 60 II: it started at 22:00 and was still working at 05:00, so 05:00-07:00 is night work too:
    # 180 + 180 + 120 = 480 night minutes, paid as 548.6 -> 549.
    "night shift extended past 05:00": case(
        NIGHT, originals(MONDAY, "22:00 +01:00 +02:00 +07:00"), MONDAY,
        punches="22:00 01:00 02:00 07:00", scheduled=360, worked=480, night=480, reduced=549,
        overtime_50=120, overtime_100=0, undertime=0, flags=[],
    ),
    # Started after 22:00: no extension, 120 + 180 = 300 night minutes, paid as 342.9 -> 343.
    "night shift started late, extended": case(
        NIGHT, originals(MONDAY, "23:00 +01:00 +02:00 +07:00"), MONDAY,
        punches="23:00 01:00 02:00 07:00", scheduled=360, worked=420, night=300, reduced=343,
        overtime_50=60, overtime_100=0, undertime=0, flags=[],
    ),
    "Sunday off worked": case(
        OFFICE, originals(SUNDAY, "08:00 12:00"), SUNDAY,
        punches="08:00 12:00", scheduled=0, worked=240, night=0, reduced=0,
        overtime_50=0, overtime_100=240, undertime=0, flags=[],
    ),
    "national holiday worked": case(
        OFFICE, originals(TIRADENTES, "08:00 12:00 13:00 17:00"), TIRADENTES,
        punches="08:00 12:00 13:00 17:00", scheduled=0, worked=480, night=0, reduced=0,
        overtime_50=0, overtime_100=480, undertime=0, flags=[],
    ),
    "Saturday off worked": case(
        OFFICE, originals(SATURDAY, "08:00 12:00"), SATURDAY,
        punches="08:00 12:00", scheduled=0, worked=240, night=0, reduced=0,
        overtime_50=240, overtime_100=0, undertime=0, flags=[],
    ),
    # Two punches against four scheduled marks: no tolerance, but 480 worked against 480 scheduled.
    "no break": case(
        OFFICE, originals(MONDAY, "08:00 16:00"), MONDAY,
        punches="08:00 16:00", scheduled=480, worked=480, night=0, reduced=0,
        overtime_50=0, overtime_100=0, undertime=0, flags=["short_break"],
    ),
    # 22:00-23:00 is night work: 60 minutes, paid as 68.6 -> 69.
    "an evening journey": case(
        OFFICE, [*EVENING, *originals(TUESDAY, "08:00 12:00 13:00 17:00")], MONDAY,
        punches="14:00 18:00 19:00 23:00", scheduled=480, worked=480, night=60, reduced=69,
        overtime_50=0, overtime_100=0, undertime=0, flags=[], listed=entries(EVENING),
    ),
    # 23:00 to 08:00 is 9 hours of rest.
    "short rest": case(
        OFFICE, [*EVENING, *originals(TUESDAY, "08:00 12:00 13:00 17:00")], TUESDAY,
        punches="08:00 12:00 13:00 17:00", scheduled=480, worked=480, night=0, reduced=0,
        overtime_50=0, overtime_100=0, undertime=0, flags=["short_rest"],
        listed=entries(originals(TUESDAY, "08:00 12:00 13:00 17:00")),
    ),
    "several flags": case(
        OFFICE, [*EVENING, *originals(TUESDAY, "08:00 16:00 17:00")], TUESDAY,
        punches="08:00 16:00 17:00", scheduled=480, worked=480, night=0, reduced=0,
        overtime_50=0, overtime_100=0, undertime=0, flags=["missing_punch", "short_break", "short_rest"],
        listed=entries(originals(TUESDAY, "08:00 16:00 17:00")),
    ),
    "a treatment adds the missing punch": case(
        OFFICE,
        [*FORGOT_EXIT, Mark("t1", at(MONDAY, "17:00"), "out", "included", reason="Esqueceu de registrar a saída")],
        MONDAY,
        punches="08:00 12:00 13:00 17:00", scheduled=480, worked=480, night=0, reduced=0,
        overtime_50=0, overtime_100=0, undertime=0, flags=[],
        listed=[
            *entries(FORGOT_EXIT),
            {
                "time": "17:00", "date": "2026-03-02", "punch_id": "t1", "kind": "out", "source": "included",
                "disregarded": False, "reason": "Esqueceu de registrar a saída",
            },
        ],
    ),
    "a treatment disregards a punch": case(
        OFFICE, DUPLICATE, MONDAY,
        punches="08:00 12:00 13:00 17:00", scheduled=480, worked=480, night=0, reduced=0,
        overtime_50=0, overtime_100=0, undertime=0, flags=[],
        listed=[
            *entries(DUPLICATE[:1]),
            {
                "time": "08:01", "date": "2026-03-02", "punch_id": "p9", "kind": None, "source": "original",
                "disregarded": True, "reason": "Marcação em duplicidade",
            },
            *entries(DUPLICATE[1:4]),
        ],
    ),
}  # fmt: skip


@pytest.mark.parametrize("given", CASES.values(), ids=CASES.keys())
def test_day(given: Case) -> None:
    assert day_json(given.schedule, given.marks, given.day) == given.expected


def test_a_night_journey_is_listed_under_its_first_day() -> None:
    marks = originals(MONDAY, "22:00 +01:00 +02:00 +05:00")
    result = compute_month(marks, parse_schedule(NIGHT), (2026, 3), ZONE, CALENDAR)
    monday, tuesday = result.days[1], result.days[2]
    assert [(line.time, line.date.isoformat()) for line in monday.marks] == [
        ("22:00", "2026-03-02"),
        ("01:00", "2026-03-03"),
        ("02:00", "2026-03-03"),
        ("05:00", "2026-03-03"),
    ]
    assert tuesday.punches == () and tuesday.marks == () and tuesday.undertime_minutes == 360


def test_a_disregarded_punch_inside_a_night_journey_is_listed_with_it() -> None:
    marks = [
        *originals(MONDAY, "22:00 +01:00 +02:00 +05:00"),
        Mark("x", at(TUESDAY, "03:00"), None, "original", disregarded=True, reason="Engano"),
    ]
    result = compute_month(marks, parse_schedule(NIGHT), (2026, 3), ZONE, CALENDAR)
    assert [line.mark.punch_id for line in result.days[1].marks] == ["p1", "p2", "p3", "x", "p4"]
    assert result.days[2].marks == ()


def test_the_month_reports_every_day_and_only_its_days() -> None:
    # A journey from the last night of February crosses into 1 March, and leaves 7 hours of rest before
    # the first journey of March; the margin's marks are not listed.
    marks = [
        *originals(date(2026, 2, 28), "22:00 +05:00", "f"),
        *originals(date(2026, 3, 1), "12:00 16:00"),
        *originals(date(2026, 3, 31), "22:00 +02:00", "a"),
    ]
    result = compute_month(marks, parse_schedule(OFFICE), (2026, 3), ZONE, CALENDAR)
    assert [day.date for day in result.days] == [date(2026, 3, n) for n in range(1, 32)]
    first, last = result.days[0], result.days[-1]
    assert first.punches == ("12:00", "16:00") and [line.mark.punch_id for line in first.marks] == ["p1", "p2"]
    assert first.flags == ("short_rest",) and first.overtime_100_minutes == 240
    assert last.punches == ("22:00", "02:00") and last.worked_minutes == 240 and last.night_minutes == 240
    february = compute_month(marks, parse_schedule(OFFICE), (2026, 2), ZONE, CALENDAR)
    assert len(february.days) == 28 and february.days[-1].punches == ("22:00", "05:00")


def test_the_month_as_json() -> None:
    marks = [
        *originals(MONDAY, "08:00 12:00 13:00"),
        *originals(TUESDAY, "08:00 12:00 13:00 18:00", "t"),
        *originals(SUNDAY, "08:00 10:00", "s"),
    ]
    result = compute_month(marks, parse_schedule(OFFICE), (2026, 3), ZONE, CALENDAR)
    month = result.as_json("e-1", "11144477735", "Maria da Silva")
    assert list(month) == ["employee_id", "cpf", "name", "month", "days", "totals"]
    assert month["employee_id"] == "e-1" and month["cpf"] == "11144477735" and month["name"] == "Maria da Silva"
    assert month["month"] == "2026-03"
    assert month["days"] == [day.as_json() for day in result.days]
    # 22 working days in March 2026; Monday is 240 short, the other 20 working days absent (9600).
    assert month["totals"] == {
        "scheduled_minutes": 22 * 480,
        "worked_minutes": 240 + 540 + 120,
        "night_minutes": 0,
        "night_reduced_minutes": 0,
        "overtime_50_minutes": 60,
        "overtime_100_minutes": 120,
        "undertime_minutes": 240 + 20 * 480,
        "flags": {"missing_punch": 1},
    }


def test_no_schedule_makes_every_worked_minute_overtime() -> None:
    marks = [*originals(MONDAY, "08:00 12:00"), *originals(SUNDAY, "08:00 09:00", "s")]
    result = compute_month(marks, None, (2026, 3), ZONE, CALENDAR)
    monday, sunday = result.days[1], result.days[7]
    assert (monday.scheduled_minutes, monday.overtime_50_minutes, monday.undertime_minutes) == (0, 240, 0)
    assert (sunday.overtime_50_minutes, sunday.overtime_100_minutes) == (0, 60)


def test_a_punch_without_a_time_zone_is_refused() -> None:
    mark = Mark("p1", datetime(2026, 3, 2, 8, 0), None, "original")
    with pytest.raises(ValueError, match="p1"):
        compute_month([mark], None, (2026, 3), ZONE, CALENDAR)


# --- journeys ---------------------------------------------------------------------------------------------------


def punches(*clocks: str, kinds: str = "") -> list[Punch]:
    """Punches of 2 March 2026 (minutes, UTC-3); `kinds` one letter a punch: i(n), o(ut), -(none)."""
    opens = {"i": True, "o": False, "-": None}
    found = []
    for row, clock in enumerate(clocks):
        hours, minutes = clock.split(":")
        local = MONDAY.toordinal() * 1440 + int(hours) * 60 + int(minutes)
        found.append(Punch(local + 180, local, opens[kinds[row]] if kinds else None, row))
    return found


def shape(given: list[Punch]) -> list[tuple[list[int], list[tuple[int, int]], list[int]]]:
    """Each journey's rows, pairs (by rows) and unpaired rows."""
    return [
        (
            [punch.row for punch in journey.punches],
            [(pair.start.row, pair.end.row) for pair in journey.pairs],
            [punch.row for punch in journey.unpaired],
        )
        for journey in build_journeys(given)
    ]


def test_journeys_split_on_more_than_4_hours_without_work() -> None:
    assert shape(punches("08:00", "12:00", "16:00", "18:00")) == [([0, 1, 2, 3], [(0, 1), (2, 3)], [])]
    assert shape(punches("08:00", "12:00", "16:01", "18:00")) == [([0, 1], [(0, 1)], []), ([2, 3], [(2, 3)], [])]


def test_an_open_pair_closes_within_13_hours() -> None:
    # A 12-hour shift is one pair; an entry with no exit is not paired with the next morning's entry.
    assert shape(punches("07:00", "19:05")) == [([0, 1], [(0, 1)], [])]
    assert shape(punches("06:00", "19:01")) == [([0], [], [0]), ([1], [], [1])]


def test_kinds_pair_punches() -> None:
    # Two entries: the first is unpaired; an exit with nothing open is unpaired.
    assert shape(punches("08:00", "13:00", "17:00", kinds="iio")) == [([0, 1, 2], [(1, 2)], [0])]
    assert shape(punches("12:00", "13:00", "17:00", kinds="oio")) == [([0, 1, 2], [(1, 2)], [0])]
    # Without a kind a punch alternates from where the pairing is.
    assert shape(punches("08:00", "12:00", "13:00", "17:00", kinds="i--o")) == [([0, 1, 2, 3], [(0, 1), (2, 3)], [])]


def test_a_holiday_in_the_month_has_no_schedule() -> None:
    result = compute_month([], parse_schedule(OFFICE), (2026, 4), ZONE, CALENDAR)
    tiradentes = result.days[20]
    assert tiradentes.holiday == "Tiradentes"
    assert tiradentes.scheduled_minutes == 0 and tiradentes.undertime_minutes == 0
    assert result.days[19].holiday is None and result.days[19].undertime_minutes == 480


def test_a_running_month_owes_nothing_for_the_days_yet_to_come() -> None:
    # Given a weekday schedule, no punches, and "today" the 11th of March 2026 (a Wednesday)
    schedule = parse_schedule("mon-fri 08:00-12:00 13:00-17:00")
    result = compute_month([], schedule, (2026, 3), ZONE, CALENDAR, today=date(2026, 3, 11))
    by_date = {day.date: day for day in result.days}
    # Then a past working day is an absence, today too (its schedule has begun), a day to come is not
    assert by_date[date(2026, 3, 10)].undertime_minutes == 480
    assert by_date[date(2026, 3, 11)].undertime_minutes == 480
    assert by_date[date(2026, 3, 12)].undertime_minutes == 0
    assert by_date[date(2026, 3, 12)].scheduled_minutes == 480
    # Without `today`, the whole month is judged (a closed month)
    closed = compute_month([], schedule, (2026, 3), ZONE, CALENDAR)
    assert {day.date: day for day in closed.days}[date(2026, 3, 12)].undertime_minutes == 480
