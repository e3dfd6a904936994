"""The local gateway answers as API Gateway does, from the contract (no sockets: a fake queue)."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Mapping
from typing import Any

import fastjsonschema
import pytest

from ponto.contract import MAX_MESSAGE_BYTES, load_contract
from ponto.local.gateway import Gateway, QueueUnavailable, Response, UsagePlan, api_key_id, message_size
from ponto.local.velocity import render
from ponto.serverless_config import UsagePlanLimits
from tests.events import v1_body

KEY = "test-key"


class MemoryQueue:
    """A fake of the SQS sender: keeps what it was given."""

    def __init__(self, fail_with: int | None = None, code: str | None = None) -> None:
        self.messages: list[tuple[str, Mapping[str, Mapping[str, str]]]] = []
        self.fail_with = fail_with
        self.code = code

    def send(self, body: str, attributes: Mapping[str, Mapping[str, str]]) -> str:
        if self.fail_with is not None:
            raise QueueUnavailable(self.fail_with, self.code)
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


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (400, "InvalidParameterValue", 413),  # SQS: "Message must be shorter than ... bytes"
        (413, None, 413),  # SQS's HTTP front refusing the request's length
        (400, "InvalidMessageContents", 400),
        (400, "AWS.SimpleQueueService.NonExistentQueue", 503),  # the stack's fault: retry later
        (403, "AccessDenied", 503),
        (400, "RequestThrottled", 503),
        (400, "KmsThrottled", 503),
        (500, "InternalError", 503),
        (503, "ServiceUnavailable", 503),
    ],
)
def test_the_queue_s_client_errors_are_4xx_and_its_own_failures_503(
    status: int, code: str | None, expected: int
) -> None:
    # Given a queue that refuses with SQS's status and query-API error code
    gateway = Gateway(load_contract(), KEY)
    queue = MemoryQueue(fail_with=status, code=code)
    # When a valid punch is sent
    response, body = post(gateway, queue, v1_body())
    # Then a punch the queue can never take is a 4xx that says why; anything else is "retry later"
    assert response.status == expected
    assert body["request_id"] == response.request_id
    assert ("retry" in body["message"]) == (expected == 503)
    if expected == 413:
        assert f"{MAX_MESSAGE_BYTES:,} bytes" in body["message"]
    assert set(body) <= {"message", "detail", "request_id"}  # only our words, never the queue's
    assert_declared(response)


def test_a_message_over_the_queue_s_limit_is_413_before_sending(gateway: Gateway, queue: MemoryQueue) -> None:
    # Given the message attributes the mapping template adds to a punch
    small = json.dumps(v1_body())
    post(gateway, queue, small.encode())
    attributes_size = message_size("", queue.messages[0][1])
    assert 100 < attributes_size < 200
    # When a valid body (whitespace is valid JSON) fills the message exactly, and then by one byte more
    exact = small + " " * (MAX_MESSAGE_BYTES - attributes_size - len(small))
    fits, _ = post(gateway, queue, exact.encode())
    over, body = post(gateway, queue, (exact + " ").encode())
    # Then the first is queued, and the second is 413 without reaching the queue
    assert fits.status == 202 and message_size(*queue.messages[-1]) == MAX_MESSAGE_BYTES
    assert over.status == 413 and len(queue.messages) == 2
    assert body == {
        "message": f"Punch too large to queue: the body and its message attributes must total at most "
        f"{MAX_MESSAGE_BYTES:,} bytes",
        "request_id": over.request_id,
    }
    assert gateway.counters.rejected == 1
    assert_declared(over)


@pytest.mark.parametrize(
    "payload",
    [
        b"[" * 1490 + b"]" * 1490,  # the finding
        b"[" * 1490,
        b"[" * 100_000,
        b'{"location":' * 100_000,
    ],
    ids=["balanced", "open", "deeper", "objects"],
)
def test_deeply_nested_json_is_400_not_a_crash(gateway: Gateway, queue: MemoryQueue, payload: bytes) -> None:
    response, body = post(gateway, queue, payload)
    assert response.status == 400
    assert body["message"] == "Invalid request body" and body["detail"]
    assert queue.messages == []


def test_nesting_beyond_the_parser_s_depth_names_the_reason(gateway: Gateway, queue: MemoryQueue) -> None:
    _, body = post(gateway, queue, b"[" * 100_000)
    assert body["detail"] == "Invalid JSON in request body: nested too deeply"


@pytest.mark.parametrize(
    ("payload", "constant"),
    [
        (b'{"employee_id": "e", "punched_at": "2026-11-22T08:00:03Z", "location": {"lat": NaN, "lon": 0}}', "NaN"),
        (
            b'{"employee_id": "e", "punched_at": "2026-11-22T08:00:03Z",'
            b' "location": {"lat": 0, "lon": 0, "accuracy_m": Infinity}}',
            "Infinity",
        ),
        (
            b'{"employee_id": "e", "punched_at": "2026-11-22T08:00:03Z", "location": {"lat": -Infinity, "lon": 0}}',
            "-Infinity",
        ),
        (b"NaN", "NaN"),
    ],
)
def test_nan_and_infinity_are_not_json(gateway: Gateway, queue: MemoryQueue, payload: bytes, constant: str) -> None:
    # Python's json reads them, and the schema's bounds do not refuse NaN or an infinite accuracy
    response, body = post(gateway, queue, payload)
    assert response.status == 400
    assert body["detail"] == f"Invalid JSON in request body: {constant} is not a JSON number"
    assert queue.messages == []


def test_a_huge_number_that_is_valid_json_is_not_refused_as_invalid_json(gateway: Gateway, queue: MemoryQueue) -> None:
    # 1e400 is a JSON number (RFC 8259 sets no range): the parser takes it; the schema judges it
    payload = b'{"employee_id": "e", "punched_at": "2026-11-22T08:00:03Z", "location": {"lat": 1e400, "lon": 0}}'
    response, body = post(gateway, queue, payload)
    assert response.status == 400 and "lat" in body["detail"]


class TwoKeys:
    def key_id(self, key: str | None) -> str | None:
        return {"key-a": "id-a", "key-b": "id-b"}.get(key or "")


class FakeClock:
    def __init__(self, now: float = 1_795_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_key_over_its_rate_is_429_while_another_key_is_not(queue: MemoryQueue) -> None:
    # Given a usage plan of 2 requests/s with a burst of 3 per key, on an injected clock
    clock = FakeClock()
    plan = UsagePlan(UsagePlanLimits(rate_per_s=2, burst=3, quota_per_day=1000), clock=clock)
    gateway = Gateway(load_contract(), TwoKeys(), usage_plan=plan)
    # When key A sends four at once, and key B one
    answers = [post(gateway, queue, v1_body(), key="key-a")[0].status for _ in range(4)]
    throttled, body = post(gateway, queue, v1_body(), key="key-a")
    other, _ = post(gateway, queue, v1_body(), key="key-b")
    # Then A's burst passes, the rest of A is throttled with API Gateway's body, and B is not
    assert answers == [202, 202, 202, 429]
    assert (throttled.status, body) == (429, {"message": "Too Many Requests"})
    assert other.status == 202
    assert len(queue.messages) == 4
    assert_declared(throttled)
    # And half a second later A has earned one token back (2/s), no more
    clock.now += 0.5
    assert [post(gateway, queue, v1_body(), key="key-a")[0].status for _ in range(2)] == [202, 429]


def test_a_key_past_its_daily_quota_is_429_until_the_next_utc_day(queue: MemoryQueue) -> None:
    clock = FakeClock(now=1_795_046_400.0 - 10)  # ten seconds before a UTC midnight
    plan = UsagePlan(UsagePlanLimits(rate_per_s=100, burst=100, quota_per_day=3), clock=clock)
    gateway = Gateway(load_contract(), TwoKeys(), usage_plan=plan)
    assert [post(gateway, queue, v1_body(), key="key-a")[0].status for _ in range(3)] == [202] * 3
    spent, body = post(gateway, queue, v1_body(), key="key-a")
    assert (spent.status, body) == (429, {"message": "Limit Exceeded"})
    assert post(gateway, queue, v1_body(), key="key-b")[0].status == 202
    clock.now += 10
    assert post(gateway, queue, v1_body(), key="key-a")[0].status == 202
    assert_declared(spent)


def test_an_unknown_key_is_403_before_any_throttle(queue: MemoryQueue) -> None:
    plan = UsagePlan(UsagePlanLimits(rate_per_s=1, burst=1, quota_per_day=1), clock=FakeClock())
    gateway = Gateway(load_contract(), TwoKeys(), usage_plan=plan)
    assert [post(gateway, queue, v1_body(), key="nope")[0].status for _ in range(3)] == [403] * 3
    assert post(gateway, queue, v1_body(), key="key-a")[0].status == 202


def test_every_answer_is_declared_in_the_contract_with_its_body(gateway: Gateway, queue: MemoryQueue) -> None:
    for response in [
        post(gateway, queue, v1_body())[0],
        post(gateway, queue, {"mensagem": "oi"})[0],
        post(gateway, queue, v1_body(), key="wrong")[0],
        post(gateway, queue, v1_body(), path="/other")[0],
        post(gateway, queue, v1_body(), content_type="text/plain")[0],
        post(gateway, MemoryQueue(fail_with=503), v1_body())[0],
        gateway.request_too_large(),
    ]:
        assert_declared(response)


def assert_declared(response: Response) -> None:
    """The status is one the contract declares for POST /punches, and the body fits its schema."""
    contract = load_contract()
    declared = contract.post_punch["responses"]
    assert str(response.status) in declared, response
    schema = declared[str(response.status)]["content"]["application/json"]["schema"]
    name = schema["$ref"].rsplit("/", 1)[1]
    fastjsonschema.validate(contract.document["components"]["schemas"][name], json.loads(response.body))


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
