"""The local execution environments of a read function: at most its reserved concurrency at once, the
rest throttled (API Gateway's INTEGRATION_FAILURE), as Lambda does."""

from __future__ import annotations

import asyncio

import pytest

from ponto.local.reads import FunctionPool, Throttled

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_invocations_beyond_the_reserved_concurrency_are_throttled_and_environments_stay_warm() -> None:
    pool = FunctionPool("tests/slow_handler.handler", {}, timeout_s=30, concurrency=3)

    async def burst(count: int, sleep_s: float) -> list[object]:
        calls = (pool.invoke({"sleep_s": sleep_s}) for _ in range(count))
        return list(await asyncio.gather(*calls, return_exceptions=True))

    try:
        # Given 3 environments and 8 invocations at once, each taking a while
        answers = asyncio.run(burst(8, 1.5))
        # Then 3 run (at once: each in its own environment) and 5 are throttled
        assert sum(isinstance(a, Throttled) for a in answers) == 5
        assert [a for a in answers if isinstance(a, dict)] == [{"statusCode": 200, "headers": {
            "Content-Type": "application/json"}, "body": '{"ok": true}'}] * 3  # fmt: skip
        # And the environments are reused, never more than 3
        answers = asyncio.run(burst(3, 0))
        assert all(isinstance(a, dict) for a in answers)
        assert pool.created == 3
    finally:
        pool.close()
