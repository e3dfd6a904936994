"""`ponto verify`: an establishment's record recomputed from the database (art. 78: recorded data is
never altered). NSRs from 1 without gaps, each line as the layout wants it, every punch's SHA-256
chained to the previous one from the first punch on, each seal's punch time that of its punch row, and
the head where the record ends. Plain Python over the rows the store streams."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from ponto.record import afd
from ponto.record.seal import Head


@dataclass
class ChainReport:
    establishment_id: int
    records: int = 0
    punches: int = 0
    first_broken_nsr: int | None = None
    problems: list[str] = field(default_factory=list)  # ids and NSRs only, never personal data

    @property
    def ok(self) -> bool:
        return self.first_broken_nsr is None and not self.problems

    def broken(self, nsr: int, reason: str) -> None:
        if self.first_broken_nsr is None:
            self.first_broken_nsr = nsr
        if len(self.problems) < 100:
            self.problems.append(f"NSR {nsr:09d}: {reason}")


def verify_chain(establishment_id: int, rows: Iterable[tuple[int, int, str, int | None]], head: Head) -> ChainReport:
    """`rows`: (nsr, record type, line, the punch row's time in epoch seconds or None) in NSR order."""
    report = ChainReport(establishment_id)
    expected_nsr = 1
    previous_hash: str | None = None
    last_nsr = 0
    for nsr, record_type, line, punch_epoch in rows:
        report.records += 1
        last_nsr = nsr
        if nsr != expected_nsr:
            report.broken(expected_nsr, f"missing (the next record has NSR {nsr:09d})")
        expected_nsr = nsr + 1
        kind = str(record_type)
        if len(line) != afd.RECORD_LENGTHS.get(kind, -1) or line[9:10] != kind or line[:9] != f"{nsr:09d}":
            report.broken(nsr, "the line is not a well-formed record of its type and NSR")
            continue
        if kind in afd.CRC_TYPES:
            body, crc = line[:-4], line[-4:]
            if f"{afd.crc16_kermit(body.encode(afd.ENCODING)):04X}" != crc:
                report.broken(nsr, "CRC mismatch")
            continue
        if kind != "7":
            continue
        report.punches += 1
        prefix, stored = line[:73], line[73:]
        computed = afd.punch_hash(prefix, previous_hash)
        if computed != stored:
            report.broken(nsr, "hash chain broken (the record or the one before it was changed)")
        previous_hash = stored
        if punch_epoch is None:
            report.broken(nsr, "its punch is missing from punches")
        elif _minute(line[10:34]) != punch_epoch // 60:
            report.broken(nsr, "the punch time differs from its punch row")
    if head.last_nsr != last_nsr:
        report.broken(
            min(head.last_nsr, last_nsr) + 1,
            f"the head says NSR {head.last_nsr:09d}, the record ends at {last_nsr:09d}",
        )
    if head.last_hash != previous_hash:
        report.broken(last_nsr or 1, "the head's hash is not the last punch's")
    return report


_EPOCH_DAY = date(1970, 1, 1).toordinal()
_MINUTES: dict[str, int | None] = {}  # a burst shares its minutes


def _minute(dh: str) -> int | None:
    """A DH field ('AAAA-MM-ddThh:mm:00-0300') as epoch minutes; None if it is not one."""
    known = _MINUTES.get(dh, -1)
    if known != -1:
        return known
    try:
        days = date(int(dh[0:4]), int(dh[5:7]), int(dh[8:10])).toordinal() - _EPOCH_DAY
        offset = int(dh[20:22]) * 60 + int(dh[22:24])
        if dh[19] not in "+-" or dh[4] + dh[7] + dh[10] + dh[13] + dh[16] != "--T::":
            raise ValueError(dh)
        minute: int | None = days * 1440 + int(dh[11:13]) * 60 + int(dh[14:16]) - (offset if dh[19] == "+" else -offset)
    except (ValueError, IndexError):
        minute = None
    if len(_MINUTES) > 100_000:
        _MINUTES.clear()
    _MINUTES[dh] = minute
    return minute
