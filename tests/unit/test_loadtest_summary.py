"""The verdict of a load test run."""

import json
from pathlib import Path
from typing import Any

from loadtest.summary import Summary, evaluate, text, write_json


def _summary(**overrides: Any) -> Summary:
    values: dict[str, Any] = {
        "runid": "r1",
        "url": "http://127.0.0.1:3000/punches",
        "threads": 5,
        "loops": 10,
        "jmeter_version": "2.13",
        "requests": 50,
        "errors": 0,
        "accepted": 50,
        "recorded": 50,
        "duplicates": 0,
        "dlq": 0,
        "throughput_rps": 123.4,
        "p50_ms": 5.0,
        "p95_ms": 9.0,
        "p99_ms": 12.5,
        "drain_s": 1.2,
        "drained": True,
        "lead_time_p50_ms": 40.0,
        "lead_time_p99_ms": 90.0,
    }
    values.update(overrides)
    return evaluate(Summary(**values))


def test_every_202_recorded_once_with_nothing_lost_passes() -> None:
    summary = _summary()
    assert summary.passed
    assert all(check.ok for check in summary.checks)
    assert "RESULT: PASS" in text(summary)


def test_each_failed_check_fails_the_run() -> None:
    assert not _summary(recorded=49).passed
    assert not _summary(recorded=51).passed
    assert not _summary(duplicates=1).passed
    assert not _summary(dlq=1).passed
    assert not _summary(errors=1, accepted=49, recorded=49).passed
    assert not _summary(requests=49, accepted=49, recorded=49).passed  # JMeter stopped early


def test_an_unknown_is_not_a_pass() -> None:
    summary = _summary(recorded=None, duplicates=None)
    assert not summary.passed
    assert [check.ok for check in summary.checks].count(None) == 2
    assert "UNKNOWN" in text(summary)
    assert not _summary(dlq=None).passed


def test_no_requests_is_not_a_pass() -> None:
    assert not _summary(threads=1, loops=1, requests=0, accepted=0, recorded=0).passed


def test_summary_json_has_the_fields_the_issue_names(tmp_path: Path) -> None:
    path = tmp_path / "summary.json"
    write_json(_summary(notes=["a note"]), path)
    data = json.loads(path.read_text())
    keys = {
        *("requests", "errors", "accepted", "recorded", "duplicates", "dlq", "throughput_rps"),
        *("p50_ms", "p95_ms", "p99_ms", "drain_s", "lead_time_p50_ms", "lead_time_p99_ms"),
        *("runid", "url", "threads", "loops", "passed"),
    }
    for key in sorted(keys):
        assert key in data, key
    assert data["passed"] is True
    assert data["expected_requests"] == 50
    assert data["checks"][0] == {"name": "all requests sent", "ok": True, "detail": "requests: 50, expected 50"}


def test_text_shows_numbers_and_notes() -> None:
    rendered = text(_summary(recorded=None, notes=["recorded/duplicates not verified"], failure_messages={"x": 3}))
    assert "123.4 req/s" in rendered
    assert "5.0 ms / 9.0 ms / 12.5 ms" in rendered
    assert "note: recorded/duplicates not verified" in rendered
    assert "3 x x" in rendered
    assert rendered.endswith("RESULT: FAIL")
