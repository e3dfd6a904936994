"""An employee's month on the timesheet (espelho de ponto, art. 84): marks in, one result per calendar day out.

The marks are the employee's original punches and the manager's treatments (art. 82-83: a punch included by hand,
or a punch disregarded, each with its reason). Treated punches are the originals and the included ones that are
not disregarded; journeys are built from them (`journeys`), and the CLT rules (`rules`) give each day's minutes
and flags. Every minute here is whole: a punch is truncated to its minute.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, NamedTuple
from zoneinfo import ZoneInfo

from ponto.timesheet import rules
from ponto.timesheet.calendar import HolidayCalendar
from ponto.timesheet.journeys import KIND_OPENS, MINUTES_PER_DAY, Journey, Punch, build_journeys
from ponto.timesheet.schedule import Schedule

Source = Literal["original", "included"]

MISSING_PUNCH = "missing_punch"
SHORT_BREAK = "short_break"
SHORT_REST = "short_rest"

MINUTE_FIELDS = (
    "scheduled_minutes",
    "worked_minutes",
    "night_minutes",
    "night_reduced_minutes",
    "overtime_50_minutes",
    "overtime_100_minutes",
    "undertime_minutes",
)

_CLOCK = tuple(f"{minute // 60:02d}:{minute % 60:02d}" for minute in range(MINUTES_PER_DAY))


class Mark(NamedTuple):
    """A punch as the timesheet sees it: an original one or one a manager included, maybe disregarded."""

    punch_id: str
    at: datetime  # aware
    kind: str | None  # 'in', 'out', 'break_start', 'break_end', or None when the clock sent none
    source: Source
    disregarded: bool = False
    reason: str | None = None


class MarkLine(NamedTuple):
    """A mark as the espelho lists it, under its journey's day, with its own local date and time."""

    mark: Mark
    date: date
    time: str  # HH:MM

    def as_json(self) -> dict[str, object]:
        """The mark as an entry of a day's "marks"."""
        mark = self.mark
        return {
            "time": self.time,
            "date": self.date.isoformat(),
            "punch_id": mark.punch_id,
            "kind": mark.kind,
            "source": mark.source,
            "disregarded": mark.disregarded,
            "reason": mark.reason,
        }


class DayResult(NamedTuple):
    """A calendar day of the espelho."""

    date: date
    punches: tuple[str, ...]  # the treated punches of the day's journeys, HH:MM local, in order
    scheduled_minutes: int
    worked_minutes: int
    night_minutes: int
    night_reduced_minutes: int
    overtime_50_minutes: int
    overtime_100_minutes: int
    undertime_minutes: int
    flags: tuple[str, ...]  # sorted, unique
    marks: tuple[MarkLine, ...]  # originals and treatments side by side, in time order
    holiday: str | None  # the holiday's name, for the renderers (not in the JSON)

    def as_json(self) -> dict[str, object]:
        """The day as the espelho's JSON."""
        return {
            "date": self.date.isoformat(),
            "punches": list(self.punches),
            "scheduled_minutes": self.scheduled_minutes,
            "worked_minutes": self.worked_minutes,
            "night_minutes": self.night_minutes,
            "night_reduced_minutes": self.night_reduced_minutes,
            "overtime_50_minutes": self.overtime_50_minutes,
            "overtime_100_minutes": self.overtime_100_minutes,
            "undertime_minutes": self.undertime_minutes,
            "flags": list(self.flags),
            "marks": [line.as_json() for line in self.marks],
        }


@dataclass(frozen=True)
class MonthResult:
    """An employee's month: every calendar day of it, in order."""

    year: int
    month: int
    days: tuple[DayResult, ...]

    def totals(self) -> dict[str, object]:
        """The sum of each `*_minutes` field, and under "flags" the number of days carrying each flag."""
        totals: dict[str, object] = {field: sum(getattr(day, field) for day in self.days) for field in MINUTE_FIELDS}
        counts: dict[str, int] = {}
        for day in self.days:
            for flag in day.flags:
                counts[flag] = counts.get(flag, 0) + 1
        totals["flags"] = dict(sorted(counts.items()))
        return totals

    def as_json(self, employee_id: str, cpf: str, name: str) -> dict[str, object]:
        """The month as the espelho's JSON."""
        return {
            "employee_id": employee_id,
            "cpf": cpf,
            "name": name,
            "month": f"{self.year:04d}-{self.month:02d}",
            "days": [day.as_json() for day in self.days],
            "totals": self.totals(),
        }


# A mark converted once: its exact instant (UTC microseconds) and its other fields first, as the sort key; the
# caller's position last, so rows differing only there are the same mark twice; then its UTC and local minutes.
_Row = tuple[int, str, str, bool, str, str, int, int, int, Mark]


def compute_month(
    marks: Iterable[Mark],
    schedule: Schedule | None,
    month: tuple[int, int],
    zone: ZoneInfo,
    calendar: HolidayCalendar,
    today: date | None = None,
) -> MonthResult:
    """Compute an employee's `month` (year, month) from their marks, in the establishment's `zone`. The marks may
    reach a day or two beyond the month, so that a journey crossing into it and the rest before its first journey
    come out right; only the month's days are reported, every one of them. A day after `today` (the month
    still running) with no punch owes nothing yet: its undertime is 0, its schedule still shown."""
    year, number = month
    plan = _month_plan(schedule, calendar, year, number)
    first_day, last_day = plan[0].ordinal, plan[-1].ordinal

    rows: list[_Row] = []
    for position, mark in enumerate(marks):
        punch_id, at, kind, source, disregarded, reason = mark
        if at.tzinfo is None:
            raise ValueError(f"timesheet: punch {punch_id} has a time without a time zone")
        # The one zone conversion of a punch; its minute is truncated (seconds only order punches in a minute).
        local = at.astimezone(zone)
        offset = local.utcoffset()
        assert offset is not None
        minute = local.toordinal() * MINUTES_PER_DAY + local.hour * 60 + local.minute
        utc = minute - (offset.days * MINUTES_PER_DAY + offset.seconds // 60)
        instant = (utc * 60 + local.second) * 1_000_000 + local.microsecond
        rows.append((instant, punch_id, source, disregarded, kind or "", reason or "", position, utc, minute, mark))
    # Every field a mark has orders it, so the result does not depend on the order the marks came in.
    rows.sort()

    treated = [
        Punch(utc, minute, KIND_OPENS.get(kind), index)
        for index, (_, _, _, disregarded, kind, _, _, utc, minute, _) in enumerate(rows)
        if not disregarded
    ]
    journeys = build_journeys(treated)
    row_days = _row_days(rows, journeys)

    month_journeys: dict[int, list[Journey]] = {}
    rest_days: set[int] = set()
    previous: Journey | None = None
    for journey in journeys:
        if previous is not None and rules.short_rest(previous, journey):
            rest_days.add(journey.day)
        previous = journey
        if first_day <= journey.day <= last_day:
            month_journeys.setdefault(journey.day, []).append(journey)

    dates: dict[int, date] = {}
    month_lines: dict[int, list[MarkLine]] = {}
    for (*_, minute, mark), listed_day in zip(rows, row_days, strict=True):
        if first_day <= listed_day <= last_day:
            own_day = minute // MINUTES_PER_DAY
            own_date = dates.get(own_day)
            if own_date is None:
                own_date = dates[own_day] = date.fromordinal(own_day)
            line = MarkLine(mark, own_date, _CLOCK[minute % MINUTES_PER_DAY])
            month_lines.setdefault(listed_day, []).append(line)

    days: list[DayResult] = []
    for planned in plan:
        ordinal = planned.ordinal
        midnight = ordinal * MINUTES_PER_DAY
        worked = night = 0
        flags: set[str] = set()
        punches: list[int] = []
        for journey in month_journeys.get(ordinal, ()):
            punches += [punch.local - midnight for punch in journey.punches]
            worked += journey.worked
            night += rules.night_minutes(journey)
            if journey.unpaired:
                flags.add(MISSING_PUNCH)
            if rules.short_break(journey):
                flags.add(SHORT_BREAK)
        if ordinal in rest_days:
            flags.add(SHORT_REST)
        tolerated = rules.within_tolerance(punches, planned.marks)
        overtime_50, overtime_100, undertime = rules.overtime(worked, planned.scheduled, tolerated, planned.at_100)
        if today is not None and not punches and planned.date > today:
            undertime = 0  # a day yet to come is not an absence
        days.append(
            DayResult(
                planned.date,
                tuple([_CLOCK[punch % MINUTES_PER_DAY] for punch in punches]),
                planned.scheduled,
                worked,
                night,
                rules.reduced_night(night),
                overtime_50,
                overtime_100,
                undertime,
                tuple(sorted(flags)) if flags else (),
                tuple(month_lines.get(ordinal, ())),
                planned.holiday,
            )
        )
    return MonthResult(year, number, tuple(days))


class _PlannedDay(NamedTuple):
    date: date
    ordinal: int
    holiday: str | None
    scheduled: int  # minutes
    marks: tuple[int, ...]  # the scheduled marks, in minutes from the day's midnight
    at_100: bool


@functools.lru_cache(maxsize=256)
def _month_plan(schedule: Schedule | None, calendar: HolidayCalendar, year: int, month: int) -> tuple[_PlannedDay, ...]:
    """A month's days before any punch is seen: the same for every employee with the same schedule and calendar,
    so they are worked out once (a calendar is immutable; it is cached by identity)."""
    first = date(year, month, 1).toordinal()
    following = date(year + month // 12, month % 12 + 1, 1).toordinal()
    planned = []
    for ordinal in range(first, following):
        day = date.fromordinal(ordinal)
        weekday = day.weekday()
        holiday = calendar.name(day)
        # A holiday has no schedule (its work is all paid at 100 %); nor has a day the schedule does not name.
        scheduled, marks = (
            (0, ()) if schedule is None or holiday is not None else (schedule.minutes(weekday), schedule.marks(weekday))
        )
        planned.append(
            _PlannedDay(
                day, ordinal, holiday, scheduled, marks, rules.paid_at_100(weekday, holiday is not None, schedule)
            )
        )
    return tuple(planned)


def _row_days(rows: list[_Row], journeys: list[Journey]) -> list[int]:
    """The day each row is listed under: a treated punch's journey's; a disregarded one's, the journey it falls
    within (so a night journey's marks stay together), else its own local date."""
    days = [minute // MINUTES_PER_DAY for *_, minute, _ in rows]
    starts = [journey.start.utc for journey in journeys]
    for journey in journeys:
        for punch in journey.punches:
            days[punch.row] = journey.day
    for index, (_, _, _, disregarded, _, _, _, utc, _, _) in enumerate(rows):
        if disregarded:
            found = bisect.bisect_right(starts, utc) - 1
            if found >= 0 and utc <= journeys[found].end.utc:
                days[index] = journeys[found].day
    return days
