"""An embedded, durable, SQS-compatible server for `ponto local`.

boto3 talks to it through `endpoint_url`, with the SQS JSON protocol (boto3 >= 1.34): `POST /` with
`X-Amz-Target: AmazonSQS.<Action>` and a JSON body.  Messages live in SQLite (see `sqs_store` for
the semantics and the durability a reply promises); any credentials and signature are accepted, so
the server binds loopback addresses only.

    python -m ponto.local.sqs_server --port 9324 --db .ponto/sqs.db

prints `ponto-sqs listening on http://127.0.0.1:9324` when it is ready, and stops cleanly (closing
the database) on SIGINT or SIGTERM.  From Python:

    with SqsServer("sqs.db", port=0) as server:      # or server = SqsServer(...).start(); server.stop()
        boto3.client("sqs", endpoint_url=server.url, ...)
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import json
import re
import signal
import socket
import socketserver
import sys
import threading
import traceback
import uuid
from collections.abc import Callable, Mapping, Sequence
from types import FrameType, TracebackType
from typing import Any, ClassVar

from ponto.local.sqs_store import (
    ACCOUNT_ID,
    DEFAULT_REGION,
    MAX_BATCH_BYTES,
    MESSAGE_SYSTEM_ATTRIBUTES,
    Delivered,
    NewMessage,
    SqsError,
    SqsStore,
    arn_queue_name,
    batch_request_too_long,
    invalid_parameter,
    md5_of_attributes,
    md5_of_body,
    message_size,
    message_too_long,
    missing_parameter,
    new_message,
    queue_does_not_exist,
)

JSON_CONTENT_TYPE = "application/x-amz-json-1.0"
_CREDENTIAL = re.compile(r"Credential=([^/,\s]*)/[^/]*/([^/]*)/")
_BATCH_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_DEFAULT_SENDER = "AIDAPONTOLOCAL000000"

Params = Mapping[str, Any]
Result = dict[str, Any]


class RequestContext:
    __slots__ = ("region", "sender_id")

    def __init__(self, authorization: str | None) -> None:
        match = _CREDENTIAL.search(authorization or "")
        self.sender_id = (match.group(1) if match else "") or _DEFAULT_SENDER
        self.region = (match.group(2) if match else "") or DEFAULT_REGION


def _integer(params: Params, name: str, low: int, high: int, *, between: bool = True) -> int | None:
    """An optional integer parameter; out of range it is SQS's `InvalidParameterValue`, whose reason
    SQS words as "Must be between 1 and 10" for some parameters and "Must be >= 0 and <= 20" for others."""
    value = params.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        bounds = f"between {low} and {high}" if between else f">= {low} and <= {high}"
        reason = f"Must be {bounds}, if provided."
        raise invalid_parameter(f"Value {value} for parameter {name} is invalid. Reason: {reason}")
    return value


def _required(params: Params, name: str) -> Any:
    value = params.get(name)
    if value is None:
        raise missing_parameter(name)
    return value


def _batch_entries(params: Params, action: str) -> list[dict[str, Any]]:
    """A batch's entries, when there are 1 to 10 (their ids are checked by `_check_batch_ids`)."""
    entries = params.get("Entries") or []
    if not isinstance(entries, list) or not entries:
        raise SqsError(
            "EmptyBatchRequest",
            "AWS.SimpleQueueService.EmptyBatchRequest",
            f"There should be at least one {action}RequestEntry in the request.",
        )
    if len(entries) > 10:
        raise SqsError(
            "TooManyEntriesInBatchRequest",
            "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
            f"Maximum number of entries per request are 10. You have sent {len(entries)}.",
        )
    return entries


def _check_batch_ids(entries: Sequence[Any]) -> None:
    ids: set[str] = set()
    for entry in entries:
        entry_id = entry.get("Id") if isinstance(entry, dict) else None
        if not isinstance(entry_id, str) or not _BATCH_ID.match(entry_id):
            raise SqsError(
                "InvalidBatchEntryId",
                "AWS.SimpleQueueService.InvalidBatchEntryId",
                "A batch entry id can only contain alphanumeric characters, hyphens and underscores. "
                "It can be at most 80 letters long.",
            )
        if entry_id in ids:
            raise SqsError(
                "BatchEntryIdsNotDistinct",
                "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
                f"Id {entry_id} repeated.",
            )
        ids.add(entry_id)


def _failed(entry_id: str, error: SqsError) -> Result:
    return {"Id": entry_id, "SenderFault": error.sender, "Code": error.code, "Message": error.message}


def _attribute_selector(names: Sequence[str]) -> Callable[[str], bool]:
    if "All" in names or ".*" in names:
        return lambda name: True
    exact = {n for n in names if not n.endswith(".*")}
    prefixes = tuple(n[:-1] for n in names if n.endswith(".*"))
    return lambda name: name in exact or (bool(prefixes) and name.startswith(prefixes))


class SqsApi:
    """The SQS actions over a `SqsStore`; transport-independent (params in, result dict out)."""

    def __init__(self, store: SqsStore, base_url: str) -> None:
        self.store = store
        self.base_url = base_url.rstrip("/")
        self._actions: dict[str, Callable[[Params, RequestContext], Result]] = {
            name[4:]: getattr(self, name) for name in dir(self) if name.startswith("_op_")
        }

    def dispatch(self, action: str, params: Params, context: RequestContext) -> Result:
        handler = self._actions.get(action)
        if handler is None:
            raise SqsError(
                "UnsupportedOperation",
                "AWS.SimpleQueueService.UnsupportedOperation",
                f"ponto's local SQS server does not implement {action or 'an empty action'}.",
            )
        return handler(params, context)

    def queue_url(self, name: str) -> str:
        return f"{self.base_url}/{ACCOUNT_ID}/{name}"

    @staticmethod
    def _queue_name(params: Params) -> str:
        url = params.get("QueueUrl")
        if not isinstance(url, str) or not url.strip("/"):
            raise queue_does_not_exist()
        return url.rstrip("/").rsplit("/", 1)[-1]

    # -- queues --------------------------------------------------------------------------------

    def _op_CreateQueue(self, params: Params, context: RequestContext) -> Result:
        queue = self.store.create_queue(
            str(_required(params, "QueueName")), params.get("Attributes") or {}, params.get("tags")
        )
        return {"QueueUrl": self.queue_url(queue.name)}

    def _op_GetQueueUrl(self, params: Params, context: RequestContext) -> Result:
        queue = self.store.get_queue(str(_required(params, "QueueName")))
        return {"QueueUrl": self.queue_url(queue.name)}

    def _op_ListQueues(self, params: Params, context: RequestContext) -> Result:
        names = self.store.list_queues(str(params.get("QueueNamePrefix") or ""))
        token = params.get("NextToken")
        if token:
            names = [n for n in names if n > str(token)]
        limit = _integer(params, "MaxResults", 1, 1000)
        result: Result = {}
        if limit is not None and len(names) > limit:
            names = names[:limit]
            result["NextToken"] = names[-1]
        elif limit is None:
            names = names[:1000]
        if names:
            result["QueueUrls"] = [self.queue_url(n) for n in names]
        return result

    def _op_DeleteQueue(self, params: Params, context: RequestContext) -> Result:
        self.store.delete_queue(self._queue_name(params))
        return {}

    def _op_PurgeQueue(self, params: Params, context: RequestContext) -> Result:
        self.store.purge_queue(self._queue_name(params))
        return {}

    def _op_GetQueueAttributes(self, params: Params, context: RequestContext) -> Result:
        names = params.get("AttributeNames") or []
        attributes = self.store.queue_attributes(self._queue_name(params), names, context.region)
        return {"Attributes": attributes} if attributes else {}

    def _op_SetQueueAttributes(self, params: Params, context: RequestContext) -> Result:
        self.store.set_queue_attributes(self._queue_name(params), _required(params, "Attributes"))
        return {}

    def _op_ListDeadLetterSourceQueues(self, params: Params, context: RequestContext) -> Result:
        names = self.store.dead_letter_source_queues(self._queue_name(params))
        return {"queueUrls": [self.queue_url(n) for n in names]}

    def _op_TagQueue(self, params: Params, context: RequestContext) -> Result:
        self.store.tag_queue(self._queue_name(params), dict(_required(params, "Tags")))
        return {}

    def _op_UntagQueue(self, params: Params, context: RequestContext) -> Result:
        self.store.tag_queue(self._queue_name(params), {}, list(_required(params, "TagKeys")))
        return {}

    def _op_ListQueueTags(self, params: Params, context: RequestContext) -> Result:
        tags = self.store.tag_queue(self._queue_name(params), {})
        return {"Tags": tags} if tags else {}

    def _op_AddPermission(self, params: Params, context: RequestContext) -> Result:
        self.store.get_queue(self._queue_name(params))  # accepted and ignored: no IAM locally
        return {}

    def _op_RemovePermission(self, params: Params, context: RequestContext) -> Result:
        self.store.get_queue(self._queue_name(params))
        return {}

    # -- messages ------------------------------------------------------------------------------

    @staticmethod
    def _new_message(params: Params) -> NewMessage:
        return new_message(
            params.get("MessageBody"),
            params.get("MessageAttributes"),
            params.get("MessageSystemAttributes"),
            params.get("DelaySeconds"),
        )

    @staticmethod
    def _sent(message: NewMessage) -> Result:
        result: Result = {"MessageId": message.message_id, "MD5OfMessageBody": message.md5_body}
        if message.md5_attributes:
            result["MD5OfMessageAttributes"] = message.md5_attributes
        if message.md5_system_attributes:
            result["MD5OfMessageSystemAttributes"] = message.md5_system_attributes
        return result

    def _op_SendMessage(self, params: Params, context: RequestContext) -> Result:
        name = self._queue_name(params)
        message = self._new_message(params)
        self.store.send(name, [message], context.sender_id)
        return self._sent(message)

    def _op_SendMessageBatch(self, params: Params, context: RequestContext) -> Result:
        name = self._queue_name(params)
        entries = _batch_entries(params, "SendMessageBatch")
        # The whole request's payload first, before any entry is looked at: every entry counts, valid
        # or not, against SQS's fixed limit (not the queue's MaximumMessageSize, which is per entry).
        total = sum(
            message_size(e.get("MessageBody"), e.get("MessageAttributes")) for e in entries if isinstance(e, dict)
        )
        if total > MAX_BATCH_BYTES:
            raise batch_request_too_long(total)
        _check_batch_ids(entries)
        limit = self.store.get_queue(name).int_attribute("MaximumMessageSize")
        accepted: list[tuple[str, NewMessage]] = []
        failed: list[Result] = []
        for entry in entries:
            try:
                message = self._new_message(entry)
                if message.size > limit:
                    raise message_too_long(limit, batch_entry=True)
            except SqsError as error:
                failed.append(_failed(entry["Id"], error))
                continue
            accepted.append((entry["Id"], message))
        if accepted:
            self.store.send(name, [m for _, m in accepted], context.sender_id)
        return {
            "Successful": [{"Id": entry_id, **self._sent(m)} for entry_id, m in accepted],
            "Failed": failed,
        }

    def _op_ReceiveMessage(self, params: Params, context: RequestContext) -> Result:
        name = self._queue_name(params)
        max_messages = _integer(params, "MaxNumberOfMessages", 1, 10) or 1
        visibility = _integer(params, "VisibilityTimeout", 0, 43_200, between=False)
        wait = _integer(params, "WaitTimeSeconds", 0, 20, between=False)
        system_names = [*(params.get("AttributeNames") or []), *(params.get("MessageSystemAttributeNames") or [])]
        attribute_names = params.get("MessageAttributeNames") or []
        delivered = self.store.receive(name, max_messages, visibility, wait, context.region)
        if not delivered:
            return {}
        wants_system = set(MESSAGE_SYSTEM_ATTRIBUTES) if "All" in system_names else set(system_names)
        wants_attribute = _attribute_selector(attribute_names) if attribute_names else None
        return {"Messages": [self._message(m, wants_system, wants_attribute) for m in delivered]}

    @staticmethod
    def _message(message: Delivered, system_names: set[str], wants_attribute: Callable[[str], bool] | None) -> Result:
        result: Result = {
            "MessageId": message.message_id,
            "ReceiptHandle": message.receipt_handle,
            "MD5OfBody": md5_of_body(message.body),
            "Body": message.body,
        }
        if system_names:
            available = {
                "SenderId": message.sender_id,
                "SentTimestamp": str(message.sent_ms),
                "ApproximateReceiveCount": str(message.receive_count),
                "ApproximateFirstReceiveTimestamp": str(message.first_receive_ms),
            }
            trace = message.system_attributes.get("AWSTraceHeader")
            if trace is not None:
                available["AWSTraceHeader"] = trace["StringValue"]
            if message.source_arn:
                available["DeadLetterQueueSourceArn"] = message.source_arn
            result["Attributes"] = {k: v for k, v in available.items() if k in system_names}
        if wants_attribute is not None and message.attributes:
            chosen = {k: v for k, v in message.attributes.items() if wants_attribute(k)}
            if chosen:
                result["MessageAttributes"] = chosen
                result["MD5OfMessageAttributes"] = md5_of_attributes(chosen)
        return result

    @staticmethod
    def _raise_single(errors: Sequence[SqsError | None]) -> None:
        if errors and errors[0] is not None:
            raise errors[0]

    def _op_DeleteMessage(self, params: Params, context: RequestContext) -> Result:
        name = self._queue_name(params)
        self._raise_single(self.store.delete(name, [str(_required(params, "ReceiptHandle"))]))
        return {}

    def _op_DeleteMessageBatch(self, params: Params, context: RequestContext) -> Result:
        name = self._queue_name(params)
        entries = _batch_entries(params, "DeleteMessageBatch")
        _check_batch_ids(entries)
        errors = self.store.delete(name, [str(e.get("ReceiptHandle", "")) for e in entries])
        return self._batch_result(entries, errors)

    def _op_ChangeMessageVisibility(self, params: Params, context: RequestContext) -> Result:
        name = self._queue_name(params)
        timeout = _required(params, "VisibilityTimeout")
        if not isinstance(timeout, int) or isinstance(timeout, bool):
            raise invalid_parameter(f"Value {timeout} for parameter VisibilityTimeout is invalid.")
        self._raise_single(self.store.change_visibility(name, [(str(_required(params, "ReceiptHandle")), timeout)]))
        return {}

    def _op_ChangeMessageVisibilityBatch(self, params: Params, context: RequestContext) -> Result:
        name = self._queue_name(params)
        entries = _batch_entries(params, "ChangeMessageVisibilityBatch")
        _check_batch_ids(entries)
        errors: list[SqsError | None] = []
        changes: list[tuple[str, int]] = []
        for entry in entries:
            timeout = entry.get("VisibilityTimeout") or 0
            if isinstance(timeout, int) and not isinstance(timeout, bool):
                changes.append((str(entry.get("ReceiptHandle", "")), timeout))
                errors.append(None)
            else:
                errors.append(invalid_parameter(f"Value {timeout} for parameter VisibilityTimeout is invalid."))
        changed = iter(self.store.change_visibility(name, changes))
        return self._batch_result(entries, [error or next(changed) for error in errors])

    @staticmethod
    def _batch_result(entries: Sequence[Mapping[str, Any]], errors: Sequence[SqsError | None]) -> Result:
        successful: list[Result] = []
        failed: list[Result] = []
        for entry, error in zip(entries, errors, strict=True):
            if error is None:
                successful.append({"Id": entry["Id"]})
            else:
                failed.append(_failed(entry["Id"], error))
        return {"Successful": successful, "Failed": failed}

    # -- dead-letter queue redrive -------------------------------------------------------------

    def _op_StartMessageMoveTask(self, params: Params, context: RequestContext) -> Result:
        source = str(_required(params, "SourceArn"))
        destination = params.get("DestinationArn")
        _integer(params, "MaxNumberOfMessagesPerSecond", 1, 500)  # validated, then ignored: moves are instant
        handle = self.store.start_move_task(source, str(destination) if destination else None)
        return {"TaskHandle": handle}

    def _op_ListMessageMoveTasks(self, params: Params, context: RequestContext) -> Result:
        source = str(_required(params, "SourceArn"))
        arn_queue_name(source)
        limit = _integer(params, "MaxResults", 1, 10) or 1
        return {"Results": self.store.list_move_tasks(source, limit)}

    def _op_CancelMessageMoveTask(self, params: Params, context: RequestContext) -> Result:
        self.store.cancel_move_task(str(_required(params, "TaskHandle")))
        return {"ApproximateNumberOfMessagesMoved": 0}


# ------------------------------------------------------------------------------------------ HTTP


def error_response(error: SqsError) -> tuple[int, bytes, dict[str, str]]:
    """The status, body and headers of an error in SQS's JSON protocol (query-compatible):

    HTTP/1.1 400 Bad Request
    x-amzn-query-error: AWS.SimpleQueueService.NonExistentQueue;Sender
    {"__type": "com.amazonaws.sqs#QueueDoesNotExist", "message": "The specified queue does not exist."}
    """
    payload = {"__type": f"com.amazonaws.sqs#{error.shape}", "message": error.message}
    fault = "Sender" if error.sender else "Receiver"
    headers = {"x-amzn-query-error": f"{error.code};{fault}", "X-Amzn-ErrorType": error.shape}
    return error.status, json.dumps(payload).encode("utf-8"), headers


class _Handler(socketserver.StreamRequestHandler):
    """A lean HTTP/1.1 (keep-alive) handler: just enough HTTP for SDK clients, a fraction of
    `http.server`'s cost per request (which parses headers with the email package)."""

    server: _HTTPServer
    rbufsize = 65536
    _REASONS: ClassVar[dict[int, str]] = {
        200: "OK",
        400: "Bad Request",
        403: "Forbidden",
        404: "Not Found",
        405: "Method Not Allowed",
        411: "Length Required",
        413: "Content Too Large",
        500: "Internal Server Error",
        503: "Service Unavailable",
    }
    _MAX_BODY = 16 * 1024 * 1024
    _MAX_HEADER_LINES = 100

    def setup(self) -> None:
        super().setup()
        # Responses go out in one write; no Nagle delay waiting for an ACK on keep-alive connections.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.close_connection = False

    def handle(self) -> None:
        try:
            while not self.close_connection:
                if not self._handle_one():
                    return
        except (ConnectionError, TimeoutError, OSError):
            return

    def _handle_one(self) -> bool:
        request_line = self.rfile.readline(8193)
        if not request_line:
            return False
        parts = request_line.decode("latin-1").split()
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            self.close_connection = True
            self._reply(400, b'{"message":"bad request line"}')
            return False
        method, path, version = parts
        headers: dict[str, str] = {}
        for _ in range(self._MAX_HEADER_LINES):
            line = self.rfile.readline(65537)
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        else:
            self.close_connection = True
            self._reply(400, b'{"message":"too many headers"}')
            return False
        connection = headers.get("connection", "").lower()
        self.close_connection = connection == "close" or (version == "HTTP/1.0" and connection != "keep-alive")
        if "chunked" in headers.get("transfer-encoding", "").lower():
            self.close_connection = True
            self._reply(411, b'{"message":"chunked request bodies are not supported"}')
            return False
        try:
            length = int(headers.get("content-length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= self._MAX_BODY:
            self.close_connection = True
            self._reply(413, b'{"message":"bad Content-Length"}')
            return False
        if headers.get("expect", "").lower() == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        raw = self.rfile.read(length) if length else b""
        if len(raw) != length:
            return False
        if method == "POST":
            self._post(headers, raw)
        elif method in ("GET", "HEAD"):
            # A readiness probe: `GET /` answers 200 while the server runs.
            self._reply(200, b'{"status":"ok","service":"ponto-sqs"}', head_only=method == "HEAD")
        else:
            self._reply(405, b'{"message":"method not allowed"}')
        if self.server.verbose:
            print(
                f"ponto-sqs {self.client_address[0]} {method} {path} {headers.get('x-amz-target', '')}", file=sys.stderr
            )
        return True

    def _reply(
        self, status: int, body: bytes, headers: Mapping[str, str] | None = None, *, head_only: bool = False
    ) -> None:
        lines = [
            f"HTTP/1.1 {status} {self._REASONS.get(status, 'Error')}",
            f"Content-Type: {JSON_CONTENT_TYPE}",
            f"Content-Length: {len(body)}",
            f"x-amzn-RequestId: {uuid.uuid4()}",
        ]
        if self.close_connection:
            lines.append("Connection: close")
        for key, value in (headers or {}).items():
            lines.append(f"{key}: {value}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head if head_only else head + body)

    def _error(self, error: SqsError) -> None:
        self._reply(*error_response(error))

    def _post(self, headers: Mapping[str, str], raw: bytes) -> None:
        service, _, action = headers.get("x-amz-target", "").partition(".")
        try:
            if service != "AmazonSQS":
                raise SqsError(
                    "UnsupportedOperation",
                    "AWS.SimpleQueueService.UnsupportedOperation",
                    "Only the SQS JSON protocol is spoken here (X-Amz-Target: AmazonSQS.<Action>).",
                )
            try:
                params = json.loads(raw) if raw else {}
            except ValueError as exc:
                raise SqsError("SerializationException", "InvalidParameterValue", "The body is not JSON.") from exc
            if not isinstance(params, dict):
                raise SqsError("SerializationException", "InvalidParameterValue", "The body is not a JSON object.")
            result = self.server.api.dispatch(action, params, RequestContext(headers.get("authorization")))
        except SqsError as error:
            self._error(error)
            return
        except Exception:
            traceback.print_exc(file=sys.stderr)
            self._error(SqsError("InternalFailure", "InternalFailure", "Internal error.", sender=False, status=500))
            return
        self._reply(200, json.dumps(result, separators=(",", ":")).encode("utf-8"))


class _HTTPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], api_factory: Callable[[int], SqsApi], verbose: bool) -> None:
        super().__init__(address, _Handler)
        self.api = api_factory(self.server_address[1])
        self.verbose = verbose
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Hang up on keep-alive clients (their handler threads then end)."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


def _loopback(host: str) -> str:
    address = "127.0.0.1" if host == "localhost" else host
    try:
        if not ipaddress.ip_address(address).is_loopback or ipaddress.ip_address(address).version != 4:
            raise ValueError
    except ValueError:
        raise ValueError(
            f"refusing to listen on {host!r}: the local SQS server accepts any credentials, so it binds an "
            "IPv4 loopback address only (127.0.0.1)"
        ) from None
    return address


class SqsServer:
    """The server on a background thread: `start()` binds and serves, `stop()` stops and closes the DB."""

    def __init__(
        self,
        db_path: str,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        synchronous: str = "NORMAL",
        verbose: bool = False,
    ) -> None:
        self.host = _loopback(host)
        self.requested_port = port
        self.db_path = db_path
        self.synchronous = synchronous
        self.verbose = verbose
        self.store: SqsStore | None = None
        self._httpd: _HTTPServer | None = None
        self.thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the server is not started")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> SqsServer:
        store = SqsStore(self.db_path, synchronous=self.synchronous)
        try:
            self._httpd = _HTTPServer(
                (self.host, self.requested_port),
                lambda port: SqsApi(store, f"http://{self.host}:{port}"),
                self.verbose,
            )
        except BaseException:
            store.close()
            raise
        self.store = store
        self.thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.2}, name="ponto-sqs", daemon=True
        )
        self.thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            if self.store is not None:
                self.store.close()  # wakes long polls; later requests get 503
            self._httpd.close_connections()
            if self.thread is not None:
                self.thread.join()
            self._httpd = None
        elif self.store is not None:
            self.store.close()

    def __enter__(self) -> SqsServer:
        return self.start() if self._httpd is None else self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def serve(host: str, port: int, db_path: str) -> tuple[SqsServer, threading.Thread]:
    """Start a server (port 0: any free port); returns it and its serving thread. Stop with `server.stop()`."""
    server = SqsServer(db_path, host, port).start()
    assert server.thread is not None
    return server, server.thread


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ponto.local.sqs_server", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("--port", type=int, default=9324, help="port to listen on (0: any free port; default 9324)")
    parser.add_argument("--db", required=True, help="SQLite file holding the queues (created if absent)")
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--sync",
        choices=("normal", "full"),
        default="normal",
        help="SQLite synchronous level: normal survives a process crash, full also an OS crash (slower)",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)
    try:
        server = SqsServer(args.db, args.host, args.port, synchronous=args.sync.upper(), verbose=args.verbose)
        server.start()
    except (OSError, RuntimeError, ValueError) as exc:
        print(f"ponto-sqs: {exc}", file=sys.stderr)
        return 1
    stopping = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    print(f"ponto-sqs listening on {server.url}", flush=True)
    while not stopping.wait(1.0):
        pass
    server.stop()
    print("ponto-sqs stopped", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
