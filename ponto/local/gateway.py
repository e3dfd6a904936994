"""The local API gateway's logic: the API contract applied the way API Gateway applies it.

Everything it decides comes from ponto/contract/openapi.json: the API key requirement, the request
schema (the same validator the worker uses), the SQS integration's mapping template (rendered with
a Velocity engine), the integration responses and the gateway responses.
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
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from ponto.contract import JSON_MEDIA_TYPE, PUNCHES_PATH, Contract
from ponto.errors import InvalidPunchError
from ponto.local.velocity import render

logger = logging.getLogger("ponto.gateway")


class QueueUnavailable(Exception):
    """The queue did not take the message (the integration's 4xx/5xx)."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


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
            raise QueueUnavailable(int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 500))) from exc
        except BotoCoreError as exc:
            raise QueueUnavailable(503) from exc
        return str(response["MessageId"])


@dataclass(frozen=True)
class Outgoing:
    """A request the gateway admitted: the SQS message its mapping template produced."""

    body: str
    attributes: Mapping[str, Mapping[str, str]]
    context: dict[str, Any]


@dataclass(frozen=True)
class Response:
    status: int
    body: str
    request_id: str


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


class Gateway:
    def __init__(self, contract: Contract, keys: str | KeyLookup) -> None:
        self.contract = contract
        self.keys: KeyLookup = SingleKey(keys) if isinstance(keys, str) else keys
        self.counters = Counters()
        integration = contract.integration
        self._request_template: str = integration["requestTemplates"][JSON_MEDIA_TYPE]
        self._responses = _integration_responses(integration["responses"])

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
        context: dict[str, Any] = {
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": int(time.time() * 1000),
            "identity": {"sourceIp": source_ip, "apiKeyId": self.keys.key_id(headers.get("x-api-key"))},
            "error": {},
        }
        admitted = self._admit(method, path, headers, body, context)
        if isinstance(admitted, Response):
            self.counters.count(admitted.status)
        return admitted

    def respond(self, outgoing: Outgoing, sent: str | QueueUnavailable) -> Response:
        """The integration response: 202 with the message id, or the mapped queue failure."""
        context = outgoing.context
        if isinstance(sent, QueueUnavailable):
            logger.warning("the queue refused a punch (HTTP %s)", sent.status)
            status, integration_body = sent.status, json.dumps({"Error": {"Code": "ServiceUnavailable"}})
        else:
            status, integration_body = 200, _send_message_response(sent, context["requestId"])
        code, template = self._select_response(status)
        response = Response(code, render(template, input_body=integration_body, context=context), context["requestId"])
        self.counters.count(response.status)
        return response

    def _admit(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes, context: dict[str, Any]
    ) -> Response | Outgoing:
        if urllib.parse.urlsplit(path).path.rstrip("/") != PUNCHES_PATH or method != "POST":
            return self._gateway_response("MISSING_AUTHENTICATION_TOKEN", context, "Missing Authentication Token")
        if context["identity"]["apiKeyId"] is None:
            return self._gateway_response("INVALID_API_KEY", context, "Forbidden")
        if _media_type(headers.get("content-type")) != JSON_MEDIA_TYPE:
            return self._gateway_response("UNSUPPORTED_MEDIA_TYPE", context, "Unsupported Media Type")
        text = body.decode("utf-8", errors="replace")
        try:
            document = json.loads(text)
        except ValueError:
            return self._bad_body(context, "Invalid JSON in request body")
        try:
            self.contract.validate_punch(document)
        except InvalidPunchError as exc:
            return self._bad_body(context, exc.reason)
        form = urllib.parse.parse_qs(render(self._request_template, input_body=text, context=context))
        return Outgoing(_form_value(form, "MessageBody"), _message_attributes(form), context)

    def _select_response(self, integration_status: int) -> tuple[int, str]:
        for pattern, (code, template) in self._responses.items():
            if pattern != "default" and _matches(pattern, str(integration_status)):
                return code, template
        return self._responses["default"]

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
        return Response(status, render(template, input_body="", context=context), context["requestId"])


_DEFAULT_STATUS = {"MISSING_AUTHENTICATION_TOKEN": 403, "INVALID_API_KEY": 403, "UNSUPPORTED_MEDIA_TYPE": 415}


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
