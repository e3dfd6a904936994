"""The usage plan the local gateway applies: serverless.yml's limits, as API Gateway's token bucket."""

from __future__ import annotations

from typing import Any

import pytest

from ponto.errors import ConfigError
from ponto.local.gateway import THROTTLED, UsagePlan
from ponto.serverless_config import UsagePlanLimits, load


class Clock:
    def __init__(self) -> None:
        self.now = 1_795_000_000.0

    def __call__(self) -> float:
        return self.now


def test_the_limits_are_the_deployed_usage_plan_s() -> None:
    params = load()["params"]["default"]
    limits = UsagePlanLimits.from_serverless()
    assert limits == UsagePlanLimits(
        rate_per_s=params["apiRateLimit"], burst=params["apiBurstLimit"], quota_per_day=params["apiQuotaPerDay"]
    )


@pytest.mark.parametrize(
    "document",
    [
        {},
        {"params": {"default": {"apiRateLimit": 5, "apiBurstLimit": 10}}},
        {"params": {"default": {"apiRateLimit": "fast", "apiBurstLimit": 10, "apiQuotaPerDay": 1}}},
        {"params": {"default": {"apiRateLimit": 0, "apiBurstLimit": 10, "apiQuotaPerDay": 1}}},
    ],
)
def test_missing_or_bad_limits_are_a_config_error(document: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        UsagePlanLimits.from_serverless(document)


def admitted_at(plan: UsagePlan, clock: Clock, per_s: float, count: int) -> int:
    """How many of `count` requests from one key, `per_s` apart, the plan lets through."""
    passed = 0
    for _ in range(count):
        passed += plan.refusal("one-key") is None
        clock.now += 1 / per_s
    return passed


def test_the_default_plan_lets_the_e2e_burst_through() -> None:
    # The e2e burst: 1,000 punches from one key as fast as the stack takes them (~1,000/s)
    clock = Clock()
    plan = UsagePlan(UsagePlanLimits.from_serverless(), clock=clock)
    assert admitted_at(plan, clock, per_s=1000, count=1000) == 1000


def test_the_default_plan_throttles_a_sustained_1000_per_second_after_two_seconds() -> None:
    # A full bucket (burst 1,000) drains at 1,000/s while refilling at 500/s: empty after 2 s. This
    # is what the deployed usage plan does to such a load, so the local gateway does it too.
    clock = Clock()
    plan = UsagePlan(UsagePlanLimits.from_serverless(), clock=clock)
    assert admitted_at(plan, clock, per_s=1000, count=1990) == 1990
    assert admitted_at(plan, clock, per_s=1000, count=1000) == pytest.approx(500, abs=10)  # the refill, no more


def test_a_throttled_request_takes_no_token_and_no_quota() -> None:
    clock = Clock()
    plan = UsagePlan(UsagePlanLimits(rate_per_s=1, burst=1, quota_per_day=2), clock=clock)
    assert plan.refusal("k") is None
    assert [plan.refusal("k") for _ in range(5)] == [THROTTLED] * 5
    clock.now += 1
    assert plan.refusal("k") is None  # one token back after a second, and the quota's second request


def test_a_clock_stepped_back_refills_nothing() -> None:
    clock = Clock()
    plan = UsagePlan(UsagePlanLimits(rate_per_s=10, burst=1, quota_per_day=100), clock=clock)
    assert plan.refusal("k") is None
    clock.now -= 3600
    assert plan.refusal("k") == THROTTLED
