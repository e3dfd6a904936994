"""The local API gateway's logic: the API contract applied the way API Gateway applies it.

Everything it decides comes from ponto/contract/openapi.json: the API key requirement, the request
schema (the same validator the worker uses), the SQS integration's mapping template (rendered with
a Velocity engine), the integration responses and the gateway responses. The usage plan's throttle
and quota come from serverless.yml, where the deployed usage plan takes them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from ponto.contract import JSON_MEDIA_TYPE, MAX_MESSAGE_BYTES, Contract
from ponto.errors import InvalidPunchError
from ponto.local.velocity import render
from ponto.serverless_config import UsagePlanLimits

logger = logging.getLogger("ponto.gateway")


class QueueUnavailable(Exception):
    """The queue did not take the message: SQS's HTTP status and, when it said, its error code.

    The code is the query-API one (``InvalidParameterValue``, ``AWS.SimpleQueueService.NonExistentQueue``)
    that API Gateway's SQS integration sees in the error body; the contract's integration responses
    read it to tell a punch the queue can never take (4xx to the client) from a queue failure (503).
    """

    def __init__(self, status: int, code: str | None = None) -> None:
        super().__init__(status, code)
        self.status = status
        self.code = code


class MessageSender(Protocol):
    def send(self, body: str, attributes: Mapping[str, Mapping[str, str]]) -> str:
        """Send one message; return its SQS message id or raise QueueUnavailable."""
        ...


class SqsSender:
    """Sends with boto3 (signed requests: any SQS endpoint, AWS included)."""

    def __init__(self, client: Any, queue_url: str) -> None:
        self._client = client
        self._queue_url = queue_url

    def send(self, body: str, attributes: Mapping[str, Mapping[str, str]]) -> str:
        try:
            response = self._client.send_message(
                QueueUrl=self._queue_url, MessageBody=body, MessageAttributes=attributes
            )
        except ClientError as exc:
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 500))
            raise QueueUnavailable(status, exc.response.get("Error", {}).get("Code")) from exc
        except BotoCoreError as exc:
            raise QueueUnavailable(503) from exc
        return str(response["MessageId"])


class TokenVerifier(Protocol):
    def claims(self, authorization: str | None) -> dict[str, Any] | None:
        """The token's claims if API Gateway's Cognito authorizer would accept it; else None (401)."""
        ...


@dataclass(frozen=True)
class WriteRoute:
    """A POST of the contract with an SQS integration: who may call it, its template, its responses."""

    path: str
    api_key: bool  # security: api_key (and the usage plan)
    authorizer: bool  # security: the Cognito authorizer
    request_template: str
    responses: Mapping[str, tuple[int, str]]


def write_routes(contract: Contract) -> dict[str, WriteRoute]:
    schemes = contract.document.get("components", {}).get("securitySchemes", {})
    routes = {}
    for path, operations in contract.document["paths"].items():
        operation = operations.get("post")
        if not operation:
            continue
        integration = operation["x-amazon-apigateway-integration"]
        security = {name for requirement in operation.get("security", []) for name in requirement}
        routes[path] = WriteRoute(
            path,
            api_key="api_key" in security,
            authorizer=any("x-amazon-apigateway-authorizer" in schemes.get(name, {}) for name in security),
            request_template=integration["requestTemplates"][JSON_MEDIA_TYPE],
            responses=_integration_responses(integration["responses"]),
        )
    return routes


@dataclass(frozen=True)
class Outgoing:
    """A request the gateway admitted: the SQS message its mapping template produced."""

    body: str
    attributes: Mapping[str, Mapping[str, str]]
    context: dict[str, Any]
    route: WriteRoute


@dataclass(frozen=True)
class Response:
    status: int
    body: str
    request_id: str
    content_type: str = JSON_MEDIA_TYPE
    raw: bytes | None = None  # a binary body (a PDF, a static file): sent instead of `body`
    headers: tuple[tuple[str, str], ...] = ()


@dataclass
class Counters:
    accepted: int = 0
    rejected: int = 0
    unavailable: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, status: int) -> None:
        with self._lock:
            if status == HTTPStatus.ACCEPTED:
                self.accepted += 1
            elif status < 500:
                self.rejected += 1
            else:
                self.unavailable += 1


def api_key_id(api_key: str) -> str:
    """A stable, non-secret id for the local key (API Gateway's $context.identity.apiKeyId)."""
    return "local-" + hashlib.sha256(api_key.encode()).hexdigest()[:12]


class KeyLookup(Protocol):
    def key_id(self, key: str | None) -> str | None:
        """The id of a valid API key; None for a missing or unknown one."""
        ...


class SingleKey:
    """One valid key (the gateway's unit tests; a stack with one client)."""

    def __init__(self, api_key: str) -> None:
        self._key, self._id = api_key, api_key_id(api_key)

    def key_id(self, key: str | None) -> str | None:
        return self._id if key == self._key else None


THROTTLED = "THROTTLED"
QUOTA_EXCEEDED = "QUOTA_EXCEEDED"
_DAY_S = 86_400


@dataclass
class _KeyUsage:
    tokens: float
    refilled_at: float
    day: int
    requests_today: int = 0


class UsagePlan:
    """A usage plan's per-key limits as API Gateway applies them: a token bucket and a daily quota.

    Each key's bucket holds at most ``burst`` tokens, starts full and refills at ``rate_per_s``; a
    request takes one token or is throttled. The quota counts the requests a key was let through
    per UTC day (API Gateway's DAY period); a throttled request does not count. The counts live in
    this process: a restarted local gateway starts every key afresh.
    """

    def __init__(self, limits: UsagePlanLimits, clock: Callable[[], float] = time.time) -> None:
        self.limits = limits
        self._clock = clock
        self._usage: dict[str, _KeyUsage] = {}
        self._lock = threading.Lock()

    def refusal(self, key_id: str) -> str | None:
        """None if the key may make this request (and count it); else the gateway response type."""
        now = self._clock()
        day = int(now // _DAY_S)
        limits = self.limits
        with self._lock:
            usage = self._usage.get(key_id)
            if usage is None:
                usage = self._usage[key_id] = _KeyUsage(tokens=float(limits.burst), refilled_at=now, day=day)
            if usage.day != day:
                usage.day, usage.requests_today = day, 0
            if usage.requests_today >= limits.quota_per_day:
                return QUOTA_EXCEEDED
            elapsed = max(0.0, now - usage.refilled_at)  # a wall clock stepped back refills nothing
            usage.tokens = min(float(limits.burst), usage.tokens + elapsed * limits.rate_per_s)
            usage.refilled_at = now
            if usage.tokens < 1.0:
                return THROTTLED
            usage.tokens -= 1.0
            usage.requests_today += 1
            return None


class Gateway:
    def __init__(
        self,
        contract: Contract,
        keys: str | KeyLookup,
        *,
        usage_plan: UsagePlan | None = None,
        tokens: TokenVerifier | None = None,
    ) -> None:
        """`usage_plan` None: no throttle and no quota (what a plan without limits does); `tokens` None:
        no user pool, so every route behind the Cognito authorizer answers 401."""
        self.contract = contract
        self.keys: KeyLookup = SingleKey(keys) if isinstance(keys, str) else keys
        self.usage_plan = usage_plan
        self.tokens = tokens
        self.counters = Counters()
        self.routes = write_routes(contract)

    def handle(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes, source_ip: str, sender: MessageSender
    ) -> Response:
        """One request, start to end, with a blocking sender (the server uses admit/respond around its own)."""
        admitted = self.admit(method, path, headers, body, source_ip)
        if isinstance(admitted, Response):
            return admitted
        try:
            return self.respond(admitted, sender.send(admitted.body, admitted.attributes))
        except QueueUnavailable as exc:
            return self.respond(admitted, exc)

    def admit(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes, source_ip: str
    ) -> Response | Outgoing:
        """What API Gateway does before the integration: the answer, or the message to send."""
        context = _new_context(source_ip, self.keys.key_id(headers.get("x-api-key")))
        admitted = self._admit(method, path, headers, body, context)
        if isinstance(admitted, Response):
            self.counters.count(admitted.status)
        return admitted

    def respond(self, outgoing: Outgoing, sent: str | QueueUnavailable) -> Response:
        """The integration response: 202 with the message id, or what the contract maps the queue's error to."""
        context = outgoing.context
        if isinstance(sent, QueueUnavailable):
            logger.warning("the queue refused a punch (HTTP %s, %s)", sent.status, sent.code or "no error code")
            answer = _query_error(sent.code, context["requestId"])
            response = self._integration_response(context, sent.status, answer, outgoing.route)
        else:
            answer = _send_message_response(sent, context["requestId"])
            response = self._integration_response(context, 200, answer, outgoing.route)
        self.counters.count(response.status)
        return response

    def request_too_large(self) -> Response:
        """API Gateway's answer to a payload over its own limit (10 MB), before anything else."""
        response = self._gateway_response("REQUEST_TOO_LARGE", _new_context("", None), "Request Too Long")
        self.counters.count(response.status)
        return response

    def new_context(self, source_ip: str, headers: Mapping[str, str]) -> dict[str, Any]:
        """$context for a request: a new request id, the time, the source IP and the API key's id."""
        return _new_context(source_ip, self.keys.key_id(headers.get("x-api-key")))

    def refuse_caller(
        self, context: dict[str, Any], headers: Mapping[str, str], *, api_key: bool, authorizer: bool
    ) -> Response | None:
        """What a method's security refuses (uncounted), else None: its API key and the key's usage plan,
        then the Cognito authorizer, whose claims go to $context.authorizer.claims."""
        if api_key:
            key_id = context["identity"]["apiKeyId"]
            if key_id is None:
                return self._gateway_response("INVALID_API_KEY", context, "Forbidden")
            refusal = self.usage_plan.refusal(key_id) if self.usage_plan is not None else None
            if refusal is not None:
                message = "Too Many Requests" if refusal == THROTTLED else "Limit Exceeded"
                return self._gateway_response(refusal, context, message)
        if authorizer:
            claims = self.tokens.claims(headers.get("authorization")) if self.tokens is not None else None
            if claims is None:
                return self._gateway_response("UNAUTHORIZED", context, "Unauthorized")
            context["authorizer"] = {"claims": claims}
        return None

    def gateway_response(self, kind: str, context: dict[str, Any], message: str) -> Response:
        """The contract's gateway response of this type (API Gateway's answer without the integration)."""
        response = self._gateway_response(kind, context, message)
        self.counters.count(response.status)
        return response

    def _admit(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes, context: dict[str, Any]
    ) -> Response | Outgoing:
        route = self.routes.get(urllib.parse.urlsplit(path).path.rstrip("/")) if method == "POST" else None
        if route is None:
            return self._gateway_response("MISSING_AUTHENTICATION_TOKEN", context, "Missing Authentication Token")
        refused = self.refuse_caller(context, headers, api_key=route.api_key, authorizer=route.authorizer)
        if refused is not None:
            return refused
        if _media_type(headers.get("content-type")) != JSON_MEDIA_TYPE:
            return self._gateway_response("UNSUPPORTED_MEDIA_TYPE", context, "Unsupported Media Type")
        text = body.decode("utf-8", errors="replace")
        try:
            document = _STRICT_JSON.decode(text)
        except _NotJson as exc:
            return self._bad_body(context, f"Invalid JSON in request body: {exc.reason}")
        except ValueError:
            return self._bad_body(context, "Invalid JSON in request body")
        except RecursionError:
            return self._bad_body(context, "Invalid JSON in request body: nested too deeply")
        try:
            self.contract.validate_punch(document)
        except InvalidPunchError as exc:
            return self._bad_body(context, exc.reason)
        form = urllib.parse.parse_qs(render(route.request_template, input_body=text, context=context))
        outgoing = Outgoing(_form_value(form, "MessageBody"), _message_attributes(form), context, route)
        if message_size(outgoing.body, outgoing.attributes) > MAX_MESSAGE_BYTES:
            # SQS would refuse it (400 InvalidParameterValue): answer what the contract maps that to,
            # without the round trip, whatever limit the queue behind this gateway keeps.
            return self._integration_response(
                context, 400, _query_error("InvalidParameterValue", context["requestId"]), route
            )
        return outgoing

    def _integration_response(
        self, context: dict[str, Any], integration_status: int, body: str, route: WriteRoute
    ) -> Response:
        code, template = self._select_response(integration_status, route)
        context["responseOverride"] = {}
        rendered = render(template, input_body=body, context=context)
        status = int(context["responseOverride"].get("status", code))  # $context.responseOverride.status
        return Response(status, rendered, context["requestId"])

    def _select_response(self, integration_status: int, route: WriteRoute) -> tuple[int, str]:
        responses = route.responses
        for pattern, (code, template) in responses.items():
            if pattern != "default" and _matches(pattern, str(integration_status)):
                return code, template
        return responses["default"]

    def _bad_body(self, context: dict[str, Any], reason: str) -> Response:
        # $context.error.validationErrorString is embedded in a JSON string by the template, so it
        # arrives already escaped, as API Gateway's does.
        context["error"]["validationErrorString"] = json.dumps(reason)[1:-1]
        return self._gateway_response("BAD_REQUEST_BODY", context, "Invalid request body")

    def _gateway_response(self, kind: str, context: dict[str, Any], message: str) -> Response:
        responses = self.contract.gateway_responses
        spec = responses.get(kind) or responses["DEFAULT_4XX"]
        context["error"].setdefault("messageString", json.dumps(message))
        context["error"].setdefault("message", message)
        status = int(spec.get("statusCode", _DEFAULT_STATUS.get(kind, 400)))
        template = spec["responseTemplates"][JSON_MEDIA_TYPE]
        body = render(template, input_body="", context=context)
        return Response(status, body, context["requestId"], headers=_static_headers(spec))


_DEFAULT_STATUS = {
    "MISSING_AUTHENTICATION_TOKEN": 403,
    "UNAUTHORIZED": 401,
    "INTEGRATION_FAILURE": 504,
    "INVALID_API_KEY": 403,
    "UNSUPPORTED_MEDIA_TYPE": 415,
    "REQUEST_TOO_LARGE": 413,
    THROTTLED: 429,
    QUOTA_EXCEEDED: 429,
}


class _NotJson(ValueError):
    """A body a lenient parser reads but JSON does not allow; the reason is ours, for the client."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _reject_constant(name: str) -> Any:
    raise _NotJson(f"{name} is not a JSON number")


# Python's json reads NaN, Infinity and -Infinity; RFC 8259 (and API Gateway's strict parser) does not.
_STRICT_JSON = json.JSONDecoder(parse_constant=_reject_constant)


def _static_headers(spec: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """A gateway response's headers with static values ('...' quoted, as API Gateway writes them)."""
    prefix = "gatewayresponse.header."
    return tuple(
        (name.removeprefix(prefix), value.strip("'"))
        for name, value in (spec.get("responseParameters") or {}).items()
        if name.startswith(prefix) and value.startswith("'")
    )


def _new_context(source_ip: str, api_key_id: str | None) -> dict[str, Any]:
    return {
        "requestId": str(uuid.uuid4()),
        "requestTimeEpoch": int(time.time() * 1000),
        "identity": {"sourceIp": source_ip, "apiKeyId": api_key_id},
        "error": {},
    }


def message_size(body: str, attributes: Mapping[str, Mapping[str, str]]) -> int:
    """The size SQS holds against MaximumMessageSize: the body and every attribute's name, type and value."""
    size = len(body.encode("utf-8"))
    for name, value in attributes.items():
        size += len(name.encode()) + len(value["DataType"].encode()) + len(value["StringValue"].encode())
    return size


def _integration_responses(responses: Mapping[str, Any]) -> dict[str, tuple[int, str]]:
    return {
        pattern: (int(spec["statusCode"]), spec["responseTemplates"][JSON_MEDIA_TYPE])
        for pattern, spec in responses.items()
    }


def _matches(pattern: str, status: str) -> bool:
    return re.fullmatch(pattern, status) is not None


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _form_value(form: Mapping[str, list[str]], key: str) -> str:
    values = form.get(key) or [""]
    return values[0]


def _message_attributes(form: Mapping[str, list[str]]) -> dict[str, dict[str, str]]:
    """SQS query-API attributes (MessageAttribute.N.Name / .Value.*) as boto3 MessageAttributes."""
    attributes: dict[str, dict[str, str]] = {}
    index = 1
    while f"MessageAttribute.{index}.Name" in form:
        prefix = f"MessageAttribute.{index}"
        value = _form_value(form, f"{prefix}.Value.StringValue")
        if value:  # SQS refuses empty attribute values; API Gateway would get a 400 from SQS instead
            attributes[_form_value(form, f"{prefix}.Name")] = {
                "DataType": _form_value(form, f"{prefix}.Value.DataType"),
                "StringValue": value,
            }
        index += 1
    return attributes


def _query_error(code: str | None, request_id: str) -> str:
    """SQS's JSON answer to a query-API request it refused (what the integration response reads).

    Only the code is passed on: the queue's own message never reaches a client.
    """
    return json.dumps({"Error": {"Code": code or "ServiceUnavailable"}, "RequestId": request_id})


def _send_message_response(message_id: str, request_id: str) -> str:
    """SQS's JSON answer to the query API's SendMessage (what the integration response reads)."""
    return json.dumps(
        {
            "SendMessageResponse": {
                "ResponseMetadata": {"RequestId": request_id},
                "SendMessageResult": {"MessageId": message_id},
            }
        }
    )
