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
    registry_nsr: int = 0  # the NSR of its last registry record (type 2 or 5)


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


class Chain:
    """An establishment's record from its head on, while a writer holds the head's lock: each punch
    sealed takes the next NSR and chains to the one before. Sealing is lazy, one punch at a time, so the
    store can stream the records into the database while the rest are being sealed."""

    def __init__(self, head: Head, now: datetime) -> None:
        self._establishment_id = head.establishment_id
        self._zone = head.zone
        self._first_nsr = head.last_nsr
        self._nsr = head.last_nsr
        self._hash = head.last_hash
        self._last_recorded_at = head.last_recorded_at
        self._registry_nsr = head.registry_nsr
        self._recorded_at = recording_time(head, now)
        self._recorded_dh = afd.dh(self._recorded_at, head.zone)
        # A burst shares its minutes: one DH text per minute of punch time (the DH has no seconds).
        self._minutes: dict[int, str] = {}

    def seal(self, punch_id: str, punched_at: datetime, cpf: str, collector: int, offline: bool) -> SealedRecord:
        nsr = self._nsr + 1
        if nsr > MAX_NSR:
            raise RecordFullError(f"establishment {self._establishment_id}: the NSR would pass {MAX_NSR}")
        minute = int(punched_at.timestamp()) // 60
        punched_dh = self._minutes.get(minute)
        if punched_dh is None:
            punched_dh = self._minutes[minute] = afd.dh(punched_at, self._zone)
        prefix = afd.punch_prefix(
            nsr=nsr, punched_at=punched_dh, cpf=cpf, recorded_at=self._recorded_dh, collector=collector,
            offline=offline,
        )  # fmt: skip
        self._hash = afd.punch_hash(prefix, self._hash)
        self._nsr = nsr
        return SealedRecord(
            self._establishment_id, nsr, self._recorded_at, punch_id, afd.punch_record(prefix, self._hash)
        )

    @property
    def sealed(self) -> int:
        """How many punches this chain has sealed."""
        return self._nsr - self._first_nsr

    @property
    def head(self) -> Head:
        """The head after what was sealed so far."""
        moved = self._nsr != self._first_nsr
        recorded_at = self._recorded_at if moved else self._last_recorded_at
        return Head(self._establishment_id, self._nsr, self._hash, recorded_at, self._zone, self._registry_nsr)


def seal(head: Head, punches: Iterable[Sealable], now: datetime) -> tuple[list[SealedRecord], Head]:
    """Seal `punches` in the order given, after `head`; return their records and the new head."""
    chain = Chain(head, now)
    records = [chain.seal(*punch) for punch in punches]
    return records, chain.head
