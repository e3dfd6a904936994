"""The local gateway's read routes: routing from the contract, the proxy event and the proxy answer."""

from __future__ import annotations

import base64

from ponto.contract import load_contract
from ponto.local.reads import ReadRoute, match, proxy_answer, proxy_event, read_routes

ROUTES = read_routes(load_contract())


def test_the_contracts_proxy_routes_are_routed_with_their_security_and_function() -> None:
    by_resource = {route.resource: route for route in ROUTES}
    assert set(by_resource) == {
        "/punches/{punch_id}/receipt", "/employees/{employee_id}/receipts", "/me/punches/{punch_id}/receipt",
        "/me/receipts",
    }  # fmt: skip
    assert all(route.function == "receipts" for route in ROUTES)
    kiosk, personal = by_resource["/punches/{punch_id}/receipt"], by_resource["/me/receipts"]
    assert (kiosk.api_key, kiosk.authorizer) == (True, None)
    assert (personal.api_key, personal.authorizer) == (False, "cognito")


def test_paths_match_with_their_parameters_decoded_and_nothing_else_matches() -> None:
    found = match(ROUTES, "/punches/a%2Fb/receipt")
    assert found is not None
    route, parameters = found
    assert (route.resource, parameters) == ("/punches/{punch_id}/receipt", {"punch_id": "a/b"})
    for path in ("/punches", "/punches/x/receipt/extra", "/me/punches", "/employees//receipts", "/"):
        assert match(ROUTES, path) is None, path


def test_the_proxy_event_is_api_gateways_and_the_answer_is_read_back() -> None:
    route = ReadRoute("/me/receipts", ROUTES[0].pattern, "receipts", api_key=False, authorizer="cognito")
    context = {"requestId": "r-1", "requestTimeEpoch": 1, "identity": {"sourceIp": "127.0.0.1", "apiKeyId": None}}
    event = proxy_event(route, "/me/receipts", {}, {"since": ""}, {"accept": "x"}, context, {"sub": "u"})
    assert event["resource"] == "/me/receipts"
    assert event["queryStringParameters"] == {"since": ""}  # a blank value is passed on, as API Gateway does
    assert event["pathParameters"] is None
    assert event["requestContext"]["authorizer"] == {"claims": {"sub": "u"}}
    binary = {"statusCode": 200, "headers": {"Content-Type": "application/pdf", "X": "1"},
              "isBase64Encoded": True, "body": base64.b64encode(b"%PDF-").decode()}  # fmt: skip
    answer = proxy_answer(binary)
    assert answer is not None
    assert (answer.status, answer.content_type, answer.body, dict(answer.headers)) == (
        200, "application/pdf", b"%PDF-", {"X": "1"}
    )  # fmt: skip
    assert proxy_answer({"body": "no status"}) is None  # API Gateway's 502: a malformed proxy answer
