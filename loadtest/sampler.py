"""Once a second, what the pipeline holds: queue depth, in flight, DLQ, and the run's recorded rows.

Each probe runs in its own thread as often as it can (at most once a second): `ponto status` can take
seconds on a machine saturated by the load, and must not slow the row counts down. Every second the
sampler records the latest answer of each probe, with the time that answer was asked for.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any, Protocol

from loadtest import verify


@dataclass(frozen=True)
class Observation:
    t: float  # epoch seconds
    queue: int | None = None
    in_flight: int | None = None
    dlq: int | None = None
    recorded_total: int | None = None  # every row in the database (ponto status)
    run_rows: int | None = None  # this run's rows
    status_t: float | None = None  # when the queue figures were asked for (epoch seconds)
    rows_t: float | None = None  # when run_rows was asked for

    @property
    def pending(self) -> int | None:
        """Messages not yet done with: visible plus in flight (None when unknown)."""
        if self.queue is None or self.in_flight is None:
            return None
        return self.queue + self.in_flight


class Probe(Protocol):
    def __call__(self) -> dict[str, int | None]: ...


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class StatusProbe:
    """`ponto status --json`: of the local stack (--data-dir DIR) or a deployed one (--queue-url/--dlq-url)."""

    def __init__(
        self, ponto: str, target: Sequence[str], env: Mapping[str, str] | None = None, timeout: float = 10.0
    ) -> None:
        self.command = [ponto, "status", "--json", *target]
        self.env = None if env is None else dict(env)
        self.timeout = timeout
        self.last_error: str | None = None

    def __call__(self) -> dict[str, int | None]:
        try:
            result = subprocess.run(  # noqa: S603
                self.command, capture_output=True, text=True, timeout=self.timeout, check=False, env=self.env
            )
            status = json.loads(result.stdout) if result.returncode == 0 else None
        except (OSError, subprocess.TimeoutExpired, ValueError) as exc:
            self.last_error = str(exc)
            return {}
        if not isinstance(status, dict):
            self.last_error = (result.stderr or result.stdout).strip()[-500:]
            return {}
        return {
            "queue": _int(status.get("queue")),
            "in_flight": _int(status.get("in_flight")),
            "dlq": _int(status.get("dlq")),
            "recorded_total": _int(status.get("recorded")),
        }


class RowProbe:
    """The number of this run's rows, over one reused connection."""

    def __init__(self, database_url: Callable[[], str | None], runid: str) -> None:
        self.database_url = database_url
        self.runid = verify.check_runid(runid)
        self.conn: Any = None
        self.last_error: str | None = None

    def __call__(self) -> dict[str, int | None]:
        try:
            if self.conn is None:
                url = self.database_url()
                if not url:
                    return {}
                self.conn = verify.connect(url)
            return {"run_rows": verify.count_rows(self.conn, self.runid)}
        except Exception as exc:  # the database may restart or be unreachable for a moment
            self.last_error = str(exc)
            self.close()
            return {}

    def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):  # already broken
                self.conn.close()
            self.conn = None


_FIELDS = {f.name for f in fields(Observation)} - {"t", "status_t", "rows_t"}
_STATUS_FIELDS = {"queue", "in_flight", "dlq", "recorded_total"}

Answer = tuple[Mapping[str, int | None], float]  # a probe's values and when they were asked for


def merge(t: float, answers: Sequence[Answer | None]) -> Observation:
    """One observation from the latest answer of each probe (None: no answer yet)."""
    observation = Observation(t=t)
    for answer in answers:
        if answer is None:
            continue
        values, asked = answer
        known: dict[str, Any] = {key: value for key, value in values.items() if key in _FIELDS and value is not None}
        if known.keys() & _STATUS_FIELDS:
            known["status_t"] = asked
        if "run_rows" in known:
            known["rows_t"] = asked
        observation = replace(observation, **known)
    return observation


class _ProbeRunner(threading.Thread):
    def __init__(self, probe: Probe, interval: float, stop: threading.Event) -> None:
        super().__init__(name=f"loadtest-probe-{type(probe).__name__}", daemon=True)
        self.probe = probe
        self.interval = interval
        self.stop_event = stop
        self._lock = threading.Lock()
        self._latest: Answer | None = None

    @property
    def latest(self) -> Answer | None:
        with self._lock:
            return self._latest

    def run(self) -> None:
        while not self.stop_event.is_set():
            asked, started = time.time(), time.monotonic()
            values = self.probe()
            if values:
                with self._lock:
                    self._latest = (values, asked)
            self.stop_event.wait(max(0.0, self.interval - (time.monotonic() - started)))


class Sampler(threading.Thread):
    """Records an observation every `interval` seconds until stopped."""

    def __init__(self, probes: Sequence[Probe], interval: float = 1.0) -> None:
        super().__init__(name="loadtest-sampler", daemon=True)
        self.probes = list(probes)
        self.interval = interval
        self._stop_event = threading.Event()
        self._runners = [_ProbeRunner(probe, interval, self._stop_event) for probe in self.probes]
        self._lock = threading.Condition()
        self._observations: list[Observation] = []

    def run(self) -> None:
        for runner in self._runners:
            runner.start()
        while not self._stop_event.wait(self.interval):
            observation = merge(time.time(), [runner.latest for runner in self._runners])
            with self._lock:
                self._observations.append(observation)
                self._lock.notify_all()

    def stop(self) -> None:
        self._stop_event.set()
        if self.is_alive():
            self.join(30)
        for runner in self._runners:
            if runner.is_alive():
                runner.join(30)
        for probe in self.probes:
            close = getattr(probe, "close", None)
            if callable(close):
                close()

    @property
    def observations(self) -> list[Observation]:
        with self._lock:
            return list(self._observations)

    def wait_next(self, count: int, timeout: float) -> list[Observation]:
        """Block until there are more than `count` observations (or timeout); returns them all."""
        with self._lock:
            self._lock.wait_for(lambda: len(self._observations) > count, timeout)
            return list(self._observations)


def is_drained(history: Sequence[Observation], accepted: int, stable_s: float, since: float) -> bool:
    """Whether the pipeline is done with the run, judged from the observations since the load ended
    (`since`, epoch seconds); only figures asked for after `since` count.

    - queue figures known: drained when a fresh answer says nothing is visible or in flight, and
      the run's rows reached the accepted count or stopped growing for stable_s (a punch left in
      the DLQ is not coming);
    - no queue figures, rows known: when the rows reached the accepted count, or stopped growing
      for 3 x stable_s;
    - nothing known: there is nothing to wait for.
    """
    if not history:
        return False
    last = history[-1]
    rows_fresh = last.run_rows is not None and (last.rows_t or 0) >= since
    if last.pending is not None:
        if (last.status_t or 0) < since or last.pending > 0:
            return False
        if last.run_rows is None:
            return True
        return rows_fresh and ((last.run_rows or 0) >= accepted or _rows_stable_for(history, stable_s))
    if last.run_rows is not None:
        return rows_fresh and ((last.run_rows or 0) >= accepted or _rows_stable_for(history, 3 * stable_s))
    return True


def _rows_stable_for(history: Sequence[Observation], seconds: float) -> bool:
    """The run's row count has been the same in every answer over the last `seconds`."""
    last = history[-1]
    last_t = last.rows_t if last.rows_t is not None else last.t
    for earlier in reversed(history):
        if earlier.run_rows != last.run_rows:
            return False
        earlier_t = earlier.rows_t if earlier.rows_t is not None else earlier.t
        if last_t - earlier_t >= seconds:
            return True
    return False
