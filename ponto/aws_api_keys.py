"""API Gateway API keys of a deployed stack: a device's key is made in the stack's usage plan.

Only the key's id is stored (devices.api_key_id); its value is printed once to the operator.
"""

from __future__ import annotations

import os

from ponto.errors import PontoError


def create_api_key(usage_plan_id: str, name: str, region: str | None = None) -> tuple[str, str]:
    """(value, id) of a new enabled API key added to the usage plan."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    client = boto3.client(
        "apigateway", region_name=region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    )
    try:
        key = client.create_api_key(name=name, enabled=True, description="Ponto device key")
        try:
            client.create_usage_plan_key(usagePlanId=usage_plan_id, keyId=key["id"], keyType="API_KEY")
        except (BotoCoreError, ClientError):
            client.delete_api_key(apiKey=key["id"])  # no key left outside the plan
            raise
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "error")
        raise PontoError(f"API Gateway refused the key ({code})") from None
    except BotoCoreError as exc:
        raise PontoError(f"cannot reach API Gateway ({type(exc).__name__})") from None
    return str(key["value"]), str(key["id"])
