"""A deployed stack's device key: an API Gateway key in the stack's usage plan (moto at the AWS boundary)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from ponto.aws_api_keys import create_api_key
from ponto.errors import PontoError


@pytest.fixture
def apigateway(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield boto3.client("apigateway", region_name="us-east-1")


def test_the_key_is_made_in_the_usage_plan_and_only_its_id_is_kept(apigateway: Any) -> None:
    # Given the stack's usage plan
    plan = apigateway.create_usage_plan(name="ponto-dev")["id"]
    # When a device's key is made
    value, key_id = create_api_key(plan, "ponto-12345678000195-browser", "us-east-1")
    # Then it is an enabled key of that plan, and its value is what API Gateway holds for that id
    assert [k["id"] for k in apigateway.get_usage_plan_keys(usagePlanId=plan)["items"]] == [key_id]
    stored = apigateway.get_api_key(apiKey=key_id, includeValue=True)
    assert stored["enabled"] is True and stored["value"] == value


def test_a_plan_that_refuses_the_key_leaves_no_key_behind(apigateway: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # moto adds a key to any plan id; AWS answers NotFoundException for an unknown plan: that answer,
    # from moto's own client otherwise
    real_client = boto3.client

    def client(service: str, **kwargs: Any) -> Any:
        made = real_client(service, **kwargs)

        def refuse(**_: Any) -> None:
            raise ClientError({"Error": {"Code": "NotFoundException", "Message": "Invalid Usage Plan ID"}}, "X")

        made.create_usage_plan_key = refuse
        return made

    monkeypatch.setattr(boto3, "client", client)
    with pytest.raises(PontoError, match=r"API Gateway refused the key \(NotFoundException\)"):
        create_api_key("no-such-plan", "ponto-x-browser", "us-east-1")
    assert apigateway.get_api_keys()["items"] == []
