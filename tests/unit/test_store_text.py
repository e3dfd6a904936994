"""The rows the worker streams into COPY: received_at from epoch milliseconds, escaping."""

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ponto.punch import Punch, parse_record
from ponto.store import COLUMNS, copy_text
from tests.events import sqs_record, v1_body

RECEIVED_AT = COLUMNS.index("received_at")


def a_punch(**changes: Any) -> Punch:
    return parse_record(sqs_record(v1_body()), ZoneInfo("America/Sao_Paulo"))._replace(**changes)


def copied(punch: Punch) -> list[str]:
    line = copy_text([punch])
    assert line.endswith("\n") and line.count("\n") == 1
    return line[:-1].split("\t")


@pytest.mark.parametrize("ms", [1_795_000_000_000, 1_795_000_000_001, 1_795_000_000_999, 0, -1, -62_135_510_400_000])
def test_received_at_is_written_as_the_same_utc_instant(ms: int) -> None:
    text = copied(a_punch(received_at_ms=ms))[RECEIVED_AT]
    moment = datetime.fromisoformat(text)
    assert moment.tzinfo is not None and moment.utcoffset() == UTC.utcoffset(None)
    assert round(moment.timestamp() * 1000) == ms


def test_received_at_texts_stay_right_past_the_cache_size() -> None:
    start = 1_795_000_000_000
    for second in range(0, 5000 * 1000, 997_003):  # thousands of distinct seconds, in and out of the cache
        for ms in (start + second, start + second + 999):
            assert datetime.fromisoformat(copied(a_punch(received_at_ms=ms))[RECEIVED_AT]).timestamp() * 1000 == ms


def test_no_received_at_is_null() -> None:
    assert copied(a_punch(received_at_ms=None))[RECEIVED_AT] == "\\N"


def test_values_from_outside_the_schema_are_escaped() -> None:
    fields = copied(a_punch(request_id="a\tb", source_ip="c\\d", raw='{"x":\n"y\r"}'))
    assert len(fields) == len(COLUMNS)
    assert fields[COLUMNS.index("request_id")] == "a\\tb"
    assert fields[COLUMNS.index("source_ip")] == "c\\\\d"
    assert fields[COLUMNS.index("raw")] == '{"x":\\n"y\\r"}'


def test_a_row_without_special_characters_holds_the_values_as_they_are() -> None:
    for punch in (a_punch(), a_punch(request_id=None, source_ip=None, api_key_id=None, received_at_ms=None)):
        fields = dict(zip(COLUMNS, copied(punch), strict=True))
        assert fields.pop("punched_at") == punch.punched_at_text
        del fields["received_at"]  # checked above
        assert fields == {name: "\\N" if getattr(punch, name) is None else getattr(punch, name) for name in fields}


@pytest.mark.parametrize("field", ["punch_id", "request_id", "message_id", "source_ip", "api_key_id", "raw"])
@pytest.mark.parametrize("special", ["\\", "\t", "\n", "\r"])
def test_a_special_character_in_any_value_from_outside_is_escaped(field: str, special: str) -> None:
    punch = a_punch(**{field: f"x{special}y"})
    fields = copied(punch)
    assert len(fields) == len(COLUMNS)
    assert fields[COLUMNS.index(field)] == "x" + {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"}[special] + "y"
