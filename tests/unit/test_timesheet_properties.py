"""Properties of the timesheet's computation (hypothesis): worked minutes are the pairs' sum, a day does not
depend on the order its marks come in, and a disregarded punch never counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from random import Random
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from ponto.timesheet.calendar import HolidayCalendar
from ponto.timesheet.compute import Mark, MonthResult, compute_month
from ponto.timesheet.schedule import parse_schedule

ZONE = ZoneInfo("America/Sao_Paulo")
CALENDAR = HolidayCalendar("SP", None, {})
SCHEDULES = [None, parse_schedule("mon-fri 08:00-12:00 13:00-17:00"), parse_schedule("mon-sat 22:00-02:00 03:00-05:00")]
MIDNIGHT = datetime(2026, 3, 9, tzinfo=ZONE)  # a Monday; the marks stay within March
KINDS = [None, "in", "out", "break_start", "break_end"]
OPENING = {None, "in", "break_end"}
CLOSING = {None, "out", "break_start"}
PROPERTIES = settings(deadline=None, max_examples=50)


def instant(minute: int, second: int = 0) -> datetime:
    return (MIDNIGHT + timedelta(minutes=minute, seconds=second)).astimezone(UTC)


@st.composite
def journeys(draw: st.DrawFn) -> tuple[list[Mark], int]:
    """One journey on 9 March: alternating work (1 to 300 minutes) and breaks (1 to 240 minutes), punches at any
    second, kinds right or absent; and its worked minutes, from the punches' minutes."""
    minute = draw(st.integers(0, 16 * 60))
    marks: list[Mark] = []
    worked = 0
    for pair in range(draw(st.integers(1, 4))):
        if pair:
            minute += draw(st.integers(1, 240))
        start = minute
        minute += draw(st.integers(1, 300))
        worked += minute - start
        for n, (at, kinds) in enumerate([(start, OPENING), (minute, CLOSING)]):
            kind = draw(st.sampled_from(sorted(kinds, key=str)))
            marks.append(Mark(f"p{pair}{n}", instant(at, draw(st.integers(0, 59))), kind, "original"))
    return marks, worked


def marks_of(draw: st.DrawFn, prefix: str, count: int) -> list[Mark]:
    return [
        Mark(
            f"{prefix}{n}",
            instant(draw(st.integers(0, 5 * 1440 - 1)), draw(st.integers(0, 59))),
            draw(st.sampled_from(KINDS)),
            draw(st.sampled_from(["original", "included"])),
            draw(st.booleans()),
            draw(st.none() | st.just("motivo")),
        )
        for n in range(count)
    ]


@st.composite
def any_marks(draw: st.DrawFn) -> list[Mark]:
    """Up to 24 marks over five days, any kind, source and treatment; some may share an instant."""
    marks = marks_of(draw, "p", draw(st.integers(0, 24)))
    twin_wanted = draw(st.booleans())
    if marks and twin_wanted:
        twin = draw(st.sampled_from(marks))
        marks.append(twin._replace(punch_id="twin", source="included", disregarded=False))
    return marks


def march(marks: list[Mark], schedule_index: int) -> MonthResult:
    return compute_month(marks, SCHEDULES[schedule_index], (2026, 3), ZONE, CALENDAR)


@PROPERTIES
@given(journeys(), st.integers(0, len(SCHEDULES) - 1))
def test_worked_minutes_are_the_sum_of_the_pairs(journey: tuple[list[Mark], int], schedule_index: int) -> None:
    marks, worked = journey
    day = march(marks, schedule_index).days[8]
    assert day.worked_minutes == worked
    assert len(day.punches) == len(marks) and "missing_punch" not in day.flags


@PROPERTIES
@given(any_marks(), st.integers(0, len(SCHEDULES) - 1), st.randoms(use_true_random=False))
def test_a_day_does_not_depend_on_the_order_of_its_marks(
    marks: list[Mark], schedule_index: int, random: Random
) -> None:
    shuffled = list(marks)
    random.shuffle(shuffled)
    result = march(marks, schedule_index)
    assert march(shuffled, schedule_index) == result
    for day in result.days:
        assert 0 <= day.night_minutes <= day.worked_minutes
        overtime = day.overtime_50_minutes + day.overtime_100_minutes
        # Within the tolerance nothing counts; beyond it the difference is every minute.
        assert (overtime, day.undertime_minutes) == (0, 0) or overtime - day.undertime_minutes == (
            day.worked_minutes - day.scheduled_minutes
        )


@PROPERTIES
@given(any_marks(), st.data(), st.integers(0, len(SCHEDULES) - 1))
def test_a_disregarded_punch_never_counts(marks: list[Mark], data: st.DataObject, schedule_index: int) -> None:
    # Anywhere: at any second of the five days, or at the very instant of another mark.
    when = st.builds(instant, st.integers(0, 5 * 1440 - 1), st.integers(0, 59))
    if marks:
        when = when | st.sampled_from([mark.at for mark in marks])
    kind = data.draw(st.sampled_from(KINDS))
    added = Mark("ignored", data.draw(when), kind, data.draw(st.sampled_from(["original", "included"])), True, "x")
    before, after = march(marks, schedule_index), march([*marks, added], schedule_index)
    for day_before, day_after in zip(before.days, after.days, strict=True):
        assert day_after._replace(marks=()) == day_before._replace(marks=())
        assert tuple(line for line in day_after.marks if line.mark != added) == day_before.marks
    assert [line.mark for day in after.days for line in day.marks if line.mark == added] == [added]
