"""Builders for SQS records, Lambda events and contexts: one place for every tier's test data."""

from __future__ import annotations

import json
import uuid
from typing import Any

from ponto.lambda_context import LambdaContext
from ponto.lambda_events import received_message, sqs_lambda_record

__all__ = ["LambdaContext", "failed_ids", "legacy_body", "sqs_event", "sqs_record", "v1_body"]

QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:ponto-test-punches"


def v1_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "punch_id": str(uuid.uuid4()),
        "employee_id": "emp-0001",
        "punched_at": "2026-11-22T08:00:03-03:00",
        "kind": "in",
        "device_id": "kiosk-lobby-1",
        "location": {"lat": -23.5505, "lon": -46.6333, "accuracy_m": 12.5},
    }
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not None}


def legacy_body(usuario_id: int = 42, ponto: str = "2026-11-22 08:00:03") -> dict[str, Any]:
    return {"usuarioId": usuario_id, "ponto": ponto}


def sqs_record(
    body: dict[str, Any] | str,
    *,
    message_id: str | None = None,
    request_id: str | None = None,
    received_at_ms: int = 1_795_000_000_000,
    source_ip: str = "127.0.0.1",
    api_key_id: str = "local-key",
) -> dict[str, Any]:
    """An SQS record as the Lambda event source mapping delivers it, after the gateway's mapping."""
    attributes = {
        "requestId": request_id or str(uuid.uuid4()),
        "receivedAt": str(received_at_ms),
        "sourceIp": source_ip,
        "apiKeyId": api_key_id,
    }
    message = received_message(
        message_id or str(uuid.uuid4()),
        body if isinstance(body, str) else json.dumps(body),
        attributes,
        sent_ms=received_at_ms,
        receipt_handle="handle-" + uuid.uuid4().hex,
    )
    return sqs_lambda_record(message, QUEUE_ARN, "us-east-1")


def sqs_event(records: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Records": records}


def failed_ids(response: dict[str, Any]) -> set[str]:
    return {item["itemIdentifier"] for item in response["batchItemFailures"]}
