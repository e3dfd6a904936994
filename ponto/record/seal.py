"""The seal of a punch (art. 74-78; REP-P.md): its establishment's next NSR, its recording time, the
collector that took it, online or offline, and its SHA-256 chained to the establishment's previous
punch. Plain Python over plain data: the store locks the head, this computes, the store writes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

from ponto.record import afd

MAX_NSR = afd.MAX_NSR


@dataclass(frozen=True)
class Head:
    """Where an establishment's record ends: its last NSR, last punch hash and last recording time."""

    establishment_id: int
    last_nsr: int
    last_hash: str | None
    last_recorded_at: datetime | None
    zone: ZoneInfo


class Sealable(NamedTuple):
    """What the seal takes from a punch and from the registry (its employee and its device)."""

    punch_id: str
    punched_at: datetime  # aware
    cpf: str
    collector: int  # afd.COLLECTORS
    offline: bool


class SealedRecord(NamedTuple):
    """A type-7 row of afd_records."""

    establishment_id: int
    nsr: int
    recorded_at: datetime
    punch_id: str
    line: str


class RecordFullError(Exception):
    """The establishment's NSR would pass 999,999,999 (the AFD's nine digits)."""


def recording_time(head: Head, now: datetime) -> datetime:
    """The recording time of the records appended now: never before the establishment's last one, so
    recording times follow NSR order even when two writers' clocks disagree."""
    last = head.last_recorded_at
    return now if last is None or now >= last else last


def seal(head: Head, punches: Iterable[Sealable], now: datetime) -> tuple[list[SealedRecord], Head]:
    """Seal `punches` in the order given, after `head`; return their records and the new head."""
    recorded_at = recording_time(head, now)
    zone = head.zone
    recorded_dh = afd.dh(recorded_at, zone)
    # A burst shares its minutes: one DH text per minute of punch time (the DH has no seconds).
    minute_texts: dict[int, str] = {}
    nsr, previous = head.last_nsr, head.last_hash
    records: list[SealedRecord] = []
    for punch in punches:
        nsr += 1
        if nsr > MAX_NSR:
            raise RecordFullError(f"establishment {head.establishment_id}: the NSR would pass {MAX_NSR}")
        minute = int(punch.punched_at.timestamp()) // 60
        punched_dh = minute_texts.get(minute)
        if punched_dh is None:
            punched_dh = minute_texts[minute] = afd.dh(punch.punched_at, zone)
        prefix = afd.punch_prefix(
            nsr=nsr,
            punched_at=punched_dh,
            cpf=punch.cpf,
            recorded_at=recorded_dh,
            collector=punch.collector,
            offline=punch.offline,
        )
        previous = afd.punch_hash(prefix, previous)
        records.append(
            SealedRecord(head.establishment_id, nsr, recorded_at, punch.punch_id, afd.punch_record(prefix, previous))
        )
    return records, Head(head.establishment_id, nsr, previous, recorded_at if records else head.last_recorded_at, zone)
