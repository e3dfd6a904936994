"""Moving dead-lettered punches back to the source queue, without losing one."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from ponto.errors import PontoError

# What endpoints without StartMessageMoveTask answer (LocalStack versions, moto, ElasticMQ...).
_UNSUPPORTED = {"UnsupportedOperation", "InvalidAction", "UnknownOperationException", "NotImplemented",
                "AWS.SimpleQueueService.UnsupportedOperation", "InvalidParameterValue"}  # fmt: skip
_SYSTEM_KEYS = ("DataType", "StringValue", "BinaryValue")

Progress = Callable[[str], None]


@dataclass(frozen=True)
class RedriveResult:
    moved: int
    failed: int
    method: str  # "move-task" or "receive-send-delete"


def queue_arn(client: Any, url: str) -> str:
    return str(client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])


def redrive(
    client: Any,
    dlq_url: str,
    queue_url: str,
    max_messages: int | None,
    progress: Progress,
    timeout_s: float = 600,
) -> RedriveResult:
    if max_messages is None:
        try:
            return _move_task(client, dlq_url, queue_url, progress, timeout_s)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in _UNSUPPORTED:
                raise
            progress("StartMessageMoveTask is not available here; moving messages one batch at a time")
    return _receive_send_delete(client, dlq_url, queue_url, max_messages, progress, timeout_s)


def _move_task(client: Any, dlq_url: str, queue_url: str, progress: Progress, timeout_s: float) -> RedriveResult:
    source = queue_arn(client, dlq_url)
    client.start_message_move_task(SourceArn=source, DestinationArn=queue_arn(client, queue_url))
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        tasks = client.list_message_move_tasks(SourceArn=source, MaxResults=1).get("Results", [])
        task = tasks[0] if tasks else {}
        moved = int(task.get("ApproximateNumberOfMessagesMoved", 0))
        status = task.get("Status", "RUNNING")
        progress(f"move task {status.lower()}: {moved} moved of ~{task.get('ApproximateNumberOfMessagesToMove', '?')}")
        if status == "COMPLETED":
            return RedriveResult(moved=moved, failed=0, method="move-task")
        if status in ("FAILED", "CANCELLED"):
            raise PontoError(f"the message move task ended {status}: {task.get('FailureReason', 'no reason given')}")
        time.sleep(1)
    raise PontoError("the message move task did not finish in time; check it with ListMessageMoveTasks")


def _receive_send_delete(
    client: Any, dlq_url: str, queue_url: str, max_messages: int | None, progress: Progress, timeout_s: float
) -> RedriveResult:
    """Copy each message to the source queue, then delete it from the DLQ: at least once, never lost.

    A copy whose delete fails is sent again by the next redrive; the worker's idempotent write turns
    that into a duplicate count, not a second row.
    """
    moved = failed = empty_receives = 0
    deadline = time.monotonic() + timeout_s
    while (max_messages is None or moved < max_messages) and empty_receives < 2 and time.monotonic() < deadline:
        wanted = 10 if max_messages is None else min(10, max_messages - moved)
        messages = client.receive_message(
            QueueUrl=dlq_url, MaxNumberOfMessages=wanted, WaitTimeSeconds=1, VisibilityTimeout=60,
            MessageAttributeNames=["All"],
        ).get("Messages", [])  # fmt: skip
        if not messages:
            empty_receives += 1
            continue
        empty_receives = 0
        entries = [
            {"Id": str(i), "MessageBody": m["Body"], "MessageAttributes": _attributes(m)}
            for i, m in enumerate(messages)
        ]
        sent = client.send_message_batch(QueueUrl=queue_url, Entries=entries)
        ok = {int(entry["Id"]) for entry in sent.get("Successful", [])}
        failed += len(messages) - len(ok)
        if ok:
            deleted = client.delete_message_batch(
                QueueUrl=dlq_url,
                Entries=[{"Id": str(i), "ReceiptHandle": messages[i]["ReceiptHandle"]} for i in sorted(ok)],
            )
            moved += len(deleted.get("Successful", []))
        progress(f"moved {moved}" + (f" of at most {max_messages}" if max_messages else "") + f", failed {failed}")
    return RedriveResult(moved=moved, failed=failed, method="receive-send-delete")


def _attributes(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: {key: value[key] for key in _SYSTEM_KEYS if key in value}
        for name, value in message.get("MessageAttributes", {}).items()
    }
