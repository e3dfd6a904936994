"""Work schedules (the contractual journey an espelho compares punches with), in a short text form:

    mon-fri 08:00-12:00 13:00-17:00; sat 08:00-12:00
    mon,wed,fri 22:00-02:00 03:00-05:00

Day groups are separated by `;`; a group names its days (`mon`..`sun`, ranges `mon-fri` and lists `mon,wed`; the
week is a cycle, so `sun-thu` is Sunday to Thursday) and then its time ranges, in time order. A time earlier than
the one before it is on the next day: that is how a range (`22:00-05:00`) or a break crosses midnight; the ranges
belong to the day they start. Days not named are days off.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # index = date.weekday()
MINUTES_PER_DAY = 1440
# A longer gap between two of a day's ranges is the rest between two days' journeys (art. 66), not a break: a
# group whose ranges are out of order ("13:00-17:00 08:00-12:00") is refused rather than read as the next morning.
MAX_BREAK_MINUTES = 11 * 60

_DAYS_HINT = f"(days: {' '.join(DAY_NAMES)})"
_TIME = re.compile(r"(\d{1,2}):(\d{2})")


class ScheduleError(ValueError):
    """A schedule's text is not valid; the message is one line naming the bad part."""


class Interval(NamedTuple):
    """A scheduled range in minutes from its day's midnight; `end` passes 1440 when it crosses midnight."""

    start: int
    end: int

    @property
    def minutes(self) -> int:
        """Its length in minutes."""
        return self.end - self.start


@dataclass(frozen=True)
class Schedule:
    """A weekly schedule: for each weekday (0 = Monday, as `date.weekday()`), its ranges in time order."""

    days: tuple[tuple[Interval, ...], ...]

    def intervals(self, weekday: int) -> tuple[Interval, ...]:
        """The ranges scheduled on `weekday` (empty on a day off)."""
        return self.days[weekday]

    def minutes(self, weekday: int) -> int:
        """The minutes scheduled on `weekday`."""
        return sum(interval.end - interval.start for interval in self.days[weekday])

    def marks(self, weekday: int) -> tuple[int, ...]:
        """The scheduled marks of `weekday` in order (start, end, start, end, ...), in minutes from its midnight."""
        return tuple(minute for interval in self.days[weekday] for minute in interval)

    def works(self, weekday: int) -> bool:
        """Whether the schedule names `weekday` (a working day)."""
        return bool(self.days[weekday])

    @property
    def text(self) -> str:
        """The canonical text: days with the same ranges grouped, in weekday order; `parse_schedule` reads it back."""
        grouped: dict[tuple[Interval, ...], list[int]] = {}
        for weekday, intervals in enumerate(self.days):
            if intervals:
                grouped.setdefault(intervals, []).append(weekday)
        return "; ".join(
            f"{_days_text(weekdays)} {' '.join(_range_text(interval) for interval in intervals)}"
            for intervals, weekdays in grouped.items()
        )


def parse_schedule(text: str) -> Schedule:
    """Read a schedule's text form (see the module's docstring); raise `ScheduleError` naming the bad part."""
    days: list[tuple[Interval, ...] | None] = [None] * 7
    groups = [group.strip() for group in text.split(";") if group.strip()]
    if not groups:
        raise ScheduleError('schedule: empty (e.g. "mon-fri 08:00-12:00 13:00-17:00")')
    for group in groups:
        head, *ranges = group.split()
        weekdays = _parse_days(head)
        if not ranges:
            raise ScheduleError(f'schedule: "{group}" has no time ranges (HH:MM-HH:MM)')
        intervals = _parse_ranges(group, ranges)
        for weekday in weekdays:
            if days[weekday] is not None:
                raise ScheduleError(f'schedule: "{DAY_NAMES[weekday]}" is named twice')
            days[weekday] = intervals
    schedule = Schedule(tuple(intervals or () for intervals in days))
    _check_days_apart(schedule)
    return schedule


def _parse_days(head: str) -> list[int]:
    weekdays: list[int] = []
    for item in head.lower().split(","):
        first, dash, last = item.partition("-")
        if first not in DAY_NAMES or (dash and last not in DAY_NAMES):
            raise ScheduleError(f'schedule: "{head}" is not a day group {_DAYS_HINT}')
        start = DAY_NAMES.index(first)
        end = DAY_NAMES.index(last) if dash else start
        # The week is a cycle: "sun-thu" is sun, mon, tue, wed, thu.
        for weekday in (day % 7 for day in range(start, end + 1 if end >= start else end + 8)):
            if weekday in weekdays:
                raise ScheduleError(f'schedule: "{DAY_NAMES[weekday]}" is named twice')
            weekdays.append(weekday)
    return weekdays


def _parse_time(token: str) -> int:
    match = _TIME.fullmatch(token)
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        raise ScheduleError(f'schedule: "{token}" is not a time (HH:MM, 00:00 to 23:59)')
    return int(match[1]) * 60 + int(match[2])


def _parse_ranges(group: str, tokens: list[str]) -> tuple[Interval, ...]:
    intervals: list[Interval] = []
    for token in tokens:
        start_text, dash, end_text = token.partition("-")
        if not dash or "-" in end_text:
            raise ScheduleError(f'schedule: "{token}" is not a time range (HH:MM-HH:MM)')
        start_clock, end_clock = _parse_time(start_text), _parse_time(end_text)
        if start_clock == end_clock:
            raise ScheduleError(f'schedule: "{token}" is an empty range')
        if not intervals:
            start = start_clock
        else:
            previous = intervals[-1]
            same_day = previous.end - previous.end % MINUTES_PER_DAY + start_clock
            start = same_day if same_day >= previous.end else same_day + MINUTES_PER_DAY
            if start - previous.end >= MAX_BREAK_MINUTES:
                if start == same_day:
                    raise ScheduleError(
                        f'schedule: "{token}" starts {(start - previous.end) / 60:g} hours after '
                        f'"{_range_text(previous)}" ends (a break is shorter than 11 hours)'
                    )
                # On the previous range's day this one starts before that one ends.
                what = "overlaps" if same_day >= previous.start else "comes before"
                raise ScheduleError(
                    f'schedule: "{token}" {what} "{_range_text(previous)}" (list a day\'s ranges in time order)'
                )
        end = start - start % MINUTES_PER_DAY + end_clock
        if end < start:
            end += MINUTES_PER_DAY
        intervals.append(Interval(start, end))
        if end - intervals[0].start > MINUTES_PER_DAY:
            raise ScheduleError(f'schedule: "{group}" spans more than 24 hours')
    return tuple(intervals)


def _check_days_apart(schedule: Schedule) -> None:
    # A day's last range must end before the next day's first one starts (Sunday runs into Monday).
    for weekday, intervals in enumerate(schedule.days):
        following = (weekday + 1) % 7
        upcoming = schedule.days[following]
        if intervals and upcoming and intervals[-1].end > upcoming[0].start + MINUTES_PER_DAY:
            raise ScheduleError(
                f"schedule: {DAY_NAMES[weekday]} {_range_text(intervals[-1])} runs into "
                f"{DAY_NAMES[following]} {_range_text(upcoming[0])}"
            )


def _clock(minute: int) -> str:
    minute %= MINUTES_PER_DAY
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _range_text(interval: Interval) -> str:
    return f"{_clock(interval.start)}-{_clock(interval.end)}"


def _days_text(weekdays: list[int]) -> str:
    runs: list[list[int]] = []
    for weekday in weekdays:
        if runs and runs[-1][-1] == weekday - 1:
            runs[-1].append(weekday)
        else:
            runs.append([weekday])
    if len(runs) > 1 and runs[0][0] == 0 and runs[-1][-1] == 6:
        runs = [runs[-1] + runs[0], *runs[1:-1]]  # a run through Sunday into Monday reads "sun-thu"
    return ",".join(DAY_NAMES[run[0]] if len(run) == 1 else f"{DAY_NAMES[run[0]]}-{DAY_NAMES[run[-1]]}" for run in runs)
