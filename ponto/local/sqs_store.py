"""The durable half of ponto's local SQS server: queues and messages in SQLite, with SQS semantics.

Everything here runs under one lock (SQLite serialises writers anyway); the HTTP layer in
`sqs_server` parses and formats outside it.  Times are wall-clock milliseconds so that a restart on
the same file keeps every deadline: an in-flight message becomes visible again when its visibility
timeout runs out, whether or not the server was restarted in between.

Semantics follow SQS *standard* queues:

- a receive hides a message for the visibility timeout and gives it a new receipt handle; the
  receive count goes up by one per receive;
- redrive: when a receive would push a message's receive count past the queue's `maxReceiveCount`,
  the message moves to the dead-letter queue instead (same id, body, attributes, sent timestamp and
  receive count, remembering the source queue for `StartMessageMoveTask`);
- only the newest receipt handle of a message deletes it.  A delete with an older handle (the message
  was received again since) *succeeds and does nothing*, which is what SQS documents ("the request
  succeeds, but the message will not be deleted"): an in-flight message is never lost to a stale
  handle.  A delete for a message that is already gone also succeeds (deletes are idempotent);
  a handle that is not one of ours at all, or is another queue's, is `ReceiptHandleIsInvalid`;
- retention is enforced lazily: expired messages are swept (at most once a second per queue) before
  a receive and before the queue's counts are read;
- delays (`DelaySeconds` on the queue or the message) are honoured;
- `PurgeQueue` is allowed once every 60 seconds per queue (`PurgeQueueInProgress` otherwise);
- FIFO queues are not supported.

Errors are SQS's, as boto3 sees them (see `SqsError`): the modelled error shape, the query-compatible
code, the HTTP status and the wording of AWS's messages.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import re
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

ACCOUNT_ID = "000000000000"
DEFAULT_REGION = "us-east-1"
SCHEMA_VERSION = 1

# SQS's message size limit (1 MiB; raised from 256 KiB in 2025): the largest and the default
# `MaximumMessageSize` of a queue, and the limit of a `SendMessageBatch` request's total payload (the
# bodies and message attributes of all its entries), whatever the queue's own `MaximumMessageSize`.
MAX_MESSAGE_BYTES = 1_048_576
MAX_BATCH_BYTES = MAX_MESSAGE_BYTES
PURGE_INTERVAL_MS = 60_000  # one PurgeQueue per queue per 60 seconds
QUEUE_DEFAULTS: dict[str, str] = {
    "VisibilityTimeout": "30",
    "MessageRetentionPeriod": "345600",
    "DelaySeconds": "0",
    "ReceiveMessageWaitTimeSeconds": "0",
    "MaximumMessageSize": str(MAX_MESSAGE_BYTES),
}
INTEGER_RANGES: dict[str, tuple[int, int]] = {
    "VisibilityTimeout": (0, 43_200),
    "MessageRetentionPeriod": (60, 1_209_600),
    "DelaySeconds": (0, 900),
    "ReceiveMessageWaitTimeSeconds": (0, 20),
    "MaximumMessageSize": (1_024, MAX_MESSAGE_BYTES),
    "KmsDataKeyReusePeriodSeconds": (60, 86_400),
}
# Accepted and echoed back, without effect locally.
PASSIVE_ATTRIBUTES = {"Policy", "RedriveAllowPolicy", "KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds"}
SETTABLE_ATTRIBUTES = set(QUEUE_DEFAULTS) | PASSIVE_ATTRIBUTES | {"RedrivePolicy", "SqsManagedSseEnabled"}
COMPUTED_ATTRIBUTES = (
    "QueueArn",
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
)
MESSAGE_SYSTEM_ATTRIBUTES = (
    "SenderId",
    "SentTimestamp",
    "ApproximateReceiveCount",
    "ApproximateFirstReceiveTimestamp",
    "AWSTraceHeader",
    "DeadLetterQueueSourceArn",
)
FIFO_ONLY = {"FifoQueue", "ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"}

_QUEUE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_ATTRIBUTE_NAME = re.compile(r"^(?!\.)(?!.*\.\.)(?!.*\.$)[A-Za-z0-9_.-]{1,256}$")
# The characters SQS accepts in a message body (XML 1.0 characters).
_INVALID_BODY_CHARS = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_SWEEP_INTERVAL_MS = 1_000


class SqsError(Exception):
    """An error as SQS returns it over its JSON protocol.

    `shape` is the modelled error shape, sent as the body's `__type` (`com.amazonaws.sqs#<shape>`);
    `code` is the query-compatible code, sent in the `x-amzn-query-error` header (`<code>;Sender`).
    boto3 shows `code` as `Error.Code` and `shape` as `Error.QueryErrorCode` (and picks the exception
    class by `shape`).  The two differ where SQS's did (`QueueDoesNotExist` is
    `AWS.SimpleQueueService.NonExistentQueue`), and for the errors common to AWS services, which SQS
    sends as `InvalidParameterValueException` / `InvalidParameterValue` and
    `MissingRequiredParameterException` / `MissingParameter`.
    """

    def __init__(self, shape: str, code: str, message: str, *, sender: bool = True, status: int = 400):
        super().__init__(message)
        self.shape = shape
        self.code = code
        self.message = message
        self.sender = sender
        self.status = status


def queue_does_not_exist() -> SqsError:
    return SqsError(
        "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist."
    )


def invalid_parameter(message: str) -> SqsError:
    return SqsError("InvalidParameterValueException", "InvalidParameterValue", message)


def missing_parameter(name: str) -> SqsError:
    return SqsError(
        "MissingRequiredParameterException", "MissingParameter", f"The request must contain the parameter {name}."
    )


def invalid_attribute_name(name: str) -> SqsError:
    return SqsError("InvalidAttributeName", "InvalidAttributeName", f"Unknown Attribute {name}.")


def invalid_attribute_value(name: str) -> SqsError:
    return SqsError("InvalidAttributeValue", "InvalidAttributeValue", f"Invalid value for the parameter {name}.")


def receipt_handle_invalid(handle: str) -> SqsError:
    return SqsError(
        "ReceiptHandleIsInvalid",
        "ReceiptHandleIsInvalid",
        f'The input receipt handle "{handle}" is not a valid receipt handle.',
        status=404,
    )


def receipt_handle_of_another_queue(handle: str) -> SqsError:
    return SqsError(
        "ReceiptHandleIsInvalid",
        "ReceiptHandleIsInvalid",
        f'The receipt handle "{handle}" is not valid for this queue.',
        status=404,
    )


def resource_not_found(message: str) -> SqsError:
    return SqsError("ResourceNotFoundException", "ResourceNotFoundException", message, status=404)


def purge_queue_in_progress(name: str) -> SqsError:
    return SqsError(
        "PurgeQueueInProgress",
        "AWS.SimpleQueueService.PurgeQueueInProgress",
        f"Only one PurgeQueue operation on {name} is allowed every 60 seconds.",
        status=403,
    )


def message_too_long(limit: int, *, batch_entry: bool = False) -> SqsError:
    """A message over the queue's `MaximumMessageSize` (worded as SQS words it for a batch entry)."""
    reason = "cannot be validated" if batch_entry else "are invalid"
    return invalid_parameter(f"One or more parameters {reason}. Reason: Message must be shorter than {limit} bytes.")


def batch_request_too_long(total: int) -> SqsError:
    return SqsError(
        "BatchRequestTooLong",
        "AWS.SimpleQueueService.BatchRequestTooLong",
        f"Batch requests cannot be longer than {MAX_BATCH_BYTES} bytes. You have sent {total} bytes.",
    )


def message_size(body: Any, attributes: Any) -> int:
    """A message's size as SQS counts it: the body plus each message attribute's name, data type and
    value (binary values decoded), all in bytes.  Lenient, so that it also sizes entries that fail
    validation (a batch's total is checked before its entries are)."""

    def length(value: Any) -> int:
        return len(value.encode("utf-8")) if isinstance(value, str) else 0

    size = length(body)
    for name, attribute in (attributes if isinstance(attributes, dict) else {}).items():
        size += length(name)
        if not isinstance(attribute, dict):
            continue
        size += length(attribute.get("DataType"))
        if "BinaryValue" in attribute:
            try:
                size += len(base64.b64decode(attribute["BinaryValue"], validate=True))
            except (ValueError, TypeError):
                size += length(attribute["BinaryValue"])
        else:
            size += length(attribute.get("StringValue"))
    return size


# ----------------------------------------------------------------------------------------------- MD5s


def _length_prefixed(data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + data


def md5_of_body(body: str) -> str:
    return hashlib.md5(body.encode("utf-8"), usedforsecurity=False).hexdigest()


def md5_of_attributes(attributes: Mapping[str, Mapping[str, Any]]) -> str:
    """The MD5 SQS computes over message (or message system) attributes.

    For each attribute in name order: length-prefixed name, length-prefixed data type, one transport
    byte (1 string, 2 binary) and the length-prefixed value; all lengths 4-byte big-endian.
    """
    digest = hashlib.md5(usedforsecurity=False)
    for name in sorted(attributes):
        attribute = attributes[name]
        digest.update(_length_prefixed(name.encode("utf-8")))
        digest.update(_length_prefixed(str(attribute["DataType"]).encode("utf-8")))
        if "StringValue" in attribute:
            digest.update(b"\x01" + _length_prefixed(str(attribute["StringValue"]).encode("utf-8")))
        else:
            digest.update(b"\x02" + _length_prefixed(base64.b64decode(attribute["BinaryValue"])))
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------- data types


@dataclass
class Queue:
    id: int
    name: str
    created: int
    modified: int
    attributes: dict[str, str]
    tags: dict[str, str] = field(default_factory=dict)
    last_sweep_ms: int = 0
    last_purge_ms: int | None = None

    def int_attribute(self, name: str) -> int:
        return int(self.attributes.get(name, QUEUE_DEFAULTS.get(name, "0")))

    def redrive(self) -> tuple[str, int] | None:
        """(dead-letter queue name, maxReceiveCount) when the queue has a redrive policy."""
        policy = self.attributes.get("RedrivePolicy")
        if not policy:
            return None
        parsed = json.loads(policy)
        return arn_queue_name(parsed["deadLetterTargetArn"]), int(parsed["maxReceiveCount"])


@dataclass
class NewMessage:
    body: str
    attributes: dict[str, dict[str, str]]
    system_attributes: dict[str, dict[str, str]]
    delay_seconds: int | None
    message_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    md5_body: str = ""
    md5_attributes: str | None = None
    md5_system_attributes: str | None = None
    size: int = 0


@dataclass
class Delivered:
    message_id: str
    receipt_handle: str
    body: str
    attributes: dict[str, dict[str, str]]
    system_attributes: dict[str, dict[str, str]]
    sent_ms: int
    receive_count: int
    first_receive_ms: int
    sender_id: str
    source_arn: str | None


def queue_arn(name: str, region: str) -> str:
    return f"arn:aws:sqs:{region}:{ACCOUNT_ID}:{name}"


def arn_queue_name(arn: str) -> str:
    parts = arn.split(":")
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "sqs":
        raise invalid_parameter(f"Value {arn} for parameter arn is invalid. Reason: not an SQS queue ARN.")
    return parts[5]


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def _receipt(queue_id: int, seq: int, token: str) -> str:
    return f"{queue_id}-{seq}-{token}"


def _parse_receipt(handle: str) -> tuple[int, int, str]:
    parts = handle.split("-")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit() or len(parts[2]) != 16:
        raise receipt_handle_invalid(handle)
    return int(parts[0]), int(parts[1]), parts[2]


# --------------------------------------------------------------------------------------- validation


def validate_queue_name(name: str) -> None:
    if name.endswith(".fifo"):
        raise SqsError(
            "UnsupportedOperation",
            "AWS.SimpleQueueService.UnsupportedOperation",
            "FIFO queues are not supported by ponto's local SQS server.",
        )
    if not _QUEUE_NAME.match(name):
        raise invalid_parameter("Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length")


def _normalise_redrive_policy(value: str) -> str:
    try:
        policy = json.loads(value)
        target = str(policy["deadLetterTargetArn"])
        count = int(policy["maxReceiveCount"])
    except (ValueError, TypeError, KeyError) as exc:
        raise invalid_parameter(
            f"Value {value} for parameter RedrivePolicy is invalid. Reason: Redrive policy is not a "
            "JSON object with deadLetterTargetArn and maxReceiveCount."
        ) from exc
    if not 1 <= count <= 1000:
        raise invalid_parameter(
            f"Value {value} for parameter RedrivePolicy is invalid. Reason: Invalid value for "
            f"maxReceiveCount: {count}, valid values are from 1 to 1000 both inclusive."
        )
    arn_queue_name(target)
    return json.dumps({"deadLetterTargetArn": target, "maxReceiveCount": count}, separators=(",", ":"))


def normalise_queue_attributes(attributes: Mapping[str, Any]) -> dict[str, str]:
    """Validate settable queue attributes and return them as SQS stores them (strings)."""
    result: dict[str, str] = {}
    for name, raw in attributes.items():
        value = str(raw)
        if name in FIFO_ONLY:
            if name == "FifoQueue" and value.lower() == "false":
                continue
            raise SqsError(
                "UnsupportedOperation",
                "AWS.SimpleQueueService.UnsupportedOperation",
                f"{name}: FIFO queues are not supported by ponto's local SQS server.",
            )
        if name not in SETTABLE_ATTRIBUTES:
            raise invalid_attribute_name(name)
        if name in INTEGER_RANGES:
            low, high = INTEGER_RANGES[name]
            try:
                number = int(value)
            except ValueError:
                number = low - 1
            if not low <= number <= high:
                raise invalid_attribute_value(name)
            value = str(number)
        elif name == "RedrivePolicy" and value:
            value = _normalise_redrive_policy(value)
        elif name == "SqsManagedSseEnabled":
            value = "true" if value.lower() == "true" else "false"
        result[name] = value
    return result


def _validate_message_attributes(attributes: Mapping[str, Any], *, system: bool) -> dict[str, dict[str, str]]:
    """Check message attributes; return them (JSON protocol shape)."""
    if not system and len(attributes) > 10:
        raise invalid_parameter(f"Number of message attributes [{len(attributes)}] exceeds the allowed maximum [10].")
    clean: dict[str, dict[str, str]] = {}
    for name, attribute in attributes.items():
        if system:
            if name != "AWSTraceHeader":
                raise invalid_parameter(f"Message system attribute name '{name}' is invalid.")
        elif not _ATTRIBUTE_NAME.match(name) or name.lower().startswith(("aws.", "amazon.")):
            raise invalid_parameter(f"Message attribute name '{name}' is invalid.")
        if not isinstance(attribute, dict):
            raise invalid_parameter(f"The message attribute '{name}' must be a structure.")
        data_type = attribute.get("DataType")
        if not isinstance(data_type, str) or not data_type:
            raise invalid_parameter(f"The message attribute '{name}' must contain a non-empty attribute type.")
        base = data_type.split(".", 1)[0]
        if base not in ("String", "Number", "Binary"):
            raise invalid_parameter(
                f"The type of message attribute '{name}' is invalid. You must use only the following "
                "supported type prefixes: Binary, Number, String."
            )
        if attribute.get("StringListValues") or attribute.get("BinaryListValues"):
            raise invalid_parameter("Message attribute list values in SendMessage operation are not supported.")
        if base == "Binary":
            value = attribute.get("BinaryValue")
            if not isinstance(value, str) or not value:
                raise invalid_parameter(f"The message attribute '{name}' with type 'Binary' must use field 'Binary'.")
            try:
                base64.b64decode(value, validate=True)
            except ValueError as exc:
                raise invalid_parameter(f"The message attribute '{name}' has an invalid binary value.") from exc
            clean[name] = {"DataType": data_type, "BinaryValue": value}
        else:
            value = attribute.get("StringValue")
            if not isinstance(value, str) or not value:
                raise invalid_parameter(
                    f"Message (user) attribute '{name}' must contain a non-empty value of type '{base}'."
                )
            if base == "Number":
                try:
                    float(value)
                except ValueError as exc:
                    raise invalid_parameter(
                        f"Can't cast the value of message (user) attribute '{name}' to a number."
                    ) from exc
            clean[name] = {"DataType": data_type, "StringValue": value}
    return clean


def new_message(
    body: Any,
    attributes: Mapping[str, Any] | None,
    system_attributes: Mapping[str, Any] | None,
    delay_seconds: Any,
) -> NewMessage:
    """Validate one message for sending; computes the MD5s the response carries."""
    if not isinstance(body, str) or not body:
        raise missing_parameter("MessageBody")
    if _INVALID_BODY_CHARS.search(body):
        raise SqsError(
            "InvalidMessageContents",
            "InvalidMessageContents",
            "Invalid characters found. Valid values are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD "
            "| #x10000 to #x10FFFF",
        )
    clean = _validate_message_attributes(attributes or {}, system=False)
    system = _validate_message_attributes(system_attributes or {}, system=True)
    delay: int | None = None
    if delay_seconds is not None:
        if not isinstance(delay_seconds, int) or not 0 <= delay_seconds <= 900:
            raise invalid_parameter(
                f"Value {delay_seconds} for parameter DelaySeconds is invalid. "
                "Reason: DelaySeconds must be >= 0 and <= 900."
            )
        delay = delay_seconds
    message = NewMessage(body=body, attributes=clean, system_attributes=system, delay_seconds=delay)
    message.md5_body = md5_of_body(body)
    message.md5_attributes = md5_of_attributes(clean) if clean else None
    message.md5_system_attributes = md5_of_attributes(system) if system else None
    message.size = message_size(body, clean)  # checked against the queue's MaximumMessageSize
    return message


# -------------------------------------------------------------------------------------------- store

_SCHEMA = """
CREATE TABLE IF NOT EXISTS queues (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created     INTEGER NOT NULL,
    modified    INTEGER NOT NULL,
    attributes  TEXT NOT NULL,
    tags        TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS messages (
    seq               INTEGER PRIMARY KEY,
    queue_id          INTEGER NOT NULL,
    message_id        TEXT NOT NULL,
    body              TEXT NOT NULL,
    attributes        TEXT,
    system_attributes TEXT,
    sent_ms           INTEGER NOT NULL,
    visible_at        INTEGER NOT NULL,
    receive_count     INTEGER NOT NULL DEFAULT 0,
    first_receive_ms  INTEGER,
    receipt           TEXT,
    source_arn        TEXT,
    sender_id         TEXT NOT NULL
);
-- The receive query: visible messages of a queue, oldest visibility first (the rowid breaks ties).
CREATE INDEX IF NOT EXISTS messages_by_visibility ON messages (queue_id, visible_at);
-- The retention sweep.
CREATE INDEX IF NOT EXISTS messages_by_sent ON messages (queue_id, sent_ms);
CREATE TABLE IF NOT EXISTS move_tasks (
    handle       TEXT PRIMARY KEY,
    source_arn   TEXT NOT NULL,
    destination_arn TEXT,
    status       TEXT NOT NULL,
    moved        INTEGER NOT NULL,
    to_move      INTEGER NOT NULL,
    started_ms   INTEGER NOT NULL,
    failure      TEXT
);
CREATE INDEX IF NOT EXISTS move_tasks_by_source ON move_tasks (source_arn, started_ms);
"""

_MESSAGE_COLUMNS = (
    "seq, message_id, body, attributes, system_attributes, sent_ms, receive_count, first_receive_ms, "
    "sender_id, source_arn"
)


class SqsStore:
    """Queues and messages in one SQLite file (WAL), safe to share between threads.

    Durability: every send is committed before it returns.  With `synchronous="NORMAL"` (the default)
    in WAL mode a commit is in the operating system's hands when it returns, so it survives the
    server process crashing, being killed or interrupted; only an operating-system crash or power
    loss can lose the last commits (the WAL is fsynced at checkpoints).  `synchronous="FULL"` fsyncs
    the WAL on every commit and survives those too, at the cost of one fsync per request.

    The file is opened in exclusive locking mode: a second server on the same file fails at start
    instead of the two silently disagreeing about the queues.
    """

    def __init__(self, path: str | os.PathLike[str], *, synchronous: str = "NORMAL") -> None:
        if synchronous.upper() not in ("NORMAL", "FULL"):
            raise ValueError("synchronous must be NORMAL or FULL")
        self._synchronous = synchronous.upper()
        self._lock = threading.Lock()
        self._conditions: dict[int, threading.Condition] = {}
        self._closed = False
        self._conn = sqlite3.connect(os.fspath(path), check_same_thread=False, isolation_level=None, timeout=1.0)
        try:
            self._open()
        except sqlite3.OperationalError as exc:
            self._conn.close()
            if "locked" in str(exc):
                raise RuntimeError(f"{path} is in use by another process ({exc})") from exc
            raise
        self._queues: dict[str, Queue] = {}
        for row in self._conn.execute("SELECT id, name, created, modified, attributes, tags FROM queues"):
            self._queues[row[1]] = Queue(row[0], row[1], row[2], row[3], json.loads(row[4]), json.loads(row[5]))

    # ------------------------------------------------------------------------------------ plumbing

    def _open(self) -> None:
        """Pragmas, the exclusive lock, the schema."""
        conn = self._conn
        conn.execute("PRAGMA locking_mode=EXCLUSIVE")
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise sqlite3.OperationalError(f"could not switch to WAL mode (got {mode})")
        conn.execute(f"PRAGMA synchronous={self._synchronous}")
        conn.execute("PRAGMA cache_size=-32000")
        conn.execute("PRAGMA temp_store=MEMORY")
        conn.execute("BEGIN IMMEDIATE")  # takes the exclusive lock now, or fails within the timeout
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        conn.execute("COMMIT")

    def close(self) -> None:
        """Wake every long poll (they return empty) and close the database."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for condition in self._conditions.values():
                condition.notify_all()
            self._conn.close()

    @property
    def closed(self) -> bool:
        return self._closed

    def _check_open(self) -> None:
        if self._closed:
            raise SqsError(
                "ServiceUnavailable", "ServiceUnavailable", "The server is shutting down.", sender=False, status=503
            )

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One explicit transaction (the connection is in autocommit mode otherwise)."""
        self._conn.execute("BEGIN")
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def _queue(self, name: str) -> Queue:
        self._check_open()
        queue = self._queues.get(name)
        if queue is None:
            raise queue_does_not_exist()
        return queue

    def _condition(self, queue_id: int) -> threading.Condition:
        condition = self._conditions.get(queue_id)
        if condition is None:
            condition = self._conditions[queue_id] = threading.Condition(self._lock)
        return condition

    def _sweep(self, queue: Queue, now: int, *, force: bool = False) -> None:
        if not force and now - queue.last_sweep_ms < _SWEEP_INTERVAL_MS:
            return
        queue.last_sweep_ms = now
        cutoff = now - queue.int_attribute("MessageRetentionPeriod") * 1000
        self._conn.execute("DELETE FROM messages WHERE queue_id = ? AND sent_ms < ?", (queue.id, cutoff))

    # -------------------------------------------------------------------------------------- queues

    def create_queue(self, name: str, attributes: Mapping[str, Any], tags: Mapping[str, str] | None = None) -> Queue:
        validate_queue_name(name)
        clean = normalise_queue_attributes(attributes)
        with self._lock:
            self._check_open()
            self._check_redrive_target(clean, attributes)
            existing = self._queues.get(name)
            if existing is not None:
                for key, value in clean.items():
                    if existing.attributes.get(key, QUEUE_DEFAULTS.get(key, "")) != value:
                        raise SqsError(
                            "QueueNameExists",
                            "QueueAlreadyExists",
                            f"A queue already exists with the same name and a different value for attribute {key}",
                        )
                return existing
            stamp = int(time.time())
            stored = {**QUEUE_DEFAULTS, **{k: v for k, v in clean.items() if v != ""}}
            cursor = self._conn.execute(
                "INSERT INTO queues (name, created, modified, attributes, tags) VALUES (?, ?, ?, ?, ?)",
                (name, stamp, stamp, json.dumps(stored), json.dumps(dict(tags or {}))),
            )
            assert cursor.lastrowid is not None
            queue = Queue(cursor.lastrowid, name, stamp, stamp, stored, dict(tags or {}))
            self._queues[name] = queue
            return queue

    def _check_redrive_target(self, attributes: Mapping[str, str], given: Mapping[str, Any]) -> None:
        policy = attributes.get("RedrivePolicy")
        if policy:
            target = json.loads(policy)["deadLetterTargetArn"]
            if arn_queue_name(target) not in self._queues:
                raise invalid_parameter(
                    f"Value {given['RedrivePolicy']} for parameter RedrivePolicy is invalid. "
                    "Reason: Dead letter target does not exist."
                )

    def get_queue(self, name: str) -> Queue:
        with self._lock:
            return self._queue(name)

    def list_queues(self, prefix: str = "") -> list[str]:
        with self._lock:
            self._check_open()
            return sorted(name for name in self._queues if name.startswith(prefix))

    def delete_queue(self, name: str) -> None:
        with self._lock:
            queue = self._queue(name)
            with self._transaction():
                self._conn.execute("DELETE FROM messages WHERE queue_id = ?", (queue.id,))
                self._conn.execute("DELETE FROM queues WHERE id = ?", (queue.id,))
            del self._queues[name]
            condition = self._conditions.pop(queue.id, None)
            if condition is not None:
                condition.notify_all()

    def set_queue_attributes(self, name: str, attributes: Mapping[str, Any]) -> None:
        clean = normalise_queue_attributes(attributes)
        with self._lock:
            queue = self._queue(name)
            self._check_redrive_target(clean, attributes)
            updated = dict(queue.attributes)
            for key, value in clean.items():
                if value == "" and key not in QUEUE_DEFAULTS:
                    updated.pop(key, None)
                else:
                    updated[key] = value
            stamp = int(time.time())
            self._conn.execute(
                "UPDATE queues SET attributes = ?, modified = ? WHERE id = ?", (json.dumps(updated), stamp, queue.id)
            )
            queue.attributes = updated
            queue.modified = stamp

    def queue_attributes(self, name: str, names: Iterable[str], region: str) -> dict[str, str]:
        wanted = set(names)
        everything = "All" in wanted
        for attribute in wanted:
            if attribute != "All" and attribute not in SETTABLE_ATTRIBUTES and attribute not in COMPUTED_ATTRIBUTES:
                if attribute in FIFO_ONLY:
                    continue
                raise invalid_attribute_name(attribute)
        with self._lock:
            queue = self._queue(name)
            result: dict[str, str] = {}
            for key, value in queue.attributes.items():
                if everything or key in wanted:
                    result[key] = value
            counts_wanted = everything or any(a.startswith("ApproximateNumberOfMessages") for a in wanted)
            if counts_wanted:
                now = now_ms()
                self._sweep(queue, now, force=True)
                visible = self._conn.execute(
                    "SELECT COUNT(*) FROM messages WHERE queue_id = ? AND visible_at <= ?", (queue.id, now)
                ).fetchone()[0]
                hidden = dict(
                    self._conn.execute(
                        "SELECT receive_count > 0, COUNT(*) FROM messages WHERE queue_id = ? AND visible_at > ? "
                        "GROUP BY 1",
                        (queue.id, now),
                    ).fetchall()
                )
                counts = {
                    "ApproximateNumberOfMessages": visible,
                    "ApproximateNumberOfMessagesNotVisible": hidden.get(1, 0),
                    "ApproximateNumberOfMessagesDelayed": hidden.get(0, 0),
                }
                for key, count in counts.items():
                    if everything or key in wanted:
                        result[key] = str(count)
            computed = {
                "QueueArn": queue_arn(queue.name, region),
                "CreatedTimestamp": str(queue.created),
                "LastModifiedTimestamp": str(queue.modified),
            }
            for key, value in computed.items():
                if everything or key in wanted:
                    result[key] = value
            return result

    def dead_letter_source_queues(self, name: str) -> list[str]:
        with self._lock:
            self._queue(name)
            return sorted(q.name for q in self._queues.values() if (q.redrive() or ("", 0))[0] == name)

    def tag_queue(self, name: str, add: Mapping[str, str], remove: Sequence[str] = ()) -> dict[str, str]:
        with self._lock:
            queue = self._queue(name)
            tags = {**queue.tags, **add}
            for key in remove:
                tags.pop(key, None)
            if add or remove:
                self._conn.execute("UPDATE queues SET tags = ? WHERE id = ?", (json.dumps(tags), queue.id))
                queue.tags = tags
            return dict(tags)

    def purge_queue(self, name: str) -> None:
        with self._lock:
            queue = self._queue(name)
            now = now_ms()
            if queue.last_purge_ms is not None and now - queue.last_purge_ms < PURGE_INTERVAL_MS:
                raise purge_queue_in_progress(name)
            self._conn.execute("DELETE FROM messages WHERE queue_id = ?", (queue.id,))
            queue.last_purge_ms = now

    # ------------------------------------------------------------------------------------ messages

    def send(self, name: str, messages: Sequence[NewMessage], sender_id: str) -> None:
        """Commit the messages to the queue (all or none) and wake its long polls."""
        with self._lock:
            queue = self._queue(name)
            limit = queue.int_attribute("MaximumMessageSize")
            for message in messages:
                if message.size > limit:
                    raise message_too_long(limit)
            now = now_ms()
            queue_delay = queue.int_attribute("DelaySeconds")
            rows = [
                (
                    queue.id,
                    m.message_id,
                    m.body,
                    json.dumps(m.attributes) if m.attributes else None,
                    json.dumps(m.system_attributes) if m.system_attributes else None,
                    now,
                    now + 1000 * (queue_delay if m.delay_seconds is None else m.delay_seconds),
                    sender_id,
                )
                for m in messages
            ]
            with self._transaction():
                self._conn.executemany(
                    "INSERT INTO messages (queue_id, message_id, body, attributes, system_attributes, sent_ms, "
                    "visible_at, sender_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )
            condition = self._conditions.get(queue.id)
            if condition is not None:
                condition.notify(len(rows))

    def receive(
        self,
        name: str,
        max_messages: int,
        visibility_timeout: int | None,
        wait_seconds: int | None,
        region: str,
    ) -> list[Delivered]:
        """Receive up to `max_messages`, waiting up to `wait_seconds` for the first to be visible."""
        deadline = time.monotonic() + (wait_seconds or 0)
        with self._lock:
            queue = self._queue(name)
            if wait_seconds is None:
                deadline += queue.int_attribute("ReceiveMessageWaitTimeSeconds")
            while True:
                queue = self._queue(name)
                now = now_ms()
                vt = queue.int_attribute("VisibilityTimeout") if visibility_timeout is None else visibility_timeout
                with self._transaction():
                    delivered = self._receive_now(queue, max_messages, vt, now, region)
                remaining = deadline - time.monotonic()
                if delivered or remaining <= 0:
                    return delivered
                upcoming = self._conn.execute(
                    "SELECT MIN(visible_at) FROM messages WHERE queue_id = ? AND visible_at > ?", (queue.id, now)
                ).fetchone()[0]
                if upcoming is not None:
                    remaining = min(remaining, (upcoming - now) / 1000 + 0.002)
                self._condition(queue.id).wait(remaining)
                if self._closed:
                    return []

    def _receive_now(self, queue: Queue, max_messages: int, vt: int, now: int, region: str) -> list[Delivered]:
        """One receive attempt, inside the caller's transaction."""
        self._sweep(queue, now)
        redrive = queue.redrive()
        dead_letter = self._queues.get(redrive[0]) if redrive else None
        source_arn = queue_arn(queue.name, region)
        delivered: list[Delivered] = []
        seen: set[int] = set()
        updates: list[tuple[int, int, int, str, int]] = []
        moves: list[tuple[int, str, int, int]] = []
        moved: list[tuple[int, str, int, int]] = []
        visible_at = now + vt * 1000
        while len(delivered) < max_messages:
            rows = self._conn.execute(
                f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE queue_id = ? AND visible_at <= ? "
                "ORDER BY visible_at, seq LIMIT ?",
                (queue.id, now, max_messages - len(delivered) + len(seen)),
            ).fetchall()
            fresh = [row for row in rows if row[0] not in seen]
            if not fresh:
                break
            for seq, message_id, body, attributes, system, sent, count, first, sender, source in fresh:
                seen.add(seq)
                if len(delivered) >= max_messages:
                    break
                if redrive is not None and dead_letter is not None and count + 1 > redrive[1]:
                    moves.append((dead_letter.id, source_arn, now, seq))
                    continue
                token = os.urandom(8).hex()
                first_receive = now if first is None else first
                updates.append((visible_at, count + 1, first_receive, token, seq))
                delivered.append(
                    Delivered(
                        message_id=message_id,
                        receipt_handle=_receipt(queue.id, seq, token),
                        body=body,
                        attributes=json.loads(attributes) if attributes else {},
                        system_attributes=json.loads(system) if system else {},
                        sent_ms=sent,
                        receive_count=count + 1,
                        first_receive_ms=first_receive,
                        sender_id=sender,
                        source_arn=source,
                    )
                )
            # Rows moved to the dead-letter queue must leave this queue before the next page.
            if moves:
                self._conn.executemany(
                    "UPDATE messages SET queue_id = ?, source_arn = ?, visible_at = ?, receipt = NULL WHERE seq = ?",
                    moves,
                )
                moved.extend(moves)
                moves = []
        if updates:
            self._conn.executemany(
                "UPDATE messages SET visible_at = ?, receive_count = ?, first_receive_ms = ?, receipt = ? "
                "WHERE seq = ?",
                updates,
            )
        if moved and dead_letter is not None:
            condition = self._conditions.get(dead_letter.id)
            if condition is not None:
                condition.notify_all()
        return delivered

    def delete(self, name: str, handles: Sequence[str]) -> list[SqsError | None]:
        """Delete by receipt handle; per handle None (done, or a stale handle: no-op) or the error."""
        with self._lock:
            queue = self._queue(name)
            results: list[SqsError | None] = []
            rows: list[tuple[int, int, str]] = []
            for handle in handles:
                try:
                    queue_id, seq, token = _parse_receipt(handle)
                except SqsError as exc:
                    results.append(exc)
                    continue
                if queue_id != queue.id:
                    results.append(receipt_handle_of_another_queue(handle))
                    continue
                # A handle from an older receive or of a deleted message: nothing to do.
                rows.append((seq, queue.id, token))
                results.append(None)
            if rows:
                with self._transaction() as conn:
                    conn.executemany("DELETE FROM messages WHERE seq = ? AND queue_id = ? AND receipt = ?", rows)
            return results

    def change_visibility(self, name: str, changes: Sequence[tuple[str, int]]) -> list[SqsError | None]:
        with self._lock:
            queue = self._queue(name)
            now = now_ms()
            results: list[SqsError | None] = []
            updates: list[tuple[int, int]] = []
            for handle, timeout in changes:
                try:
                    queue_id, seq, token = _parse_receipt(handle)
                    if queue_id != queue.id:
                        raise receipt_handle_of_another_queue(handle)
                    if not 0 <= timeout <= 43_200:
                        raise invalid_parameter(
                            f"Value {timeout} for parameter VisibilityTimeout is invalid. "
                            "Reason: Must be between 0 and 43200, if provided."
                        )
                    row = self._conn.execute(
                        "SELECT visible_at, receipt FROM messages WHERE seq = ? AND queue_id = ?", (seq, queue.id)
                    ).fetchone()
                    if row is None or row[1] != token:
                        raise invalid_parameter(
                            f"Value {handle} for parameter ReceiptHandle is invalid. Reason: Message does not "
                            "exist or is not available for visibility timeout change."
                        )
                    if row[0] <= now:
                        raise SqsError(
                            "MessageNotInflight",
                            "AWS.SimpleQueueService.MessageNotInflight",
                            "The message referred to isn't in flight.",
                        )
                except SqsError as exc:
                    results.append(exc)
                    continue
                updates.append((now + timeout * 1000, seq))
                results.append(None)
            if updates:
                with self._transaction():
                    self._conn.executemany("UPDATE messages SET visible_at = ? WHERE seq = ?", updates)
                condition = self._conditions.get(queue.id)
                if condition is not None:
                    condition.notify_all()
            return results

    # ------------------------------------------------------------------------------- move tasks

    def start_move_task(self, source_arn: str, destination_arn: str | None) -> str:
        """Move every message now visible in a dead-letter queue back (to its source, or the destination).

        The move is done at once, in one transaction, so the task is COMPLETED (or FAILED, if some
        message's source queue no longer exists: those stay in the dead-letter queue) when this returns.
        """
        source_name = arn_queue_name(source_arn)
        destination_name = arn_queue_name(destination_arn) if destination_arn else None
        with self._lock:
            self._check_open()
            source = self._queues.get(source_name)
            if source is None:
                raise resource_not_found("The resource that you specified for the SourceArn parameter doesn't exist.")
            if not any((q.redrive() or ("", 0))[0] == source_name for q in self._queues.values()):
                raise invalid_parameter("Source queue must be configured as a Dead Letter Queue.")
            destination = None
            if destination_name is not None:
                destination = self._queues.get(destination_name)
                if destination is None:
                    raise resource_not_found(
                        "The resource that you specified for the DestinationArn parameter doesn't exist."
                    )
            now = now_ms()
            self._sweep(source, now, force=True)
            rows = self._conn.execute(
                "SELECT seq, source_arn FROM messages WHERE queue_id = ? AND visible_at <= ?", (source.id, now)
            ).fetchall()
            moves: list[tuple[int, int, int]] = []
            missing: set[str] = set()
            for seq, origin in rows:
                target = destination
                if target is None and origin:
                    target = self._queues.get(arn_queue_name(origin))
                if target is None:
                    missing.add(origin or "(unknown)")
                    continue
                moves.append((target.id, now, seq))
            handle = base64.urlsafe_b64encode(
                json.dumps({"taskId": str(uuid.uuid4()), "sourceArn": source_arn}).encode()
            ).decode()
            failure = f"source queue(s) no longer exist: {', '.join(sorted(missing))}" if missing else None
            with self._transaction():
                self._conn.executemany(
                    "UPDATE messages SET queue_id = ?, visible_at = ?, receive_count = 0, first_receive_ms = NULL, "
                    "receipt = NULL, source_arn = NULL WHERE seq = ?",
                    moves,
                )
                self._conn.execute(
                    "INSERT INTO move_tasks (handle, source_arn, destination_arn, status, moved, to_move, "
                    "started_ms, failure) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        handle,
                        source_arn,
                        destination_arn,
                        "FAILED" if missing else "COMPLETED",
                        len(moves),
                        len(rows),
                        now,
                        failure,
                    ),
                )
            for target_id in {m[0] for m in moves}:
                condition = self._conditions.get(target_id)
                if condition is not None:
                    condition.notify_all()
            return handle

    def list_move_tasks(self, source_arn: str, max_results: int) -> list[dict[str, Any]]:
        arn_queue_name(source_arn)
        with self._lock:
            self._check_open()
            rows = self._conn.execute(
                "SELECT source_arn, destination_arn, status, moved, to_move, started_ms, failure FROM move_tasks "
                "WHERE source_arn = ? ORDER BY started_ms DESC, rowid DESC LIMIT ?",
                (source_arn, max_results),
            ).fetchall()
        tasks = []
        for source, destination, status, moved, to_move, started, failure in rows:
            task: dict[str, Any] = {
                "Status": status,
                "SourceArn": source,
                "ApproximateNumberOfMessagesMoved": moved,
                "ApproximateNumberOfMessagesToMove": to_move,
                "StartedTimestamp": started,
            }
            if destination:
                task["DestinationArn"] = destination
            if failure:
                task["FailureReason"] = failure
            tasks.append(task)
        return tasks

    def cancel_move_task(self, handle: str) -> int:
        try:
            decoded = json.loads(base64.urlsafe_b64decode(handle.encode("utf-8")))
            str(decoded["taskId"])
            source_name = arn_queue_name(str(decoded["sourceArn"]))
        except (ValueError, TypeError, KeyError, SqsError):
            raise invalid_parameter("Value for parameter TaskHandle is invalid.") from None
        with self._lock:
            self._check_open()
            if source_name not in self._queues:
                raise resource_not_found("The resource that you specified for the SourceArn parameter doesn't exist.")
            row = self._conn.execute("SELECT status FROM move_tasks WHERE handle = ?", (handle,)).fetchone()
        if row is None:
            raise resource_not_found("Task does not exist.")
        # Tasks finish inside StartMessageMoveTask, so there is never one running to cancel.
        raise SqsError(
            "UnsupportedOperation",
            "AWS.SimpleQueueService.UnsupportedOperation",
            f"The task is not running (status {row[0]}); only running tasks can be cancelled.",
        )
