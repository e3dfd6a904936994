"""Parsing a queued record into a normalised punch."""

import json
import uuid
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ponto.errors import InvalidPunchError
from ponto.punch import Punch, QueuedMessage, parse_punch, parse_record, parse_timestamp
from tests.events import legacy_body, sqs_record, v1_body

SAO_PAULO = ZoneInfo("America/Sao_Paulo")


def parse(record: dict[str, Any]) -> Punch:
    return parse_punch(QueuedMessage.from_sqs_record(record), SAO_PAULO)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-22T08:00:03-03:00", datetime(2026, 11, 22, 11, 0, 3, tzinfo=UTC)),
        ("2026-11-22T11:00:03Z", datetime(2026, 11, 22, 11, 0, 3, tzinfo=UTC)),
        ("2026-11-22T16:30:03.5+05:30", datetime(2026, 11, 22, 11, 0, 3, 500000, tzinfo=UTC)),
        ("2026-11-22T11:00:03.123456789Z", datetime(2026, 11, 22, 11, 0, 3, 123456, tzinfo=UTC)),
        ("2026-12-31T23:59:60Z", datetime(2027, 1, 1, 0, 0, 0, tzinfo=UTC)),
        # Legacy times without an offset are read in the configured zone (São Paulo: UTC-3).
        ("2026-11-22 08:00:03", datetime(2026, 11, 22, 11, 0, 3, tzinfo=UTC)),
        # ... with its historical daylight saving time (UTC-2 in January 2018).
        ("2018-01-15 08:00:00", datetime(2018, 1, 15, 10, 0, 0, tzinfo=UTC)),
    ],
)
def test_timestamps_are_normalised_to_utc(text: str, expected: datetime) -> None:
    parsed = parse_timestamp(text, SAO_PAULO)
    assert parsed == expected
    assert parsed.utcoffset() is not None and parsed.utcoffset().total_seconds() == 0  # type: ignore[union-attr]


@pytest.mark.parametrize("text", ["2026-02-30T08:00:00Z", "0001-01-01T00:00:00+14:00", "yesterday"])
def test_impossible_timestamps_are_invalid(text: str) -> None:
    with pytest.raises(InvalidPunchError):
        parse_timestamp(text, SAO_PAULO)


@pytest.mark.parametrize(
    ("text", "instant", "as_sent"),
    [
        ("2026-11-22T08:00:03-03:00", datetime(2026, 11, 22, 11, 0, 3, tzinfo=UTC), True),
        ("2026-11-22T11:00:03Z", datetime(2026, 11, 22, 11, 0, 3, tzinfo=UTC), True),
        ("2026-11-22T16:30:03.123456+05:30", datetime(2026, 11, 22, 11, 0, 3, 123456, tzinfo=UTC), True),
        ("1960-01-01T00:00:00+14:00", datetime(1959, 12, 31, 10, 0, 0, tzinfo=UTC), True),
        ("9998-12-31T23:59:59-12:00", datetime(9999, 1, 1, 11, 59, 59, tzinfo=UTC), True),
        # What PostgreSQL would read otherwise than datetime does: the UTC instant, written out.
        ("2026-11-22T11:00:03.1234567Z", datetime(2026, 11, 22, 11, 0, 3, 123456, tzinfo=UTC), False),
        ("2026-11-22T08:00:03.9999999-03:00", datetime(2026, 11, 22, 11, 0, 3, 999999, tzinfo=UTC), False),
        ("2026-12-31T23:59:60-03:00", datetime(2027, 1, 1, 3, 0, 0, tzinfo=UTC), False),
        ("9998-12-31T23:59:60-12:00", datetime(9999, 1, 1, 12, 0, 0, tzinfo=UTC), False),
    ],
)
def test_the_punched_at_text_written_is_the_instant_parsed(text: str, instant: datetime, as_sent: bool) -> None:
    punch = parse(sqs_record(v1_body(punched_at=text)))
    assert punch.punched_at == instant and punch.punched_at_problem is None
    assert punch.punched_at_text is not None and datetime.fromisoformat(punch.punched_at_text) == instant
    assert (punch.punched_at_text == text) is as_sent


# Times that could never be recorded are refused by the contract's pattern (the gateway answers 400).
@pytest.mark.parametrize(
    "text",
    ["2026-02-30T08:00:00Z", "2026-04-31T08:00:00Z", "0000-01-01T00:00:00Z", "0001-01-01T00:00:00+14:00",
     "9999-12-31T23:00:00-01:00", "2026-11-22T08:00:00+16:00", "2026-11-22T08:00:00-15:59"],
)  # fmt: skip
def test_a_v1_punch_at_an_impossible_time_is_refused_by_the_pattern(text: str) -> None:
    with pytest.raises(InvalidPunchError, match="must match pattern"):
        parse(sqs_record(v1_body(punched_at=text)))


# 29 February of a common year passes every pattern of the contract: recorded without a time, with
# the reason, whichever way the worker reads it (the usual text; a leap second, 7 fraction digits).
@pytest.mark.parametrize(
    "text",
    ["2027-02-29T08:00:00-03:00", "2100-02-29T08:00:00Z", "2027-02-29T23:59:60Z", "2027-02-29T08:00:00.1234567Z"],
)
def test_a_v1_punch_on_29_february_of_a_common_year_is_kept_with_the_reason(text: str) -> None:
    body = v1_body(punched_at=text)
    punch = parse(sqs_record(body))
    assert (punch.punched_at, punch.punched_at_text) == (None, None)
    assert punch.punched_at_problem is not None
    assert punch.punched_at_problem.startswith(f"{text!r} is not a valid date-time")
    assert "day is out of range for month" in punch.punched_at_problem
    assert json.loads(punch.raw) == body  # what the clock sent, kept
    assert punch.punch_id == body["punch_id"]


def test_a_punch_on_29_february_without_a_punch_id_has_its_identity_from_the_text_sent() -> None:
    body = v1_body(punch_id=None, punched_at="2027-02-29T08:00:00-03:00")
    first, resent = parse(sqs_record(body, request_id="a")), parse(sqs_record(body, request_id="b"))
    assert first.punch_id == resent.punch_id and uuid.UUID(first.punch_id).version == 5
    assert parse(sqs_record(dict(body, punched_at="2027-02-29T08:00:01-03:00"))).punch_id != first.punch_id


def test_a_legacy_punch_on_29_february_of_a_common_year_is_kept_with_the_reason() -> None:
    punch = parse(sqs_record(legacy_body(7, "2027-02-29 08:00:00")))
    assert (punch.punched_at, punch.punched_at_text, punch.format) == (None, None, "legacy")
    assert punch.punched_at_problem == "'2027-02-29 08:00:00' is not a valid date-time (day is out of range for month)"
    assert parse(sqs_record(legacy_body(7, "2027-02-29 08:00:00"))).punch_id == punch.punch_id


@pytest.mark.parametrize("text", ["2028-02-29T08:00:00Z", "2000-02-29T08:00:00Z", "2400-02-29T08:00:00Z"])
def test_29_february_of_a_leap_year_is_a_time(text: str) -> None:
    punch = parse(sqs_record(v1_body(punched_at=text)))
    assert punch.punched_at == datetime.fromisoformat(text) and punch.punched_at_problem is None


def test_a_v1_punch_keeps_its_fields_its_raw_body_and_the_gateway_attributes() -> None:
    body = v1_body(punch_id="6F9619FF-8B86-D011-B42D-00C04FC964FF")
    record = sqs_record(body, request_id="req-1", received_at_ms=1_795_000_000_000, source_ip="10.0.0.9")
    punch = parse(record)
    assert punch.punch_id == "6f9619ff-8b86-d011-b42d-00c04fc964ff"  # one spelling per UUID
    assert punch.employee_id == "emp-0001"
    assert punch.punched_at == datetime(2026, 11, 22, 11, 0, 3, tzinfo=UTC)
    assert (punch.kind, punch.device_id, punch.format) == ("in", "kiosk-lobby-1", "v1")
    assert punch.location == {"lat": -23.5505, "lon": -46.6333, "accuracy_m": 12.5}
    assert (punch.request_id, punch.source_ip, punch.api_key_id) == ("req-1", "10.0.0.9", "local-key")
    assert punch.received_at_ms == 1_795_000_000_000
    assert punch.message_id == record["messageId"]
    assert json.loads(punch.raw) == body


def test_without_a_punch_id_the_identity_comes_from_the_content() -> None:
    # A clock resends the same body: a new request id, the same punch
    body = v1_body(punch_id=None)
    first, resent = parse(sqs_record(body, request_id="req-7")), parse(sqs_record(body, request_id="req-8"))
    assert first.punch_id == resent.punch_id != "req-7"
    assert uuid.UUID(first.punch_id).version == 5
    # The same instant written in another offset is the same punch
    same_instant = dict(body, punched_at="2026-11-22T11:00:03Z")
    assert parse(sqs_record(same_instant)).punch_id == first.punch_id
    # Another employee, time, device or key is another punch
    for other in (dict(body, employee_id="emp-0002"), dict(body, punched_at="2026-11-22T08:00:04-03:00"),
                  dict(body, device_id="kiosk-2")):  # fmt: skip
        assert parse(sqs_record(other)).punch_id != first.punch_id
    assert parse(sqs_record(body, api_key_id="another-key")).punch_id != first.punch_id


def test_a_legacy_resend_is_the_same_punch() -> None:
    first = parse(sqs_record(legacy_body(7, "2026-11-22 08:00:00"), request_id="a"))
    assert parse(sqs_record(legacy_body(7, "2026-11-22 08:00:00"), request_id="b")).punch_id == first.punch_id
    assert parse(sqs_record(legacy_body(8, "2026-11-22 08:00:00"))).punch_id != first.punch_id
    assert parse(sqs_record(legacy_body(7, "2026-11-22 08:00:01"))).punch_id != first.punch_id


def test_without_gateway_attributes_the_identity_still_comes_from_the_content() -> None:
    record = sqs_record(v1_body(punch_id=None), message_id="msg-1")
    record["messageAttributes"] = {}
    punch = parse(record)
    assert (punch.request_id, punch.received_at_ms) == (None, None)
    assert uuid.UUID(punch.punch_id).version == 5


def test_json_whitespace_around_the_body_is_allowed() -> None:
    punch = parse(sqs_record(' \n{"employee_id": "e", "punched_at": "2026-11-22T08:00:00Z"}\r\n\t'))
    assert punch.employee_id == "e"


def test_a_legacy_punch_becomes_an_employee_text_id_and_a_utc_time() -> None:
    punch = parse(sqs_record(legacy_body(usuario_id=42, ponto="2026-11-22 08:00:03"), request_id="r"))
    assert (punch.employee_id, punch.format, punch.kind) == ("42", "legacy", None)
    assert uuid.UUID(punch.punch_id).version == 5  # from its content: a resend is the same punch
    assert punch.punched_at == datetime(2026, 11, 22, 11, 0, 3, tzinfo=UTC)
    assert punch.punched_at_text == "2026-11-22T11:00:03+00:00"
    assert (punch.device_id, punch.location, punch.request_id) == (None, None, "r")


@pytest.mark.parametrize("body", [v1_body(), legacy_body(usuario_id=1, ponto="2026-11-22 08:00:03")])
def test_a_punch_has_every_field_of_its_type(body: dict[str, Any]) -> None:
    punch = parse(sqs_record(body))
    assert type(punch) is Punch and len(punch) == len(Punch._fields)
    assert punch._asdict()["raw"] == punch.raw == json.dumps(body)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("{not json", "not valid JSON"),
        ('{"employee_id": "e", "punched_at": "2026-11-22T08:00:00Z"} trailing', "not valid JSON"),
        ('{"employee_id": "e", "punched_at": "2026-11-22T08:00:00Z"}\u00a0', "not valid JSON"),
        ("", "not valid JSON"),
        ('{"employee_id": "e", "punched_at": NaN}', "not valid JSON"),
        ("[" * 100_000, "not valid JSON"),
        (json.dumps({"employee_id": "e"}), "punched_at"),
        (json.dumps(v1_body(punched_at="2026-02-30T08:00:00Z")), "must match pattern"),
    ],
)
def test_records_that_can_never_be_punches_are_invalid(body: str, reason: str) -> None:
    with pytest.raises(InvalidPunchError) as caught:
        parse(sqs_record(body))
    assert reason in caught.value.reason


@pytest.mark.parametrize(
    ("attribute", "expected"),
    [
        ("1795000000123", 1_795_000_000_123),
        ("1795000000123.6", 1_795_000_000_124),  # a Number attribute may carry a fraction
        ("-1000", -1000),
        ("soon", None),
        ("1e300", None),  # beyond year 9999: not a time this worker can record
        ("", None),
    ],
)
def test_received_at_is_the_number_attribute_in_epoch_milliseconds(attribute: str, expected: int | None) -> None:
    record = sqs_record(v1_body())
    record["messageAttributes"]["receivedAt"]["stringValue"] = attribute
    assert parse(record).received_at_ms == expected


def test_a_record_and_its_queued_message_parse_to_the_same_punch() -> None:
    record = sqs_record(v1_body(), request_id="req-9")
    assert parse_record(record, SAO_PAULO) == parse(record)
    record["messageAttributes"] = {"requestId": {"binaryValue": "eA==", "dataType": "Binary"}, "sourceIp": "x"}
    assert parse_record(record, SAO_PAULO) == parse(record)
    assert parse(record).request_id is None
