"""Journeys (REP-P.md, "CLT rules a timesheet applies"): an employee's treated punches, in time order, paired as
in/out and cut into journeys. A journey belongs to the local date of its first punch, also when it crosses
midnight; a punch left without its pair is kept as such (`missing_punch`), never filled in.

Punches are whole minutes: each is truncated to its minute (seconds dropped, as the AFD writes every punch time
with seconds `00`), and everything after that is integer arithmetic on those minutes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

MINUTES_PER_DAY = 1440
# A new journey starts when more than 4 hours pass with no pair open (since the journey's last punch): a break is
# 1 to 2 hours (art. 71; longer only by agreement), and two journeys less than 11 hours apart are a short rest
# (art. 66), which is flagged rather than merged.
MAX_GAP_MINUTES = 4 * 60
# A pair stays open at most 13 hours (a 12-hour shift of the 12x36 regime, art. 59-A, and an hour more): a punch
# later than that starts a new journey and leaves the open punch unpaired. Without this bound a forgotten exit
# would pair the evening's last punch with the next morning's first and shift every pair after it.
MAX_PAIR_MINUTES = 13 * 60

# The kinds a clock sends: whether a punch of that kind opens a pair (an entry) or closes one (an exit).
KIND_OPENS = {"in": True, "break_end": True, "out": False, "break_start": False}


class Punch(NamedTuple):
    """A treated punch as the rules see it."""

    utc: int  # minutes since the Unix epoch: durations and gaps (right across a change of UTC offset)
    local: int  # local wall-clock minutes since 0001-01-01 (date.toordinal() * 1440 + hh * 60 + mm)
    opens: bool | None  # True for in/break_end, False for out/break_start, None when the clock sent no kind
    row: int  # the position of the mark it came from in the caller's list


class Pair(NamedTuple):
    """A complete in/out pair: the work between its two punches."""

    start: Punch
    end: Punch


class Journey(NamedTuple):
    """Consecutive punches worked as one journey."""

    day: int  # date.toordinal() of its first punch's local date
    punches: tuple[Punch, ...]
    pairs: tuple[Pair, ...]
    unpaired: tuple[Punch, ...]
    worked: int  # minutes inside its pairs

    @property
    def start(self) -> Punch:
        """Its first punch."""
        return self.punches[0]

    @property
    def end(self) -> Punch:
        """Its last punch, paired or not."""
        return self.punches[-1]


def build_journeys(punches: Iterable[Punch]) -> list[Journey]:
    """Pair `punches` (treated, in time order) and cut them into journeys. A punch's kind decides whether it
    opens or closes a pair; without a kind punches alternate, starting afresh with each journey."""
    journeys: list[Journey] = []
    current: list[Punch] = []
    pairs: list[Pair] = []
    unpaired: list[Punch] = []
    opened: Punch | None = None
    for punch in punches:
        opens = punch.opens if punch.opens is not None else opened is None
        if current:
            # With a pair open the employee is at work; otherwise the gap is time off.
            if opened is not None:
                new_journey = punch.utc - opened.utc > MAX_PAIR_MINUTES
            else:
                new_journey = punch.utc - current[-1].utc > MAX_GAP_MINUTES
            if new_journey:
                if opened is not None:
                    unpaired.append(opened)
                journeys.append(_journey(current, pairs, unpaired))
                current, pairs, unpaired, opened = [], [], [], None
                opens = punch.opens if punch.opens is not None else True
        current.append(punch)
        if opens:
            if opened is not None:
                unpaired.append(opened)
            opened = punch
        elif opened is not None:
            pairs.append(Pair(opened, punch))
            opened = None
        else:
            unpaired.append(punch)
    if current:
        if opened is not None:
            unpaired.append(opened)
        journeys.append(_journey(current, pairs, unpaired))
    return journeys


def _journey(punches: list[Punch], pairs: list[Pair], unpaired: list[Punch]) -> Journey:
    worked = 0
    for pair in pairs:
        worked += pair.end.utc - pair.start.utc
    return Journey(punches[0].local // MINUTES_PER_DAY, tuple(punches), tuple(pairs), tuple(unpaired), worked)
