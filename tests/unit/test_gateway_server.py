"""The local gateway's HTTP side, driven over in-memory streams.

No event loop either: asyncio's needs a socket pair, and unit tests have no sockets. Every await
here completes at once (the data is all there), so one send() runs a coroutine to its end.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine, Mapping
from typing import Any, cast

import pytest

from ponto.contract import MAX_MESSAGE_BYTES, load_contract
from ponto.local.gateway import Gateway, QueueUnavailable, Response
from ponto.local.gateway_server import MAX_BODY_BYTES, GatewayServer, JsonProtocolSender
from tests.events import v1_body

KEY = "test-key"
HEADERS = {"x-api-key": KEY, "content-type": "application/json"}


class MemorySender:
    def __init__(self) -> None:
        self.bodies: list[str] = []

    async def send(self, body: str, attributes: Mapping[str, Mapping[str, str]]) -> str:
        self.bodies.append(body)
        return f"msg-{len(self.bodies)}"

    async def close(self) -> None:
        return None


class MemoryWriter:
    """What the server writes to a connection."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.closed = False

    def write(self, data: bytes) -> None:
        self.data += data

    async def drain(self) -> None:
        return None

    def close(self) -> None:
        self.closed = True

    async def wait_closed(self) -> None:
        return None

    def get_extra_info(self, name: str) -> object:
        return ("127.0.0.1", 50000) if name == "peername" else None


class MemoryReader:
    """The two reads the server and the sender make, over bytes already received."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    async def readuntil(self, separator: bytes) -> bytes:
        index = self._data.find(separator)
        if index < 0:
            raise asyncio.IncompleteReadError(self._data, None)
        chunk, self._data = self._data[: index + len(separator)], self._data[index + len(separator) :]
        return chunk

    async def readexactly(self, n: int) -> bytes:
        if len(self._data) < n:
            raise asyncio.IncompleteReadError(self._data, n)
        chunk, self._data = self._data[:n], self._data[n:]
        return chunk


def drive[T](coroutine: Coroutine[Any, Any, T]) -> T:
    try:
        coroutine.send(None)
    except StopIteration as done:
        return cast(T, done.value)
    coroutine.close()
    raise AssertionError("the coroutine waited for I/O")


def reader_of(data: bytes) -> asyncio.StreamReader:
    return cast(asyncio.StreamReader, MemoryReader(data))


def answer(body: bytes) -> Response:
    server = GatewayServer(Gateway(load_contract(), KEY), MemorySender())
    return drive(server._answer("POST", "/punches", HEADERS, body, "127.0.0.1"))


def test_deep_nesting_is_400_through_the_server_not_its_500() -> None:
    # A RecursionError from the parser used to reach the server's last resort: a bare 500
    response = answer(b"[" * 100_000)
    assert response.status == 400
    assert json.loads(response.body)["detail"] == "Invalid JSON in request body: nested too deeply"


def test_nan_is_400_through_the_server() -> None:
    response = answer(b'{"employee_id": "e", "punched_at": "2026-11-22T08:00:03Z", "location": {"lat": NaN, "lon": 0}}')
    assert response.status == 400


def serve_one(head: str, body: bytes = b"") -> tuple[int, dict[str, object]]:
    """One request through the server's request handling (past the idle timeout's wait)."""
    server = GatewayServer(Gateway(load_contract(), KEY), MemorySender())
    writer = MemoryWriter()
    request_head, separator, rest = head.partition("\r\n\r\n")
    stream = cast(asyncio.StreamWriter, writer)
    drive(server._serve_request((request_head + separator).encode(), reader_of(rest.encode() + body), stream, "::1"))
    head_out, _, payload = bytes(writer.data).partition(b"\r\n\r\n")
    return int(head_out.split(b" ", 2)[1]), json.loads(payload)


def test_a_payload_over_api_gateway_s_limit_is_its_413_from_the_contract() -> None:
    status, body = serve_one(f"POST /punches HTTP/1.1\r\nContent-Length: {MAX_BODY_BYTES + 1}\r\n\r\n")
    assert (status, body) == (413, {"message": "Request Too Long"})


def test_a_negative_content_length_is_400() -> None:
    status, _ = serve_one("POST /punches HTTP/1.1\r\nContent-Length: -1\r\n\r\n")
    assert status == 400


def test_a_body_over_the_queue_s_limit_is_413_over_http() -> None:
    body = json.dumps(v1_body()).encode() + b" " * MAX_MESSAGE_BYTES
    head = (
        f"POST /punches HTTP/1.1\r\nx-api-key: {KEY}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    status, answer_body = serve_one(head, body)
    assert status == 413 and f"{MAX_MESSAGE_BYTES:,} bytes" in str(answer_body["message"])


def sqs_reply(status: int, payload: dict[str, str], query_error: str | None) -> bytes:
    raw = json.dumps(payload).encode()
    head = f"HTTP/1.1 {status} X\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: {len(raw)}\r\n"
    if query_error:
        head += f"x-amzn-query-error: {query_error}\r\n"
    return (head + "\r\n").encode() + raw


@pytest.mark.parametrize(
    ("reply", "code"),
    [
        (
            sqs_reply(
                400,
                {
                    "__type": "com.amazonaws.sqs#InvalidParameterValue",
                    "message": "Message must be shorter than 1048576",
                },
                "InvalidParameterValue;Sender",
            ),
            "InvalidParameterValue",
        ),
        (
            sqs_reply(
                400,
                {"__type": "com.amazonaws.sqs#QueueDoesNotExist", "message": "The specified queue does not exist."},
                "AWS.SimpleQueueService.NonExistentQueue;Sender",
            ),
            "AWS.SimpleQueueService.NonExistentQueue",
        ),
        (
            sqs_reply(400, {"__type": "com.amazonaws.sqs#InvalidMessageContents", "message": "x"}, None),
            "InvalidMessageContents",
        ),
        (b"HTTP/1.1 500 X\r\nContent-Length: 2\r\n\r\nno", None),
    ],
)
def test_the_queue_s_error_code_reaches_the_contract(
    monkeypatch: pytest.MonkeyPatch, reply: bytes, code: str | None
) -> None:
    # Given the embedded queue (SQS's JSON protocol) refusing a SendMessage
    sender = JsonProtocolSender("http://127.0.0.1:9", "http://127.0.0.1:9/000000000000/punches", "us-east-1")
    writer = MemoryWriter()

    async def connection() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return reader_of(reply), cast(asyncio.StreamWriter, writer)

    monkeypatch.setattr(sender, "_connection", connection)
    # When the gateway sends through it
    with pytest.raises(QueueUnavailable) as refused:
        drive(sender.send("{}", {}))
    # Then the refusal carries SQS's query-API code (what API Gateway's integration sees)
    assert refused.value.code == code
    assert b"AmazonSQS.SendMessage" in writer.data
