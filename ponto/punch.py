"""From a queued SQS record to a normalised punch, or the reason it can never be one."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Literal, NamedTuple

from ponto.contract import load_contract
from ponto.errors import InvalidPunchError

PunchFormat = Literal["v1", "legacy"]

_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}"
    r"(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})?$"
)


class QueuedMessage(NamedTuple):
    """The parts of an SQS record the worker uses: the body and the gateway's message attributes."""

    message_id: str
    body: str
    request_id: str | None = None
    received_at_ms: str | None = None
    source_ip: str | None = None
    api_key_id: str | None = None

    @classmethod
    def from_sqs_record(cls, record: Mapping[str, Any]) -> QueuedMessage:
        attributes = record.get("messageAttributes") or {}
        return cls(
            record["messageId"],
            record.get("body") or "",
            _string_attribute(attributes, "requestId"),
            _string_attribute(attributes, "receivedAt"),
            _string_attribute(attributes, "sourceIp"),
            _string_attribute(attributes, "apiKeyId"),
        )


def _string_attribute(attributes: Mapping[str, Any], name: str) -> str | None:
    value = attributes.get(name)
    text = value.get("stringValue") if isinstance(value, dict) else None
    return text if isinstance(text, str) and text else None


class Punch(NamedTuple):
    """A normalised punch (a named tuple: cheap to build, thousands per batch)."""

    punch_id: str
    employee_id: str
    punched_at: datetime  # UTC
    kind: str | None
    device_id: str | None
    location: Mapping[str, float] | None
    format: PunchFormat
    request_id: str | None
    message_id: str
    source_ip: str | None
    api_key_id: str | None
    received_at: datetime | None  # UTC
    raw: str


def parse_punch(message: QueuedMessage, local_tz: tzinfo) -> Punch:
    """Validate a queued body with the gateway's schema and normalise it; InvalidPunchError if not."""
    body = _load_json(message.body)
    load_contract().validate_punch(body)
    # A punch's identity: the client's punch_id, else the gateway's request id. Messages that did not
    # come through the gateway have neither; their SQS message id is stable across redeliveries.
    legacy = "usuarioId" in body
    if legacy:
        punch_id = message.request_id or message.message_id
        employee_id, stamp = str(body["usuarioId"]), body["ponto"]
    else:
        # The schema's pattern admits only the 8-4-4-4-12 form: lower case is the one spelling.
        punch_id = body["punch_id"].lower() if "punch_id" in body else message.request_id or message.message_id
        employee_id, stamp = body["employee_id"], body["punched_at"]
    return Punch(
        punch_id,
        employee_id,
        _timestamp(stamp, local_tz),  # the schema's pattern has checked its layout
        body.get("kind"),
        body.get("device_id"),
        body.get("location"),
        "legacy" if legacy else "v1",
        message.request_id,
        message.message_id,
        message.source_ip,
        message.api_key_id,
        _epoch_ms(message.received_at_ms),
        message.body,
    )


def parse_timestamp(text: str, local_tz: tzinfo) -> datetime:
    """RFC 3339 (or the legacy 'YYYY-MM-DD HH:MM:SS') to an aware UTC datetime.

    A time without an offset (legacy bodies only) is read in ``local_tz``.
    """
    if _RFC3339.match(text) is None:
        raise InvalidPunchError(f"{text!r} is not an RFC 3339 date-time")
    return _timestamp(text, local_tz)


def _timestamp(text: str, local_tz: tzinfo) -> datetime:
    """parse_timestamp for a text whose layout is known: 'YYYY-MM-DD?HH:MM:SS', then the rest."""
    leap = text[17:19] == "60"
    try:
        # fromisoformat reads every form the pattern admits (Z, offsets, up to 9 fraction digits,
        # truncated to microseconds) except a leap second, read as the instant after :59.
        moment = datetime.fromisoformat(text[:17] + "59" + text[19:] if leap else text)
    except ValueError:
        raise InvalidPunchError(f"{text!r} is not a valid date-time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=local_tz)
    try:
        if leap:
            moment = moment.replace(microsecond=0) + timedelta(seconds=1)
        return moment.astimezone(UTC)
    except OverflowError:
        raise InvalidPunchError(f"{text!r} is out of range") from None


def _load_json(body: str) -> Any:
    try:
        document, end = _DECODER.raw_decode(body, _WHITESPACE.match(body).end())  # type: ignore[union-attr]
    except (ValueError, RecursionError):
        raise InvalidPunchError("body is not valid JSON") from None
    if end != len(body) and _WHITESPACE.match(body, end).end() != len(body):  # type: ignore[union-attr]
        raise InvalidPunchError("body is not valid JSON")
    return document


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_WHITESPACE = re.compile(r"[ \t\n\r]*")
# One decoder for every body (json.loads with an option builds a new one per call).
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def _epoch_ms(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromtimestamp(float(text) / 1000, tz=UTC)
    except (ValueError, OverflowError, OSError):
        return None
