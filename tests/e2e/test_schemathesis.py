"""The contract fuzzed against `ponto local` by a third-party OpenAPI fuzzer (issue 11).

schemathesis reads ponto/contract/openapi.json, sends what it generates from it (valid bodies, and
bodies, headers and media types the contract refuses) to the local gateway with the stack's API key,
and runs all its checks: every status and body must be one the contract declares, no 5xx, a body the
schema refuses must not be accepted, one it accepts must not be refused. Bounded: a fixed seed, 50
examples (~190 requests, ~5 s) and a 180 s timeout. Not --max-time: schemathesis takes it as a budget
to fill, fuzzing on until it is spent (150 s: ~8,000 requests, also clean). Then the pipeline behind
it: every punch the gateway accepted is recorded by the worker; none ends in the dead-letter queue.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import RunningStack, scratch_dir, start_stack, stop_stack, wait_for
from tests.e2e.test_identity import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CONTRACT = Path(__file__).resolve().parents[2] / "ponto" / "contract" / "openapi.json"
SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"


@pytest.fixture(scope="module")
def stack() -> Iterator[RunningStack]:
    with scratch_dir() as path:
        running = start_stack(path / "stack", cwd=path)
        yield running
        stop_stack(running)


def test_schemathesis_finds_nothing_and_every_accepted_punch_is_recorded(stack: RunningStack) -> None:
    # An employee signed in to the local pool: the personal read routes are fuzzed past the authorizer
    # too. POST /me/punches is left out: its bodies name random employees, which the worker refuses
    # (they would end in the DLQ by design; tests/e2e/test_identity.py covers that route).
    token = sign_in(stack, "9")
    argv = [
        str(SCHEMATHESIS), "run", str(CONTRACT),
        "--url", f"http://127.0.0.1:{stack.port}",
        "-H", f"x-api-key: {stack.api_key}",
        "-H", f"Authorization: Bearer {token}",
        "--exclude-operation-id", "postMyPunch",
        # Random ids find no employee or punch (404, as declared): schemathesis warns that it found no
        # data; every check still runs on every answer.
        "--warnings", "missing_auth",
        "--checks", "all",
        "--max-examples", "50",
        "--seed", "671",
        "--request-timeout", "10",
        "--no-color",
    ]  # fmt: skip
    run = subprocess.run(argv, capture_output=True, text=True, timeout=180, check=False, cwd=stack.data_dir)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert "No issues found" in run.stdout, run.stdout[-6000:]
    # It did send punches the gateway accepted, and the worker recorded each: none is left in the queue,
    # none went to the DLQ (a rejected message returns until its fifth receive, then moves there).
    wait_for(lambda: (s := stack.status()).queue == 0 and s.in_flight == 0, 120, "the queue to drain")
    status = stack.status()
    assert status.received and status.received > 10, status
    assert status.dlq == 0, status
    assert status.recorded and status.recorded > 10, status
