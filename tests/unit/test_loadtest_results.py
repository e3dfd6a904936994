"""Reading JMeter CSV results and the statistics taken from them."""

from pathlib import Path

import pytest

from loadtest.results import (
    HEADERLESS_FIELDS,
    JtlError,
    Sample,
    jtl_stats,
    parse_jtl,
    parse_jtl_lines,
    per_second,
    percentile,
)

HEADER = ",".join(HEADERLESS_FIELDS)
OK_ROW = "1700000000000,12,POST /punches,202,Accepted,Clocks 1-1,true,,245,3,3,11,2"
FAILED_ROW = (
    '1700000000500,30,POST /punches,400,Bad Request,Clocks 1-2,false,"Test failed: code expected to equal /\n\n'
    '****** received  : [[[400]]]\n\n****** comparison: [[[202]]]\n\n/",170,3,3,29,1'
)
NO_RESPONSE_ROW = (
    "1700000001200,10000,POST /punches,Non HTTP response code: java.net.ConnectException,"
    "Non HTTP response message: Connection refused,Clocks 1-3,false,,1520,1,1,0,0"
)


def test_a_file_with_a_header_row() -> None:
    samples = parse_jtl_lines(f"{HEADER}\n{OK_ROW}\n{FAILED_ROW}\n".splitlines(keepends=True))
    assert samples[0] == Sample(
        timestamp_ms=1700000000000,
        elapsed_ms=12,
        label="POST /punches",
        response_code="202",
        success=True,
        latency_ms=11,
        connect_ms=2,
        thread_name="Clocks 1-1",
        failure_message="",
    )
    assert samples[1].response_code == "400"
    assert not samples[1].success
    assert "code expected to equal" in samples[1].failure_message
    assert samples[1].end_ms == 1700000000530


def test_a_file_without_a_header_row_is_read_by_position() -> None:
    samples = parse_jtl_lines(f"{OK_ROW}\n{FAILED_ROW}\n{NO_RESPONSE_ROW}\n".splitlines(keepends=True))
    assert [s.response_code for s in samples] == ["202", "400", "Non HTTP response code: java.net.ConnectException"]
    assert [s.success for s in samples] == [True, False, False]
    assert samples[0].latency_ms == 11


def test_a_header_in_another_order_and_with_more_fields_is_followed() -> None:
    text = (
        "timeStamp,elapsed,label,responseCode,responseMessage,threadName,dataType,success,failureMessage,"
        "bytes,sentBytes,grpThreads,allThreads,URL,Latency,IdleTime,Connect\n"
        "1700000000000,7,POST /punches,202,Accepted,Clocks 1-1,text,true,,245,400,1,1,"
        "http://127.0.0.1:3000/punches,6,0,1\n"
    )
    [sample] = parse_jtl_lines(text.splitlines(keepends=True))
    assert (sample.elapsed_ms, sample.response_code, sample.success, sample.latency_ms) == (7, "202", True, 6)


def test_an_empty_file_has_no_samples_and_a_header_only_file_neither() -> None:
    assert parse_jtl_lines([]) == []
    assert parse_jtl_lines([HEADER + "\n"]) == []


def test_rows_of_the_wrong_width_are_an_error() -> None:
    with pytest.raises(JtlError, match="line 2"):
        parse_jtl_lines([HEADER + "\n", "1700000000000,12,POST /punches\n"])


def test_a_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(JtlError, match="no results file"):
        parse_jtl(tmp_path / "results.jtl")


def test_parse_jtl_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "results.jtl"
    path.write_text(f"{HEADER}\n{OK_ROW}\n{FAILED_ROW}\n")
    assert len(parse_jtl(path)) == 2


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([5.0], 50, 5.0),
        ([1.0, 2.0], 50, 1.5),
        ([1.0, 2.0, 3.0, 4.0], 50, 2.5),
        ([1.0, 2.0, 3.0, 4.0], 0, 1.0),
        ([1.0, 2.0, 3.0, 4.0], 100, 4.0),
        ([4.0, 1.0, 3.0, 2.0], 75, 3.25),  # unsorted input
        ([float(v) for v in range(1, 101)], 99, 99.01),
        ([float(v) for v in range(1, 101)], 95, 95.05),
    ],
)
def test_percentile_interpolates_like_percentile_cont(values: list[float], q: float, expected: float) -> None:
    assert percentile(values, q) == pytest.approx(expected)


def test_percentile_of_nothing_is_none_and_q_is_checked() -> None:
    assert percentile([], 50) is None
    with pytest.raises(ValueError, match=r"0\.\.100"):
        percentile([1.0], 101)


def _sample(start: int, elapsed: int, code: str = "202", success: bool = True) -> Sample:
    return Sample(start, elapsed, "POST /punches", code, success)


def test_stats_count_errors_accepted_and_throughput() -> None:
    samples = [_sample(1000 + i * 10, 10) for i in range(98)]
    samples += [_sample(1500, 20, "503", False), _sample(1600, 3000, "", False)]
    stats = jtl_stats(samples)
    assert (stats.requests, stats.errors, stats.accepted) == (100, 2, 98)
    assert stats.first_start_ms == 1000
    assert stats.last_end_ms == 4600
    assert stats.duration_s == pytest.approx(3.6)
    assert stats.throughput_rps == pytest.approx(100 / 3.6)
    assert stats.p50_ms == 10.0
    assert stats.max_ms == 3000
    assert stats.response_codes == {"": 1, "202": 98, "503": 1}
    assert sum(stats.failure_messages.values()) == 2


def test_stats_of_no_samples() -> None:
    stats = jtl_stats([])
    assert (stats.requests, stats.errors, stats.accepted) == (0, 0, 0)
    assert stats.throughput_rps is None
    assert stats.p99_ms is None


def test_per_second_buckets_by_completion_and_fills_gaps() -> None:
    samples = [_sample(0, 100), _sample(200, 700), _sample(500, 600, "503", False), _sample(2100, 100)]
    seconds = per_second(samples)
    assert [(s.t_s, s.requests, s.errors) for s in seconds] == [(0, 2, 0), (1, 1, 1), (2, 1, 0)]
    assert seconds[0].p50_ms == pytest.approx(400.0)
    assert per_second([]) == []
