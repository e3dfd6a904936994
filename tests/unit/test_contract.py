"""The request schema, as the gateway and the worker both apply it."""

import json
import re
from typing import Any

import pytest

from ponto.contract import MAX_MESSAGE_BYTES, load_contract
from ponto.errors import InvalidPunchError
from tests.events import legacy_body, v1_body

contract = load_contract()

VALID = {
    "v1 full": v1_body(),
    "v1 minimal": {"employee_id": "e", "punched_at": "2026-11-22T08:00:03Z"},
    "v1 fraction and +offset": v1_body(punched_at="2026-11-22T08:00:03.123456789+05:30"),
    "v1 break kinds": v1_body(kind="break_start"),
    "v1 location without accuracy": v1_body(location={"lat": 90, "lon": -180}),
    "v1 64-char ids": v1_body(employee_id="a" * 64, device_id="d" * 64),
    "legacy space time": legacy_body(),
    "legacy RFC 3339": legacy_body(ponto="2026-11-22T08:00:03-03:00"),
    "legacy negative id": legacy_body(usuario_id=-1),
    # The edges of what can be recorded (issue 11): years 1960-9998, the days each month has, offsets
    # -12:00..+14:00. A reset clock's 1970 and 2000 are records of what it said: accepted.
    "v1 first year": v1_body(punched_at="1960-01-01T00:00:00+14:00"),
    "v1 last year": v1_body(punched_at="9998-12-31T23:59:60-12:00"),
    "v1 a reset clock's epoch": v1_body(punched_at="1969-12-31T21:00:00-03:00"),
    "v1 a reset RTC": v1_body(punched_at="2000-01-01T00:00:00Z"),
    "v1 offset +14:00": v1_body(punched_at="2026-11-22T08:00:03+14:00"),
    "v1 offset -12:00": v1_body(punched_at="2026-11-22T08:00:03-12:00"),
    "v1 offset +13:45": v1_body(punched_at="2026-11-22T08:00:03+13:45"),
    "v1 offset -11:59": v1_body(punched_at="2026-11-22T08:00:03-11:59"),
    "v1 offset -00:00": v1_body(punched_at="2026-11-22T08:00:03-00:00"),
    "v1 31 days": v1_body(punched_at="2026-12-31T08:00:03Z"),
    "v1 30 days": v1_body(punched_at="2026-11-30T08:00:03Z"),
    "v1 29 February": v1_body(punched_at="2028-02-29T08:00:03Z"),
    # No pattern of the contract tells a leap year: the worker records it without a time, with the reason.
    "v1 29 February of a common year": v1_body(punched_at="2027-02-29T08:00:03Z"),
    "legacy first year": legacy_body(ponto="1960-01-01 00:00:00"),
    "legacy last year": legacy_body(ponto="9998-12-31T23:59:59+14:00"),
}

INVALID: dict[str, tuple[Any, str]] = {
    "not an object": ([v1_body()], "must be object"),
    "a string": ("punch", "must be object"),
    "empty object": ({}, "must contain"),
    "missing employee_id": ({"punched_at": "2026-11-22T08:00:03Z"}, "employee_id"),
    "missing punched_at": ({"employee_id": "e"}, "punched_at"),
    "extra property": (v1_body(mensagem="oi"), "must not contain"),
    "punch_id not a uuid": (v1_body(punch_id="123"), "punch_id"),
    "employee_id empty": (v1_body(employee_id=""), "employee_id"),
    "employee_id too long": (v1_body(employee_id="a" * 65), "employee_id"),
    "employee_id with quote": (v1_body(employee_id="x'; DROP TABLE punches;--"), "employee_id"),
    "employee_id trailing newline": (v1_body(employee_id="e1\n"), "employee_id"),
    "employee_id a number": (v1_body(employee_id=7), "employee_id"),
    "punched_at without offset": (v1_body(punched_at="2026-11-22T08:00:03"), "punched_at"),
    "punched_at with a space": (v1_body(punched_at="2026-11-22 08:00:03Z"), "punched_at"),
    "punched_at month 13": (v1_body(punched_at="2026-13-22T08:00:03Z"), "punched_at"),
    "punched_at hour 24": (v1_body(punched_at="2026-11-22T24:00:03Z"), "punched_at"),
    "punched_at year 0000": (v1_body(punched_at="0000-01-01T08:00:03Z"), "punched_at"),
    "punched_at year 0001": (v1_body(punched_at="0001-01-01T00:00:00+14:00"), "punched_at"),
    "punched_at year 1959": (v1_body(punched_at="1959-12-31T23:59:59Z"), "punched_at"),
    "punched_at year 1900": (v1_body(punched_at="1900-01-01T00:00:00Z"), "punched_at"),
    "punched_at year 9999": (v1_body(punched_at="9999-01-01T00:00:00Z"), "punched_at"),
    "punched_at 30 February": (v1_body(punched_at="2028-02-30T08:00:03Z"), "punched_at"),
    "punched_at 31 April": (v1_body(punched_at="2026-04-31T08:00:03Z"), "punched_at"),
    "punched_at 31 June": (v1_body(punched_at="2026-06-31T08:00:03Z"), "punched_at"),
    "punched_at 31 September": (v1_body(punched_at="2026-09-31T08:00:03Z"), "punched_at"),
    "punched_at 31 November": (v1_body(punched_at="2026-11-31T08:00:03Z"), "punched_at"),
    "punched_at day 00": (v1_body(punched_at="2026-11-00T08:00:03Z"), "punched_at"),
    "punched_at offset +16:00": (v1_body(punched_at="2026-11-22T08:00:03+16:00"), "punched_at"),
    "punched_at offset -16:00": (v1_body(punched_at="2026-11-22T08:00:03-16:00"), "punched_at"),
    "punched_at offset +14:01": (v1_body(punched_at="2026-11-22T08:00:03+14:01"), "punched_at"),
    "punched_at offset -12:01": (v1_body(punched_at="2026-11-22T08:00:03-12:01"), "punched_at"),
    "punched_at offset -13:00": (v1_body(punched_at="2026-11-22T08:00:03-13:00"), "punched_at"),
    "punched_at offset +23:59": (v1_body(punched_at="2026-11-22T08:00:03+23:59"), "punched_at"),
    "kind unknown": (v1_body(kind="lunch"), "kind"),
    "device_id too long": (v1_body(device_id="d" * 65), "device_id"),
    "lat out of range": (v1_body(location={"lat": 91, "lon": 0}), "lat"),
    "lon out of range": (v1_body(location={"lat": 0, "lon": -180.5}), "lon"),
    "accuracy negative": (v1_body(location={"lat": 0, "lon": 0, "accuracy_m": -1}), "accuracy_m"),
    "location missing lon": (v1_body(location={"lat": 0}), "location"),
    "location extra": (v1_body(location={"lat": 0, "lon": 0, "alt": 3}), "location"),
    "legacy id as string": ({"usuarioId": "42", "ponto": "2026-11-22 08:00:03"}, "usuarioId"),
    "legacy id fractional": ({"usuarioId": 4.2, "ponto": "2026-11-22 08:00:03"}, "usuarioId"),
    "legacy missing ponto": ({"usuarioId": 42}, "ponto"),
    "legacy bad ponto": ({"usuarioId": 42, "ponto": "22/11/2026 08:00"}, "ponto"),
    "legacy year 0000": (legacy_body(ponto="0000-01-01 08:00:03"), "ponto"),
    "legacy 31 April": (legacy_body(ponto="2026-04-31 08:00:03"), "ponto"),
    "legacy 30 February": (legacy_body(ponto="2026-02-30 08:00:03"), "ponto"),
    "legacy offset +15:00": (legacy_body(ponto="2026-11-22T08:00:03+15:00"), "ponto"),
    "the reference's plan body": ({"mensagem": "Hello"}, "must contain"),
    "v1 and legacy mixed": ({**legacy_body(), "employee_id": "e"}, "must not contain"),
}


@pytest.mark.parametrize("body", VALID.values(), ids=VALID.keys())
def test_valid_bodies_pass(body: Any) -> None:
    contract.validate_punch(body)


@pytest.mark.parametrize(("body", "reason"), INVALID.values(), ids=INVALID.keys())
def test_invalid_bodies_fail_with_the_reason(body: Any, reason: str) -> None:
    with pytest.raises(InvalidPunchError) as caught:
        contract.validate_punch(body)
    assert reason in caught.value.reason


def test_the_schema_is_draft_4_without_format_keywords() -> None:
    # API Gateway applies draft 4 and ignores "format", so date-times must be patterns.
    schema = contract.punch_schema
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    assert '"format"' not in json.dumps(schema)


def test_the_gateway_integration_keeps_the_raw_body_and_the_four_attributes() -> None:
    template = contract.integration["requestTemplates"]["application/json"]
    assert "MessageBody=$util.urlEncode($input.body)" in template
    for name in ("requestId", "receivedAt", "sourceIp", "apiKeyId"):
        assert f"Name={name}&" in template
    assert contract.integration["passthroughBehavior"] == "never"
    statuses = {int(r["statusCode"]) for r in contract.gateway_responses.values() if "statusCode" in r}
    assert {400, 403, 415, 429} <= statuses


# Every status POST /punches answers with, and where it comes from.
ANSWERED = {
    202: "the queue took the punch",
    400: "BAD_REQUEST_BODY; the queue refusing the body's characters",
    403: "INVALID_API_KEY, MISSING_AUTHENTICATION_TOKEN",
    413: "REQUEST_TOO_LARGE (10 MB); the queue's message size limit",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "THROTTLED, QUOTA_EXCEEDED (the usage plan)",
    503: "the queue's own failures and throttling",
}


def test_every_answer_is_declared_with_a_json_body_schema() -> None:
    responses = contract.post_punch["responses"]
    assert set(responses) == {str(status) for status in ANSWERED}
    schemas = contract.document["components"]["schemas"]
    for status, response in responses.items():
        assert response["description"], status
        schema = response["content"]["application/json"]["schema"]
        assert schema["$ref"].rsplit("/", 1)[1] in schemas, status


# Gateway responses an operation can only meet with a Cognito authorizer (401) or a proxy integration.
_AUTHORIZER_ONLY = {"UNAUTHORIZED"}


def test_every_status_the_gateway_and_the_integration_produce_is_declared() -> None:
    produced = {
        int(r["statusCode"])
        for kind, r in contract.gateway_responses.items()
        if "statusCode" in r and kind not in _AUTHORIZER_ONLY
    }
    for response in contract.integration["responses"].values():
        produced.add(int(response["statusCode"]))
        template = response["responseTemplates"]["application/json"]
        produced |= {int(s) for s in re.findall(r"responseOverride\.status = (\d+)", template)}
    assert produced <= {int(status) for status in contract.post_punch["responses"]}
    assert {400, 413, 503} <= produced


def test_each_queue_status_selects_exactly_one_integration_response() -> None:
    # API Gateway matches an AWS integration's status against the selection patterns; overlapping
    # patterns would leave the answer to chance
    patterns = [p for p in contract.integration["responses"] if p != "default"]
    for status in range(400, 600):
        matching = [p for p in patterns if re.fullmatch(p, str(status))]
        assert len(matching) == 1, (status, matching)


def test_the_size_limit_is_stated_where_clients_read_it() -> None:
    limit = f"{MAX_MESSAGE_BYTES:,} bytes"
    assert MAX_MESSAGE_BYTES == 1024 * 1024  # SQS's maximum message size (1 MiB)
    assert limit in contract.post_punch["responses"]["413"]["description"]
    templates = [r["responseTemplates"]["application/json"] for r in contract.integration["responses"].values()]
    assert sum(limit in template for template in templates) == 2  # SQS's HTTP 413 and its InvalidParameterValue


def test_usage_plan_answers_are_api_gateway_s_own() -> None:
    responses = contract.gateway_responses
    for kind, message in [("THROTTLED", "Too Many Requests"), ("QUOTA_EXCEEDED", "Limit Exceeded")]:
        assert responses[kind]["statusCode"] == "429"
        assert json.loads(responses[kind]["responseTemplates"]["application/json"]) == {"message": message}


def test_every_read_route_declares_what_its_gateway_and_function_answer() -> None:
    # Given the read routes (Lambda proxy integrations to the receipts function)
    reads = {
        path: operations["get"]
        for path, operations in contract.document["paths"].items()
        if "get" in operations and operations["get"]["x-amazon-apigateway-integration"]["type"] == "aws_proxy"
    }
    assert set(reads) == {
        "/punches/{punch_id}/receipt",
        "/employees/{employee_id}/receipts",
        "/me/punches/{punch_id}/receipt",
        "/me/receipts",
    }
    for path, operation in reads.items():
        declared = set(operation["responses"])
        # Then: 200, 404 (not sealed yet or not the caller's), 429 and 503 (throttled, or busy)
        assert {"200", "404", "429", "503"} <= declared, path
        # and 401 with the Cognito authorizer (personal), 403 with an API key (kiosk), never both
        personal = path.startswith("/me/")
        assert operation["security"] == ([{"cognito": []}] if personal else [{"api_key": []}])
        assert ("401" in declared) == personal and ("403" in declared) == (not personal), path
    assert contract.gateway_responses["UNAUTHORIZED"]["statusCode"] == "401"
    assert contract.gateway_responses["INTEGRATION_FAILURE"]["statusCode"] == "503"
    assert "application/pdf" in contract.document["x-amazon-apigateway-binary-media-types"]
