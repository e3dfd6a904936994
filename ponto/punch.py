"""From a queued SQS record to a normalised punch, or the reason it can never be one."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Literal, NamedTuple

import orjson

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
    signed_in: str | None = None  # personal mode: the employee id of the token (employeeId attribute)

    @classmethod
    def from_sqs_record(cls, record: Mapping[str, Any]) -> QueuedMessage:
        return cls(record["messageId"], record.get("body") or "", *_gateway_attributes(record))


def _gateway_attributes(
    record: Mapping[str, Any],
) -> tuple[str | None, str | None, str | None, str | None, str | None]:
    """requestId, receivedAt, sourceIp, apiKeyId and employeeId: the string values the gateway's mapping
    attached (employeeId only on the personal route, from the signed-in employee's token)."""
    attributes = record.get("messageAttributes")
    if not attributes:
        return None, None, None, None, None
    return (
        _string_attribute(attributes.get("requestId")),
        _string_attribute(attributes.get("receivedAt")),
        _string_attribute(attributes.get("sourceIp")),
        _string_attribute(attributes.get("apiKeyId")),
        _string_attribute(attributes.get("employeeId")),
    )


def _string_attribute(value: Any) -> str | None:
    if value.__class__ is not dict:
        return None
    text = value.get("stringValue")
    return text if text.__class__ is str and text else None


class Punch(NamedTuple):
    """A normalised punch (a named tuple: cheap to build, thousands per batch)."""

    punch_id: str
    employee_id: str
    punched_at: datetime | None  # aware: in the client's offset, or UTC; None: the text names no time
    punched_at_text: str | None  # the same instant as PostgreSQL reads it (None with punched_at)
    kind: str | None
    device_id: str | None
    location: Mapping[str, float] | None
    format: PunchFormat
    request_id: str | None
    message_id: str
    source_ip: str | None
    api_key_id: str | None
    received_at_ms: int | None  # epoch milliseconds, when the gateway received the request
    raw: str
    offline: bool  # the clock took it without a connection (v1 `offline`; AFD type 7's flag)
    # Why punched_at is None: the time passed the schema's pattern but names no instant (29 February of
    # a year that is not a leap year, which no pattern of the contract excludes). Such a punch is
    # recorded all the same, its body kept, and never sealed (the AFD needs a real time).
    punched_at_problem: str | None = None


def parse_punch(message: QueuedMessage, local_tz: tzinfo) -> Punch:
    """Validate a queued body with the gateway's schema and normalise it; InvalidPunchError if not."""
    attributes = (message.request_id, message.received_at_ms, message.source_ip, message.api_key_id, message.signed_in)
    return _punch(message.body, message.message_id, attributes, local_tz)


def parse_record(record: Mapping[str, Any], local_tz: tzinfo) -> Punch:
    """parse_punch(QueuedMessage.from_sqs_record(record), local_tz), without the intermediate tuple."""
    return _punch(record.get("body") or "", record["messageId"], _gateway_attributes(record), local_tz)


def _punch(body_text: str, message_id: str, attributes: Sequence[str | None], local_tz: tzinfo) -> Punch:
    request_id, received_at, source_ip, api_key_id, signed_in = attributes
    body = _load_json(body_text)
    load_contract().validate_punch(body)
    if signed_in is not None and body.get("employee_id") != signed_in:
        # Personal mode: who punches is the token's employee, never the body's say.
        raise InvalidPunchError("the body names another employee than the signed-in one")
    # A punch's identity: the client's punch_id, else one derived from its content (content_id), so a
    # clock's resend of the same body is a duplicate (a request id is new on every resend).
    # A time the pattern passed that names no instant is recorded without one, with the reason.
    punched_at: datetime | None
    text: str | None
    problem: str | None = None
    if "usuarioId" in body:
        sent: str = body["ponto"]  # the schema's pattern has checked its layout
        punched_at, text, problem = _time_or_problem(sent, local_tz)
        return _new_punch(Punch, (
            content_id("legacy", str(body["usuarioId"]), sent if text is None else text),
            str(body["usuarioId"]),
            punched_at, text,
            None, None, None, "legacy",
            request_id, message_id, source_ip, api_key_id, _epoch_ms(received_at), body_text, False, problem,
        ))  # fmt: skip
    punch_id = body.get("punch_id")
    sent = text = body["punched_at"]  # the pattern has checked its layout, offset and year range included
    # The usual text (no leap second, at most 6 fraction digits, a year that no offset can push out of
    # datetime's range) says exactly the instant datetime holds: PostgreSQL reads it as sent.
    if sent[17:19] != "60" and len(sent) - (1 if sent[-1] == "Z" else 6) <= 26 and "0001" < sent[:4] < "9999":
        try:
            punched_at = _fromisoformat(sent)
        except ValueError as exc:
            punched_at, text, problem = None, None, _no_time(sent, exc)
    else:
        punched_at, text, problem = _time_or_problem(sent, local_tz)
    return _new_punch(Punch, (
        # The schema's pattern admits only the 8-4-4-4-12 form: lower case is the one spelling.
        punch_id.lower() if punch_id else content_id(
            "v1", body["employee_id"], sent if punched_at is None else punched_at.astimezone(UTC).isoformat(),
            body.get("device_id") or "", api_key_id or "",
        ),
        body["employee_id"],
        punched_at, text,
        body.get("kind"), body.get("device_id"), body.get("location"), "v1",
        request_id, message_id, source_ip, api_key_id, _epoch_ms(received_at), body_text,
        body.get("offline") is True, problem,
    ))  # fmt: skip


def _no_time(text: str, exc: ValueError) -> str:
    """The reason a text that has a date-time's layout names no instant (datetime's own words)."""
    return f"{text!r} is not a valid date-time ({exc})"


# Content-derived identities are version-5 UUIDs in Ponto's own namespace: the same content always
# gives the same id, and none equals a clock's random (version-4) punch_id.
_CONTENT_NAMESPACE = uuid.UUID("6c1f3e0a-5d2b-4c8e-9a47-0b6d2f1e7c35")


def content_id(*parts: str) -> str:
    """The identity of a punch whose clock sent no punch_id: a UUID of what identifies it (legacy:
    usuarioId and time; v1: employee, time, device and the key that sent it). Punches recorded before
    this rule keep the identity they were recorded with (the gateway's request id)."""
    return str(uuid.uuid5(_CONTENT_NAMESPACE, "\x1f".join(parts)))


def _time_or_problem(sent: str, local_tz: tzinfo) -> tuple[datetime | None, str | None, str | None]:
    """(the instant, as PostgreSQL reads it, None) for a time that names one; else (None, None, why)."""
    try:
        moment = _timestamp(sent, local_tz)
    except InvalidPunchError as exc:
        return None, None, exc.reason
    return moment, moment.isoformat(), None


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
    except ValueError as exc:
        raise InvalidPunchError(_no_time(text, exc)) from None
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
        document = _fast_loads(body)
    except ValueError:  # orjson.JSONDecodeError: the stdlib decides (it reads lone surrogates, 1e400)
        pass
    else:
        # orjson reads an integer beyond 64 bits as a float. In a v1 body only location holds numbers,
        # bounded by the schema either way; a legacy usuarioId is an integer of any size: the stdlib
        # reads legacy bodies.
        if document.__class__ is not dict or "usuarioId" not in document:
            return document
    try:
        return _DECODER.decode(body)
    except (ValueError, RecursionError):
        raise InvalidPunchError("body is not valid JSON") from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_fast_loads = orjson.loads
# Punch's own __new__ is a Python function that builds this tuple: building it directly saves a call
# per punch. The field order is Punch's (every field is checked by the unit tests).
_new_punch = tuple.__new__
_fromisoformat = datetime.fromisoformat
# One decoder for every body (json.loads with an option builds a new one per call).
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)
# The instants datetime can hold: an attribute outside them is not a time this worker can record.
_MIN_EPOCH_MS = int(datetime(1, 1, 2, tzinfo=UTC).timestamp() * 1000)
_MAX_EPOCH_MS = int(datetime(9999, 12, 31, tzinfo=UTC).timestamp() * 1000)


def _epoch_ms(text: str | None) -> int | None:
    """The receivedAt attribute (a Number: epoch milliseconds) as an int; None if absent or not one."""
    if not text:
        return None
    try:
        ms = int(text)
    except ValueError:
        try:
            ms = round(float(text))
        except (ValueError, OverflowError):
            return None
    return ms if _MIN_EPOCH_MS <= ms <= _MAX_EPOCH_MS else None
