"""AWS adapter for the local tools: an SQS client for the local server or any SQS endpoint."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config


def sqs_client(endpoint_url: str | None, region: str, *, pool: int = 10, timeout_s: float = 30) -> Any:
    """A boto3 SQS client; loopback endpoints get dummy credentials (no AWS account needed)."""
    local = endpoint_url is not None and endpoint_url.startswith(("http://127.", "http://localhost"))
    credentials = {"aws_access_key_id": "local", "aws_secret_access_key": "local"} if local else {}
    config = Config(
        max_pool_connections=pool,
        connect_timeout=5,
        read_timeout=timeout_s,
        retries={"max_attempts": 3, "mode": "standard"},
    )
    return boto3.client("sqs", endpoint_url=endpoint_url, region_name=region, config=config, **credentials)
