"""Deciding when the pipeline has drained, from the sampler's observations."""

import threading
import time

import pytest

from loadtest.sampler import Observation, Sampler, is_drained, merge
from loadtest.verify import employee_prefix, like_pattern

SINCE = 100.0


def _obs(
    t: float, queue: int | None, in_flight: int | None, rows: int | None, asked: float | None = None
) -> Observation:
    """An observation at SINCE + t whose answers were asked for at SINCE + asked (default: t)."""
    at = SINCE + (t if asked is None else asked)
    return Observation(
        t=SINCE + t,
        queue=queue,
        in_flight=in_flight,
        dlq=0 if queue is not None else None,
        run_rows=rows,
        status_t=at if queue is not None else None,
        rows_t=at if rows is not None else None,
    )


def test_pending_is_visible_plus_in_flight() -> None:
    assert _obs(0, 3, 2, 0).pending == 5
    assert _obs(0, None, 2, 0).pending is None


def test_not_drained_while_messages_are_queued_or_in_flight() -> None:
    assert not is_drained([], 10, 3, SINCE)
    assert not is_drained([_obs(0, 5, 0, 10)], 10, 3, SINCE)
    assert not is_drained([_obs(0, 0, 1, 10)], 10, 3, SINCE)


def test_drained_when_the_queue_is_empty_and_every_accepted_row_is_there() -> None:
    assert is_drained([_obs(0, 0, 0, 10)], 10, 3, SINCE)


def test_answers_asked_for_before_the_load_ended_do_not_count() -> None:
    assert not is_drained([_obs(1, 0, 0, 10, asked=-2)], 10, 3, SINCE)
    assert not is_drained([_obs(1, None, None, 10, asked=-2)], 10, 3, SINCE)


def test_an_empty_queue_with_missing_rows_waits_for_the_rows_to_settle() -> None:
    history = [_obs(0, 0, 0, 7), _obs(1, 0, 0, 8), _obs(2, 0, 0, 8)]
    assert not is_drained(history, 10, 3, SINCE)
    history += [_obs(3, 0, 0, 8), _obs(4, 0, 0, 8), _obs(5, 0, 0, 8)]
    assert is_drained(history, 10, 3, SINCE)  # 8 rows since t=1: the two others are not coming (DLQ)


def test_stability_is_judged_by_when_rows_were_counted_not_by_ticks() -> None:
    # A stuck row probe repeats its last answer: that is not evidence the rows stopped growing.
    history = [_obs(float(t), 0, 0, 8, asked=0) for t in range(10)]
    assert not is_drained(history, 10, 3, SINCE)


def test_without_queue_figures_rows_must_settle_three_times_as_long() -> None:
    assert is_drained([_obs(0, None, None, 10)], 10, 3, SINCE)
    history = [_obs(float(t), None, None, 8) for t in range(6)]
    assert not is_drained(history, 10, 3, SINCE)
    history += [_obs(float(t), None, None, 8) for t in range(6, 10)]
    assert is_drained(history, 10, 3, SINCE)


def test_with_nothing_known_there_is_nothing_to_wait_for() -> None:
    assert is_drained([_obs(0, None, None, None)], 10, 3, SINCE)


def test_with_queue_figures_but_no_rows_the_empty_queue_decides() -> None:
    assert is_drained([_obs(0, 0, 0, None)], 10, 3, SINCE)


def test_merge_takes_the_latest_answers_with_their_times() -> None:
    status = ({"queue": 4, "in_flight": 1, "dlq": None, "recorded_total": 99, "bogus": 9}, 40.0)
    rows = ({"run_rows": 12}, 41.5)
    assert merge(42.0, [status, None, rows]) == Observation(
        t=42.0, queue=4, in_flight=1, dlq=None, recorded_total=99, run_rows=12, status_t=40.0, rows_t=41.5
    )
    assert merge(1.0, [None]) == Observation(t=1.0)


def test_a_slow_probe_does_not_hold_up_a_fast_one() -> None:
    release = threading.Event()
    calls = {"rows": 0}

    def slow_status() -> dict[str, int | None]:
        release.wait(5)
        return {"queue": 0, "in_flight": 0}

    def rows() -> dict[str, int | None]:
        calls["rows"] += 1
        return {"run_rows": calls["rows"]}

    sampler = Sampler([slow_status, rows], interval=0.05)
    sampler.start()
    try:
        deadline = time.monotonic() + 5
        while calls["rows"] < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        seen = sampler.wait_next(0, 5)
        assert calls["rows"] >= 5
        assert seen[-1].queue is None  # the status answer has not come yet
    finally:
        release.set()
        sampler.stop()
    assert not sampler.is_alive()


def test_the_run_prefix_is_escaped_for_like() -> None:
    assert employee_prefix("r2025abc") == "lt-r2025abc-"
    assert like_pattern("r2025abc") == "lt-r2025abc-%"


def test_run_ids_are_letters_and_digits_only() -> None:
    for bad in ("", "a_b", "a-b", "a%", "x" * 41):
        with pytest.raises(ValueError, match="run id"):
            like_pattern(bad)
