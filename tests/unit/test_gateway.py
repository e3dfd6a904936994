"""The local gateway answers as API Gateway does, from the contract (no sockets: a fake queue)."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Mapping
from typing import Any

import pytest

from ponto.contract import load_contract
from ponto.local.gateway import Gateway, QueueUnavailable, Response, api_key_id
from ponto.local.velocity import render
from tests.events import v1_body

KEY = "test-key"


class MemoryQueue:
    """A fake of the SQS sender: keeps what it was given."""

    def __init__(self, fail_with: int | None = None) -> None:
        self.messages: list[tuple[str, Mapping[str, Mapping[str, str]]]] = []
        self.fail_with = fail_with

    def send(self, body: str, attributes: Mapping[str, Mapping[str, str]]) -> str:
        if self.fail_with is not None:
            raise QueueUnavailable(self.fail_with)
        self.messages.append((body, attributes))
        return f"msg-{len(self.messages)}"


def post(
    gateway: Gateway,
    sender: MemoryQueue,
    body: Any,
    *,
    key: str | None = KEY,
    content_type: str | None = "application/json",
    path: str = "/punches",
    method: str = "POST",
) -> tuple[Response, dict[str, Any]]:
    headers = {}
    if key is not None:
        headers["x-api-key"] = key
    if content_type is not None:
        headers["content-type"] = content_type
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = gateway.handle(method, path, headers, raw, "198.51.100.7", sender)
    return response, json.loads(response.body)


@pytest.fixture
def queue() -> MemoryQueue:
    return MemoryQueue()


@pytest.fixture
def gateway(queue: MemoryQueue) -> Gateway:
    return Gateway(load_contract(), KEY)


def test_a_valid_punch_is_queued_raw_with_the_four_attributes(gateway: Gateway, queue: MemoryQueue) -> None:
    raw = b'{"employee_id": "e-1",   "punched_at": "2026-11-22T08:00:03-03:00", "kind": "in"}'
    response, receipt = post(gateway, queue, raw)
    assert response.status == 202
    assert receipt == {"status": "accepted", "request_id": response.request_id, "message_id": "msg-1"}
    (body, attributes) = queue.messages[0]
    assert body == raw.decode()  # storage first: the body exactly as sent, spacing included
    assert attributes["requestId"] == {"DataType": "String", "StringValue": response.request_id}
    assert attributes["sourceIp"] == {"DataType": "String", "StringValue": "198.51.100.7"}
    assert attributes["apiKeyId"] == {"DataType": "String", "StringValue": api_key_id(KEY)}
    assert attributes["receivedAt"]["DataType"] == "Number"
    assert int(attributes["receivedAt"]["StringValue"]) > 1_700_000_000_000


def test_a_body_with_url_special_characters_survives_the_form_encoding(gateway: Gateway, queue: MemoryQueue) -> None:
    # '+' (an offset), spaces and a trailing newline must reach the queue unchanged
    raw = '{"usuarioId": 7,\t"ponto": "2026-11-22T08:00:00+05:30"}\n'
    response, _ = post(gateway, queue, raw.encode())
    assert response.status == 202
    assert queue.messages[0][0] == raw


@pytest.mark.parametrize("key", [None, "", "wrong", KEY + " "])
def test_a_missing_or_wrong_key_is_403_and_queues_nothing(
    gateway: Gateway, queue: MemoryQueue, key: str | None
) -> None:
    response, body = post(gateway, queue, v1_body(), key=key)
    assert (response.status, body) == (403, {"message": "Forbidden"})
    assert queue.messages == []


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        (b"{not json", "Invalid JSON"),
        (b"", "Invalid JSON"),
        (json.dumps({"mensagem": "Hello"}).encode(), "must contain"),
        (json.dumps(v1_body(kind="lunch")).encode(), "kind"),
        (json.dumps(v1_body(employee_id='a"b')).encode(), "employee_id"),
        (json.dumps([v1_body()]).encode(), "must be object"),
    ],
)
def test_an_invalid_body_is_400_with_the_reason(
    gateway: Gateway, queue: MemoryQueue, payload: bytes, fragment: str
) -> None:
    response, body = post(gateway, queue, payload)
    assert response.status == 400
    assert body["message"] == "Invalid request body"
    assert fragment in body["detail"]
    assert queue.messages == []


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_other_content_types_are_415(gateway: Gateway, queue: MemoryQueue, content_type: str | None) -> None:
    response, _ = post(gateway, queue, v1_body(), content_type=content_type)
    assert response.status == 415
    assert queue.messages == []


def test_content_type_parameters_and_case_are_accepted(gateway: Gateway, queue: MemoryQueue) -> None:
    response, _ = post(gateway, queue, v1_body(), content_type="Application/JSON; charset=utf-8")
    assert response.status == 202


@pytest.mark.parametrize(("method", "path"), [("GET", "/punches"), ("POST", "/other"), ("DELETE", "/punches")])
def test_other_routes_are_403_like_api_gateway(gateway: Gateway, queue: MemoryQueue, method: str, path: str) -> None:
    response, body = post(gateway, queue, v1_body(), method=method, path=path)
    assert (response.status, body) == (403, {"message": "Forbidden"})


@pytest.mark.parametrize("status", [400, 500, 503])
def test_a_queue_failure_is_503_and_never_accepted(status: int) -> None:
    gateway = Gateway(load_contract(), KEY)
    response, body = post(gateway, MemoryQueue(fail_with=status), v1_body())
    assert response.status == 503
    assert body["request_id"] == response.request_id and "retry" in body["message"]


def test_counters_follow_the_answers(gateway: Gateway, queue: MemoryQueue) -> None:
    post(gateway, queue, v1_body())
    post(gateway, queue, v1_body(), key="nope")
    assert (gateway.counters.accepted, gateway.counters.rejected, gateway.counters.unavailable) == (1, 1, 0)


def test_velocity_util_and_input_as_api_gateway_defines_them() -> None:
    context = {"requestId": "r-1", "identity": {"sourceIp": "::1"}}
    body = '{"a": {"b": [10, "x y&z"]}}'
    template = "$util.urlEncode($input.path('$.a.b[1]'))|$input.json('$.a')|$context.identity.sourceIp|$input.body"
    assert render(template, input_body=body, context=context) == 'x+y%26z|{"b": [10, "x y&z"]}|::1|' + body
    assert urllib.parse.unquote_plus(render("$util.urlEncode($input.body)", input_body=body, context={})) == body
    assert render("$util.escapeJavaScript($input.body)", input_body='"it\'s"', context={}) == '\\"it\\\'s\\"'
