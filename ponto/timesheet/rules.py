"""The CLT rules an espelho de ponto applies to journeys (REP-P.md), each in one place with the article it
implements. All minutes are whole minutes (see `ponto.timesheet.journeys`)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from ponto.timesheet.journeys import MINUTES_PER_DAY, Journey
from ponto.timesheet.schedule import Schedule

# Art. 58 §1 and TST Súmula 366: up to 5 minutes at each mark and 10 in the day are neither paid nor discounted.
TOLERANCE_MARK_MINUTES = 5
TOLERANCE_DAY_MINUTES = 10

# Art. 73: night work runs from 22:00 to 05:00; its hour is 52 min 30 s.
NIGHT_START = 22 * 60
NIGHT_END = 5 * 60
NIGHT_LENGTH = MINUTES_PER_DAY - NIGHT_START + NIGHT_END
SUNDAY = 6

# Art. 71: more than 6 hours of work need a break of at least 1 hour; more than 4 and up to 6, 15 minutes.
LONG_JOURNEY_MINUTES, LONG_JOURNEY_BREAK = 6 * 60, 60
SHORT_JOURNEY_MINUTES, SHORT_JOURNEY_BREAK = 4 * 60, 15

# Art. 66: at least 11 hours of rest between two journeys.
MIN_REST_MINUTES = 11 * 60


def within_tolerance(punches: Sequence[int], scheduled: Sequence[int]) -> bool:
    """Art. 58 §1, TST Súmula 366: whether a day's punches, taken in order against its scheduled marks (first
    punch to the first start, second to the first end, ...), vary at most 5 minutes each and 10 in all. Minutes
    are from the same midnight."""
    if len(punches) != len(scheduled):
        return False
    total = 0
    for punch, mark in zip(punches, scheduled, strict=True):
        variation = abs(punch - mark)
        if variation > TOLERANCE_MARK_MINUTES:
            return False
        total += variation
    return total <= TOLERANCE_DAY_MINUTES


def paid_at_100(weekday: int, holiday: bool, schedule: Schedule | None) -> bool:
    """TST Súmula 146 (and Lei 605/1949 art. 9): work on a holiday, or on a Sunday the schedule does not name, is
    paid at +100 %. A day off on another weekday (Saturday of a mon-fri schedule) is ordinary overtime (+50 %)."""
    return holiday or (weekday == SUNDAY and (schedule is None or not schedule.works(SUNDAY)))


def overtime(worked: int, scheduled: int, tolerated: bool, at_100: bool) -> tuple[int, int, int]:
    """Art. 59 (+50 %) and Súmula 146 (+100 %): (overtime at 50 %, overtime at 100 %, undertime) of a day. Within
    the tolerance nothing counts; beyond it every minute does (Súmula 366)."""
    if tolerated:
        return 0, 0, 0
    over = worked - scheduled if worked > scheduled else 0
    under = scheduled - worked if scheduled > worked else 0
    return (0, over, under) if at_100 else (over, 0, under)


def night_minutes(journey: Journey) -> int:
    """Art. 73: the clock minutes a journey works between 22:00 and 05:00 local. TST Súmula 60 II: when the
    journey starts at or before 22:00 of its day and still has a pair open at 05:00, what it works after 05:00 is
    night work too."""
    midnight = journey.day * MINUTES_PER_DAY
    extension_start = midnight + MINUTES_PER_DAY + NIGHT_END  # 05:00 after the journey's night
    extended = journey.start.local <= midnight + NIGHT_START and any(
        pair.start.local < extension_start < pair.end.local for pair in journey.pairs
    )
    # The extension runs until the next night begins, which the night windows count again.
    extension_end = extension_start + NIGHT_START - NIGHT_END
    total = 0
    for pair in journey.pairs:
        start, end = pair.start.local, pair.end.local
        minutes = _night_overlap(start, end)
        if extended:
            low = start if start > extension_start else extension_start
            high = end if end < extension_end else extension_end
            if high > low:
                minutes += high - low
        # Wall-clock minutes pass real ones only when the UTC offset changes inside the pair.
        elapsed = pair.end.utc - pair.start.utc
        total += minutes if minutes < elapsed else elapsed
    return total


def _night_overlap(start: int, end: int) -> int:
    # Night windows start at 22:00 of each day; the first that can reach `start` began the day before.
    total = 0
    window = (start // MINUTES_PER_DAY - 1) * MINUTES_PER_DAY + NIGHT_START
    while window < end:
        low = start if start > window else window
        high = end if end < window + NIGHT_LENGTH else window + NIGHT_LENGTH
        if high > low:
            total += high - low
        window += MINUTES_PER_DAY
    return total


def reduced_night(minutes: int) -> int:
    """Art. 73 §1: night clock minutes as paid minutes: times 60 / 52.5 (= 8 / 7), rounded half up."""
    return (minutes * 16 + 7) // 14


def short_break(journey: Journey) -> bool:
    """Art. 71: whether a journey's longest break between its pairs is shorter than the one its worked minutes
    need (more than 6 hours: 60 minutes; more than 4 and up to 6: 15 minutes)."""
    if journey.worked > LONG_JOURNEY_MINUTES:
        needed = LONG_JOURNEY_BREAK
    elif journey.worked > SHORT_JOURNEY_MINUTES:
        needed = SHORT_JOURNEY_BREAK
    else:
        return False
    longest = 0
    for before, after in itertools.pairwise(journey.pairs):
        gap = after.start.utc - before.end.utc
        if gap > longest:
            longest = gap
    return longest < needed


def short_rest(previous: Journey, following: Journey) -> bool:
    """Art. 66: whether fewer than 11 hours separate a journey's last punch from the next journey's first."""
    return following.start.utc - previous.end.utc < MIN_REST_MINUTES
