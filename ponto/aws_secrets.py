"""AWS adapter: secrets from Secrets Manager (the database credentials, the signing certificate)."""

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


def signing_pem(secret_arn: str) -> tuple[bytes, bytes]:
    """(certificate, private key) in PEM from a secret holding {"certificate": ..., "private_key": ...}."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    from ponto.errors import ConfigError

    client: Any = boto3.client("secretsmanager")
    try:
        secret = json.loads(client.get_secret_value(SecretId=secret_arn)["SecretString"])
        return str(secret["certificate"]).encode(), str(secret["private_key"]).encode()
    except (BotoCoreError, ClientError, KeyError, ValueError, TypeError) as exc:
        raise ConfigError("could not read the signing certificate's secret") from exc


def iam_auth_token(database: Any) -> str:
    """A 15-minute IAM authentication token for database.user (signed locally: no network call)."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        client: Any = boto3.client("rds", region_name=database.region)
        return str(
            client.generate_db_auth_token(
                DBHostname=database.host, Port=database.port, DBUsername=database.user, Region=database.region
            )
        )
    except (BotoCoreError, ClientError) as exc:
        raise StoreError("could not make an IAM database token") from exc
