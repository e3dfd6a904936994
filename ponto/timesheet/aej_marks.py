"""What the AEJ (`ponto.timesheet.aej`) is made of, from the timesheet's marks and schedules: record 04 per
distinct daily journey of the employees' schedules, record 05 per mark with its tpMarc, seqEntSaida and
fonteMarc. Plain Python.

- A schedule names a journey per weekday; record 04 holds one journey (its entry/exit pairs and its duration),
  so each distinct daily journey of the file's schedules is one record 04. Its code is the journey itself,
  "0800-1200 1300-1700" (up to three pairs fit the code's 30 characters), else "H01", "H02", ... in the order
  the journeys first appear. durJornada counts the night minutes (22:00-05:00) as reduced night hours (art. 73).
- Marks are paired into journeys as the espelho pairs them (`ponto.timesheet.journeys`): a pair's first mark is
  an entry (E), its second an exit (S); an unpaired mark is an exit when its kind closes a pair (out,
  break_start), else an entry. A disregarded mark is D, numbered with the pair open at its time in the journey
  it falls within (`aej.number_pairs`). The first entry of a journey names the schedule of its day's weekday,
  or, on a day the schedule does not name, the employee's (their schedule's most frequent daily journey).
- fonteMarc: O for the clock's punches (REP `REP_ID`), I for punches included by hand; motivo is the
  treatment's reason (included, disregarded, or both).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from ponto.timesheet import aej, rules
from ponto.timesheet.compute import Mark
from ponto.timesheet.espelho import Schedules, SheetPerson
from ponto.timesheet.journeys import KIND_OPENS, MINUTES_PER_DAY, Punch, build_journeys
from ponto.timesheet.schedule import Interval, Schedule

REP_ID = "rep-p"  # the one REP of the file: this REP-P
MAX_DESCRIPTIVE_CODE = 30


@dataclass(frozen=True)
class TreatedMark:
    """A mark as record 05 states it."""

    mark: Mark
    tp_marc: str  # E, S or D
    seq: int  # seqEntSaida
    journey_day: date  # the local date of its journey's first mark (its own, for a lone disregarded mark)
    local_day: date  # its own local date


def _night_minutes(interval: Interval) -> int:
    total = 0
    for day in range(-1, 3):
        window = day * MINUTES_PER_DAY + rules.NIGHT_START
        low = max(interval.start, window)
        high = min(interval.end, window + rules.NIGHT_LENGTH)
        if high > low:
            total += high - low
    return total


def _hhmm(minute: int) -> str:
    minute %= MINUTES_PER_DAY
    return f"{minute // 60:02d}{minute % 60:02d}"


class ScheduleCodes:
    """Record 04's journeys, each with its code, as the employees' schedules are seen."""

    def __init__(self) -> None:
        self.records: dict[tuple[Interval, ...], aej.AejSchedule] = {}

    def code(self, intervals: tuple[Interval, ...]) -> str:
        found = self.records.get(intervals)
        if found is None:
            pairs = tuple((_hhmm(interval.start), _hhmm(interval.end)) for interval in intervals)
            code = " ".join(f"{entry}-{exit_}" for entry, exit_ in pairs)
            if len(code) > MAX_DESCRIPTIVE_CODE:
                code = f"H{len(self.records) + 1:02d}"
            night = sum(_night_minutes(interval) for interval in intervals)
            minutes = sum(interval.minutes for interval in intervals) - night + rules.reduced_night(night)
            found = self.records[intervals] = aej.AejSchedule(code, minutes, pairs)
        return found.code

    def weekday_codes(self, schedule: Schedule) -> tuple[tuple[str | None, ...], str]:
        """The code of each weekday's journey (None on a day off) and the schedule's default code."""
        codes = tuple(
            self.code(schedule.intervals(weekday)) if schedule.works(weekday) else None for weekday in range(7)
        )
        named = [code for code in codes if code is not None]
        return codes, max(named, key=named.count)  # the most frequent; the first weekday's on a tie


def treated_marks(marks: Sequence[Mark], zone: ZoneInfo) -> list[TreatedMark]:
    """The marks of one employee (any order) with their tpMarc and seqEntSaida, in time order."""
    rows = sorted(marks, key=lambda mark: (mark.at, mark.punch_id))
    minutes: list[tuple[int, int]] = []  # (utc minute, local minute)
    for mark in rows:
        local = mark.at.astimezone(zone)
        offset = local.utcoffset()
        assert offset is not None
        minute = local.toordinal() * MINUTES_PER_DAY + local.hour * 60 + local.minute
        minutes.append((minute - int(offset.total_seconds()) // 60, minute))
    treated = [
        Punch(utc, local, KIND_OPENS.get(mark.kind or ""), index)
        for index, (mark, (utc, local)) in enumerate(zip(rows, minutes, strict=True))
        if not mark.disregarded
    ]
    journeys = build_journeys(treated)
    starts = [journey.start.utc for journey in journeys]
    members: list[list[int]] = [[punch.row for punch in journey.punches] for journey in journeys]
    exits = {pair.end.row for journey in journeys for pair in journey.pairs}
    closes = {punch.row for punch in treated if punch.opens is False}
    alone: list[int] = []
    for index, mark in enumerate(rows):
        if mark.disregarded:
            utc = minutes[index][0]
            found = bisect.bisect_right(starts, utc) - 1
            if found >= 0 and utc <= journeys[found].end.utc:
                members[found].append(index)
            else:
                alone.append(index)
    out: list[TreatedMark] = []
    for journey, indexes in zip(journeys, members, strict=True):
        indexes.sort()
        tp_marcs = [
            aej.DISREGARDED if rows[i].disregarded else aej.EXIT if i in exits or i in closes else aej.ENTRY
            for i in indexes
        ]
        day = date.fromordinal(journey.day)
        for i, tp_marc, seq in zip(indexes, tp_marcs, aej.number_pairs(tp_marcs), strict=True):
            out.append(TreatedMark(rows[i], tp_marc, seq, day, date.fromordinal(minutes[i][1] // MINUTES_PER_DAY)))
    for i in alone:
        own = date.fromordinal(minutes[i][1] // MINUTES_PER_DAY)
        out.append(TreatedMark(rows[i], aej.DISREGARDED, 1, own, own))
    out.sort(key=lambda treated_mark: (treated_mark.mark.at, treated_mark.mark.punch_id))
    return out


def aej_file_lines(
    *,
    employer: aej.AejEmployer,
    first: date,
    last: date,
    generated_at: datetime,
    zone: ZoneInfo,
    rep_number: str,
    people: Sequence[SheetPerson],
    marks: Iterable[tuple[str, list[Mark]]],
    program: aej.AejProgram,
) -> list[str]:
    """Every line of the establishment's AEJ of the days `first`..`last` (local): the employees that are active
    or have marks in it (record 03), their schedules' journeys (04), their marks of those days (05), this REP-P
    (02). `marks`: (employee id, marks) in the order of `people`, reaching MARGIN beyond the days, so journeys
    crossing the period's edges pair as they do in the espelho. ValueError (one line, ids only) when an employee
    with marks in the period has no schedule (the first entry of a journey must name one)."""
    by_id = dict(marks)
    schedules = Schedules()
    codes = ScheduleCodes()
    employees: list[aej.AejEmployee] = []
    aej_marks: list[aej.AejMark] = []
    unscheduled: list[str] = []
    for person in people:
        entries = [
            entry
            for entry in treated_marks(by_id.get(person.employee_id, []), zone)
            if first <= entry.local_day <= last
        ]
        if not entries and not person.active:
            continue
        schedule = schedules.get(person.schedule)
        weekday_codes: tuple[str | None, ...] = (None,) * 7
        default = None
        if schedule is not None:
            weekday_codes, default = codes.weekday_codes(schedule)
        elif entries:
            unscheduled.append(person.employee_id)
        employees.append(aej.AejEmployee(person.employee_id, person.cpf, person.name, default))
        for entry in entries:
            mark = entry.mark
            aej_marks.append(
                aej.AejMark(
                    employee_id=person.employee_id,
                    at=mark.at,
                    tp_marc=entry.tp_marc,
                    seq=entry.seq,
                    fonte_marc=aej.ORIGINAL if mark.source == "original" else aej.INCLUDED,
                    rep_id=REP_ID if mark.source == "original" else None,
                    schedule_code=weekday_codes[entry.journey_day.weekday()],
                    motivo=mark.reason,
                )
            )
    if unscheduled:
        shown = ", ".join(unscheduled[:10]) + (f" and {len(unscheduled) - 10} more" if len(unscheduled) > 10 else "")
        raise ValueError(
            f"AEJ: employees with marks in the period and no contractual schedule: {shown}"
            " (set one with `ponto employee update --schedule`)"
        )
    return aej.aej_lines(
        employer=employer,
        period_start=first,
        period_end=last,
        generated_at=generated_at,
        zone=zone,
        reps=[aej.AejRep(REP_ID, rep_number)],
        employees=employees,
        schedules=list(codes.records.values()),
        marks=aej_marks,
        program=program,
    )
