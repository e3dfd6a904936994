"""AWS adapter: the database credentials from the RDS-managed secret in Secrets Manager."""

from __future__ import annotations

import json
from typing import Any

from ponto.errors import StoreError


def database_credentials(secret_arn: str) -> tuple[str, str]:
    """Return (username, password) from the secret RDS manages for the cluster's master user."""
    import boto3  # imported here: only deployments that use the secret pay for boto3 at cold start
    from botocore.exceptions import BotoCoreError, ClientError

    client: Any = boto3.client("secretsmanager")
    try:
        secret = json.loads(client.get_secret_value(SecretId=secret_arn)["SecretString"])
    except (BotoCoreError, ClientError, KeyError, ValueError) as exc:
        raise StoreError("could not read the database secret") from exc
    return str(secret["username"]), str(secret["password"])
