"""Draining a batch of queued punches into the store: the core of the worker Lambda."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any, Protocol

from ponto.errors import InvalidPunchError, RowRejectedError, StoreError
from ponto.punch import Punch, parse_record
from ponto.store import WriteResult

logger = logging.getLogger(__name__)


class PunchWriter(Protocol):
    def record(self, punches: Iterable[Punch]) -> WriteResult: ...


@dataclass
class BatchOutcome:
    size: int = 0
    recorded: int = 0
    duplicates: int = 0
    sealed: int = 0  # new punches sealed now (NSR, hash)
    unsealed: int = 0  # new punches whose device or employee is not registered yet: recorded, not sealed
    rejected: dict[str, str] = field(default_factory=dict)  # message id -> reason (goes to the DLQ)
    unwritten: list[str] = field(default_factory=list)  # message ids the store failed (retried)
    max_lead_time_ms: float | None = None  # written_at - received_at, of the oldest new row
    max_punch_age_ms: float | None = None  # written_at - punched_at, of the oldest new row

    @property
    def failed_message_ids(self) -> list[str]:
        return [*self.rejected, *self.unwritten]

    def batch_response(self) -> dict[str, list[dict[str, str]]]:
        """The partial batch response of an SQS event source with ReportBatchItemFailures."""
        return {"batchItemFailures": [{"itemIdentifier": mid} for mid in self.failed_message_ids]}


def record_batch(records: Iterable[Mapping[str, Any]], store: PunchWriter, local_tz: tzinfo) -> BatchOutcome:
    """Parse every SQS record, write the valid punches in one bulk idempotent write.

    Invalid records are reported as failures (they end in the DLQ) and never block the valid ones;
    if the store fails, every valid record is reported as failed, so it comes back later. Records are
    parsed as the store streams them to the database, so parsing and writing overlap.
    """
    outcome = BatchOutcome()
    punches: list[Punch] = []
    invalid: list[tuple[str, str]] = []  # (message id, reason)

    def valid_punches() -> Iterator[Punch]:
        for record in records:
            try:
                punch = parse_record(record, local_tz)
            except InvalidPunchError as exc:
                invalid.append((record["messageId"], exc.reason))
                continue
            punches.append(punch)
            yield punch

    def parsed() -> None:
        """Parse what the store did not read (it may stop where the database did); count the batch."""
        for _ in stream:
            pass
        outcome.size = len(punches) + len(invalid)
        outcome.rejected.update(invalid)

    stream = valid_punches()
    try:
        result = store.record(stream)
    except RowRejectedError:
        parsed()
        logger.warning("the database refused a row; writing the batch's punches one by one")
        for punch in punches:
            _record_alone(outcome, punch, store)
        return outcome
    except StoreError:
        parsed()
        logger.exception("could not record a batch of %d punches; they will be retried", len(punches))
        outcome.unwritten.extend(p.message_id for p in punches)
        return outcome
    parsed()
    _account(outcome, punches, result)
    return outcome


def _record_alone(outcome: BatchOutcome, punch: Punch, store: PunchWriter) -> None:
    try:
        _account(outcome, [punch], store.record([punch]))
    except RowRejectedError as exc:
        outcome.rejected[punch.message_id] = f"refused by the database: {type(exc.__cause__).__name__}"
    except StoreError:
        logger.exception("could not record punch %s; it will be retried", punch.punch_id)
        outcome.unwritten.append(punch.message_id)


def _account(outcome: BatchOutcome, punches: Sequence[Punch], result: WriteResult) -> None:
    new = set(result.inserted)
    if len(new) == len(punches):  # every punch was new (the usual batch): no per-punch bookkeeping
        fresh: Sequence[Punch] = punches
    else:
        fresh = []
        for punch in punches:
            if punch.punch_id in new:
                new.discard(punch.punch_id)  # a second copy in the same batch is a duplicate
                fresh.append(punch)
    outcome.recorded += len(fresh)
    outcome.duplicates += len(punches) - len(fresh)
    outcome.sealed += result.sealed
    outcome.unsealed += result.unsealed
    if not fresh:
        return
    # A punch recorded without a time (punched_at_problem) has no age.
    oldest_punch = min((p.punched_at for p in fresh if p.punched_at is not None), default=None)
    if oldest_punch is not None:
        outcome.max_punch_age_ms = _ms(result.written_at, oldest_punch)
    received = [p.received_at_ms for p in fresh if p.received_at_ms is not None]
    if received:
        outcome.max_lead_time_ms = result.written_at.timestamp() * 1000 - min(received)


def _ms(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds() * 1000
