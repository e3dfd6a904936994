"""The worker's batch logic against an in-memory store: the batch response and the counts."""

from collections.abc import Iterable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from ponto.errors import RowRejectedError, StoreError
from ponto.punch import Punch
from ponto.store import WriteResult
from ponto.worker import BatchOutcome, record_batch
from tests.events import legacy_body, sqs_record, v1_body

TZ = ZoneInfo("America/Sao_Paulo")


class MemoryStore:
    """A fake of PunchStore: a dict keyed by punch id, with the same idempotence."""

    def __init__(self) -> None:
        self.rows: dict[str, Punch] = {}
        self.writes = 0

    def record(self, punches: Iterable[Punch]) -> WriteResult:
        punches = list(punches)
        self.writes += bool(punches)  # as PunchStore: nothing to write costs no write
        new = set()
        for punch in punches:
            if punch.punch_id not in self.rows:
                self.rows[punch.punch_id] = punch
                new.add(punch.punch_id)
        return WriteResult(inserted=frozenset(new), written_at=datetime.now(UTC))


class DownStore:
    def record(self, punches: Iterable[Punch]) -> WriteResult:
        raise StoreError("database unreachable")


class PickyStore(MemoryStore):
    """Refuses any write that contains one given employee, as a check constraint would."""

    def record(self, punches: Iterable[Punch]) -> WriteResult:
        punches = list(punches)
        if any(p.employee_id == "refused" for p in punches):
            raise RowRejectedError("refused")
        return super().record(punches)


def test_valid_records_are_written_in_one_bulk_write_and_invalid_ones_fail() -> None:
    store = MemoryStore()
    good = [sqs_record(v1_body()) for _ in range(3)] + [sqs_record(legacy_body())]
    bad = [sqs_record("{oops"), sqs_record(v1_body(kind="lunch"))]
    outcome = record_batch([good[0], bad[0], *good[1:], bad[1]], store, TZ)
    assert store.writes == 1
    assert len(store.rows) == 4
    assert (outcome.size, outcome.recorded, outcome.duplicates) == (6, 4, 0)
    assert outcome.batch_response() == {
        "batchItemFailures": [
            {"itemIdentifier": bad[0]["messageId"]},
            {"itemIdentifier": bad[1]["messageId"]},
        ]
    }
    assert "kind" in outcome.rejected[bad[1]["messageId"]]


def test_duplicates_in_a_batch_and_across_redeliveries_add_nothing() -> None:
    store = MemoryStore()
    body = v1_body()
    twice = [sqs_record(body), sqs_record(body)]  # a clock that resent the same punch
    first = record_batch(twice, store, TZ)
    again = record_batch(twice, store, TZ)  # SQS redelivered the batch
    assert (first.recorded, first.duplicates) == (1, 1)
    assert (again.recorded, again.duplicates) == (0, 2)
    assert first.batch_response() == again.batch_response() == {"batchItemFailures": []}
    assert len(store.rows) == 1


def test_a_store_failure_fails_every_valid_record_for_a_retry() -> None:
    records = [sqs_record(v1_body()), sqs_record("not json"), sqs_record(legacy_body())]
    outcome = record_batch(records, DownStore(), TZ)
    assert {i["itemIdentifier"] for i in outcome.batch_response()["batchItemFailures"]} == {
        r["messageId"] for r in records
    }
    assert outcome.recorded == 0
    assert len(outcome.unwritten) == 2 and len(outcome.rejected) == 1


def test_a_row_the_database_refuses_fails_alone() -> None:
    store = PickyStore()
    refused = sqs_record(v1_body(employee_id="refused"))
    others = [sqs_record(v1_body()) for _ in range(3)]
    outcome = record_batch([others[0], refused, *others[1:]], store, TZ)
    assert outcome.batch_response()["batchItemFailures"] == [{"itemIdentifier": refused["messageId"]}]
    assert outcome.recorded == 3 and len(store.rows) == 3


def test_an_empty_or_all_invalid_batch_does_not_touch_the_store() -> None:
    store = MemoryStore()
    assert record_batch([], store, TZ).batch_response() == {"batchItemFailures": []}
    record_batch([sqs_record("[]")], store, TZ)
    assert store.writes == 0


def test_lead_time_and_punch_age_are_measured_for_new_rows_only() -> None:
    store = MemoryStore()
    body = v1_body(punched_at=datetime.now(UTC).isoformat())
    received_ms = int(datetime.now(UTC).timestamp() * 1000)
    outcome = record_batch([sqs_record(body, received_at_ms=received_ms)] * 2, store, TZ)
    assert outcome.max_lead_time_ms is not None and 0 <= outcome.max_lead_time_ms < 60_000
    assert outcome.max_punch_age_ms is not None and 0 <= outcome.max_punch_age_ms < 60_000


def test_lead_time_is_that_of_the_oldest_new_punch() -> None:
    store = MemoryStore()
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    records = [sqs_record(v1_body(), received_at_ms=now_ms - 5_000), sqs_record(v1_body(), received_at_ms=now_ms)]
    outcome = record_batch(records, store, TZ)
    assert outcome.max_lead_time_ms is not None and 5_000 <= outcome.max_lead_time_ms < 65_000
    again = record_batch(records[:1], store, TZ)  # a duplicate: no new row, no lead time
    assert again.max_lead_time_ms is None and again.duplicates == 1


def test_the_batch_response_lists_rejected_then_unwritten() -> None:
    outcome = BatchOutcome(rejected={"a": "bad"}, unwritten=["b"])
    assert outcome.batch_response() == {"batchItemFailures": [{"itemIdentifier": "a"}, {"itemIdentifier": "b"}]}
