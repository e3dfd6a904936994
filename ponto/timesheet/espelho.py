"""An establishment's espelho de ponto for a month: each employee's marks computed (`compute_month`) into the
document the renderers take (`ponto.timesheet.render`): `MonthResult.as_json` plus the employee's schedule text
and each day's holiday. Plain Python: the store fetches, this computes, the renderers format."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ponto.timesheet.calendar import HolidayCalendar
from ponto.timesheet.compute import MINUTE_FIELDS, Mark, MonthResult, compute_month
from ponto.timesheet.schedule import Schedule, parse_schedule

# The marks a month needs reach this far beyond it: a journey crossing into its first day, the rest before its
# first journey (art. 66, 11 hours) and a night journey of its last day ending the next morning.
MARGIN = timedelta(days=2)


@dataclass(frozen=True)
class SheetPerson:
    """Who an espelho is of."""

    employee_id: str
    cpf: str
    name: str
    schedule: str | None  # the schedule's canonical text
    active: bool = True


def month_bounds(month: tuple[int, int]) -> tuple[date, date]:
    """The first and last day of `month` (year, month)."""
    year, number = month
    first = date(year, number, 1)
    following = date(year + number // 12, number % 12 + 1, 1)
    return first, following - timedelta(days=1)


def fetch_window(first: date, last: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The instants whose marks the days `first`..`last` (local) need: the days and MARGIN on each side."""
    start = datetime.combine(first, time(), zone) - MARGIN
    end = datetime.combine(last + timedelta(days=1), time(), zone) + MARGIN
    return start, end


@dataclass
class Schedules:
    """Each distinct schedule text parsed once (`compute_month` caches a month's plan per schedule)."""

    parsed: dict[str, Schedule] = field(default_factory=dict)

    def get(self, text: str | None) -> Schedule | None:
        if text is None:
            return None
        schedule = self.parsed.get(text)
        if schedule is None:
            schedule = self.parsed[text] = parse_schedule(text)
        return schedule


def month_document(person: SheetPerson, result: MonthResult) -> dict[str, Any]:
    """The espelho's JSON of one employee: `MonthResult.as_json` with "schedule" and each day's "holiday"."""
    document = result.as_json(person.employee_id, person.cpf, person.name)
    days: list[dict[str, Any]] = document["days"]  # type: ignore[assignment]
    for shown, day in zip(days, result.days, strict=True):
        shown["holiday"] = day.holiday
    return {
        "employee_id": document["employee_id"],
        "cpf": document["cpf"],
        "name": document["name"],
        "month": document["month"],
        "schedule": person.schedule,
        "days": days,
        "totals": document["totals"],
    }


def csv_document(person: SheetPerson, result: MonthResult) -> dict[str, Any]:
    """What `render_csv` reads of a month, and nothing more: each day's punches, minutes and flags, and of its
    marks only those the CSV lists (the included and the disregarded). The same rows as `month_document`'s,
    without a dict per mark: a CSV of a thousand employees is made in a fraction of the time."""
    days = []
    for day in result.days:
        shown: dict[str, Any] = {"date": day.date.isoformat(), "punches": day.punches, "flags": day.flags}
        for name in MINUTE_FIELDS:
            shown[name] = getattr(day, name)
        shown["marks"] = [
            {"time": line.time, "source": line.mark.source, "disregarded": line.mark.disregarded}
            for line in day.marks
            if line.mark.source == "included" or line.mark.disregarded
        ]
        days.append(shown)
    return {
        "employee_id": person.employee_id,
        "cpf": person.cpf,
        "name": person.name,
        "month": f"{result.year:04d}-{result.month:02d}",
        "days": days,
    }


def employee_months(
    people: Sequence[SheetPerson],
    marks: Iterable[tuple[str, list[Mark]]],
    month: tuple[int, int],
    zone: ZoneInfo,
    calendar: HolidayCalendar,
    *,
    everyone: bool = False,
    today: date | None = None,
) -> Iterator[tuple[SheetPerson, MonthResult]]:
    """Each person's month, in the order of `people`. `marks` gives (employee id, marks) in that same order
    (employees without marks left out). A removed employee is left out unless they have marks in the month
    (or `everyone`)."""
    schedules = Schedules()
    pending = iter(marks)
    ahead = next(pending, None)
    for person in people:
        own: list[Mark] = []
        if ahead is not None and ahead[0] == person.employee_id:
            own = ahead[1]
            ahead = next(pending, None)
        result = compute_month(own, schedules.get(person.schedule), month, zone, calendar, today)
        if everyone or person.active or any(day.marks for day in result.days):
            yield person, result
    if ahead is not None:
        raise ValueError(f"timesheet: marks of employee {ahead[0]} out of the employees' order")
