"""From a queued SQS record to a normalised punch, or the reason it can never be one."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Literal

from ponto.contract import load_contract
from ponto.errors import InvalidPunchError

PunchFormat = Literal["v1", "legacy"]

_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:(?P<second>\d{2})"
    r"(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})?$"
)


@dataclass(frozen=True, slots=True)
class QueuedMessage:
    """The parts of an SQS record the worker uses (the Lambda event shape, minus the noise)."""

    message_id: str
    body: str
    attributes: Mapping[str, str]

    @classmethod
    def from_sqs_record(cls, record: Mapping[str, Any]) -> QueuedMessage:
        attributes = {
            str(name): str(value["stringValue"])
            for name, value in (record.get("messageAttributes") or {}).items()
            if isinstance(value, dict) and value.get("stringValue") is not None
        }
        return cls(message_id=record["messageId"], body=record.get("body") or "", attributes=attributes)


@dataclass(frozen=True, slots=True)
class Punch:
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
    attributes = message.attributes
    request_id = attributes.get("requestId") or None
    # A punch's identity: the client's punch_id, else the gateway's request id. Messages that did not
    # come through the gateway have neither; their SQS message id is stable across redeliveries.
    fallback_id = request_id or message.message_id
    legacy = "usuarioId" in body
    return Punch(
        # The schema's pattern admits only the 8-4-4-4-12 form: lower case is the one spelling.
        punch_id=body["punch_id"].lower() if "punch_id" in body else fallback_id,
        employee_id=str(body["usuarioId"]) if legacy else body["employee_id"],
        punched_at=parse_timestamp(body["ponto"] if legacy else body["punched_at"], local_tz),
        kind=body.get("kind"),
        device_id=body.get("device_id"),
        location=body.get("location"),
        format="legacy" if legacy else "v1",
        request_id=request_id,
        message_id=message.message_id,
        source_ip=attributes.get("sourceIp") or None,
        api_key_id=attributes.get("apiKeyId") or None,
        received_at=_epoch_ms(attributes.get("receivedAt")),
        raw=message.body,
    )


def parse_timestamp(text: str, local_tz: tzinfo) -> datetime:
    """RFC 3339 (or the legacy 'YYYY-MM-DD HH:MM:SS') to an aware UTC datetime.

    A time without an offset (legacy bodies only) is read in ``local_tz``.
    """
    match = _RFC3339.match(text)
    if match is None:
        raise InvalidPunchError(f"{text!r} is not an RFC 3339 date-time")
    leap = match["second"] == "60"
    if leap:
        text = text[: match.start("second")] + "59" + text[match.end("second") :]
    try:
        # fromisoformat reads every form the pattern admits (Z, offsets, up to 9 fraction digits,
        # truncated to microseconds) except a leap second, read as the instant after :59.
        moment = datetime.fromisoformat(
            text[: match.start("second")] + "59" + text[match.end("second") :] if leap else text
        )
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
        return _DECODER.decode(body)
    except (ValueError, RecursionError):
        raise InvalidPunchError("body is not valid JSON") from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


# One decoder for every body (json.loads with an option builds a new one per call).
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def _epoch_ms(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromtimestamp(float(text) / 1000, tz=UTC)
    except (ValueError, OverflowError, OSError):
        return None
