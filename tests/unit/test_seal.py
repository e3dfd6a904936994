"""The seal and the chain check, as plain Python (the store's side runs in tests/integration)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from ponto.record import afd, seal
from ponto.record.seal import Head, Sealable
from ponto.record.verify import verify_chain

SP = ZoneInfo("America/Sao_Paulo")
CPF = "11144477735"
NOW = datetime(2026, 11, 24, 11, 0, 30, tzinfo=UTC)


def head(last_nsr: int = 0, last_hash: str | None = None, last_recorded_at: datetime | None = None) -> Head:
    return Head(1, last_nsr, last_hash, last_recorded_at, SP)


def punch(n: int, at: datetime, *, offline: bool = False) -> Sealable:
    return Sealable(f"p{n}", at, CPF, afd.COLLECTORS["browser"], offline)


def test_a_batch_takes_consecutive_nsrs_and_chains_from_the_head() -> None:
    # Given a head at NSR 41 whose last punch hash is h
    previous = "ab" * 32
    punches = [punch(n, NOW - timedelta(seconds=n * 20)) for n in range(3)]
    # When three punches are sealed
    records, moved = seal.seal(head(41, previous), punches, NOW)
    # Then NSRs 42..44, each line's hash chains to the one before, the first to the head's
    assert [r.nsr for r in records] == [42, 43, 44]
    chain = previous
    for record in records:
        expected = hashlib.sha256(record.line[:73].encode("iso-8859-1") + chain.encode()).hexdigest()
        assert record.line[73:] == expected
        chain = expected
    assert (moved.last_nsr, moved.last_hash, moved.last_recorded_at) == (44, chain, NOW)
    # And each line says the punch's own minute in the establishment's zone, and "recorded" now
    assert records[0].line[10:34] == "2026-11-24T08:00:00-0300"
    assert records[2].line[10:34] == "2026-11-24T07:59:00-0300"
    assert {r.line[46:70] for r in records} == {"2026-11-24T08:00:00-0300"}
    assert {r.line[70:73] for r in records} == {"020"}


def test_punches_in_other_offsets_are_written_in_the_establishment_zone() -> None:
    at = datetime(2026, 11, 24, 16, 30, 59, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    (record,), _ = seal.seal(head(), [punch(1, at, offline=True)], NOW)
    assert record.line[10:34] == "2026-11-24T08:00:00-0300"
    assert record.line[72] == "1"
    assert record.line[73:] == hashlib.sha256(record.line[:73].encode()).hexdigest()


def test_recording_time_never_goes_back_in_nsr_order() -> None:
    # A writer whose clock is behind the last record's time records at that time, not before it
    later = NOW + timedelta(minutes=3)
    records, moved = seal.seal(head(10, None, later), [punch(1, NOW)], NOW)
    assert records[0].recorded_at == later and moved.last_recorded_at == later
    _, unchanged = seal.seal(head(10, None, later), [], NOW)
    assert unchanged.last_nsr == 10 and unchanged.last_recorded_at == later


def test_the_nine_digit_nsr_cannot_overflow() -> None:
    with pytest.raises(seal.RecordFullError):
        seal.seal(head(afd.MAX_NSR), [punch(1, NOW)], NOW)


def chain_rows(records: list[seal.SealedRecord]) -> list[tuple[int, int, str, int | None]]:
    return [(r.nsr, 7, r.line, int((NOW - timedelta(seconds=13 * i)).timestamp())) for i, r in enumerate(records)]


def test_verify_accepts_a_sealed_chain_and_finds_each_kind_of_break() -> None:
    registry_line = afd.employee_record(nsr=1, recorded_at=afd.dh(NOW, SP), operation="I", cpf=CPF, name="Ana",
                                        responsible_cpf=CPF)  # fmt: skip
    records, moved = seal.seal(head(1), [punch(n, NOW - timedelta(seconds=13 * n)) for n in range(5)], NOW)
    rows = [(1, 5, registry_line, None), *chain_rows(records)]
    assert verify_chain(1, rows, moved).ok
    # A punch line changed: the chain breaks there
    changed = list(rows)
    nsr, kind, line, epoch = changed[3]
    changed[3] = (nsr, kind, line[:45] + ("0" if line[45] != "0" else "1") + line[46:], epoch)
    report = verify_chain(1, changed, moved)
    assert report.first_broken_nsr == nsr
    # A record missing: a gap
    assert verify_chain(1, rows[:2] + rows[3:], moved).first_broken_nsr == 3
    # A type-5 record with a wrong CRC
    bad_crc = [(1, 5, registry_line[:-4] + "0000", None), *rows[1:]]
    assert verify_chain(1, bad_crc, moved).first_broken_nsr == 1
    # The punch row says another minute
    other_time = list(rows)
    nsr, kind, line, epoch = other_time[2]
    other_time[2] = (nsr, kind, line, (epoch or 0) + 3600)
    assert verify_chain(1, other_time, moved).first_broken_nsr == nsr
    # The head says more than the record holds
    assert not verify_chain(1, rows, Head(1, moved.last_nsr + 1, moved.last_hash, None, SP)).ok
