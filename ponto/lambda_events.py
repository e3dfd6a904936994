"""The SQS event a Lambda event source mapping delivers, built from SQS's own message shape.

The local runner converts what ReceiveMessage returned; the benchmarks and the tests build the same
messages the gateway's mapping template produces and convert them the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# The data types the contract's mapping template gives the gateway's message attributes.
_NUMBER_ATTRIBUTES = frozenset({"receivedAt"})


def message_attributes(values: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """SendMessage/ReceiveMessage MessageAttributes for the gateway's attribute values."""
    return {
        name: {"DataType": "Number" if name in _NUMBER_ATTRIBUTES else "String", "StringValue": value}
        for name, value in values.items()
    }


def received_message(
    message_id: str, body: str, attributes: Mapping[str, str], *, sent_ms: int, receipt_handle: str
) -> dict[str, Any]:
    """A message as ReceiveMessage returns it (first receive), carrying the gateway's attributes."""
    return {
        "MessageId": message_id,
        "ReceiptHandle": receipt_handle,
        "Body": body,
        "Attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": str(sent_ms),
            "SenderId": "AROAEXAMPLE:apigateway",
            "ApproximateFirstReceiveTimestamp": str(sent_ms + 5),
        },
        "MessageAttributes": message_attributes(attributes),
    }


def sqs_lambda_record(message: Mapping[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """A ReceiveMessage result in the shape the Lambda event source mapping delivers."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {
            name: {
                "stringValue": value.get("StringValue"),
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": value["DataType"],
            }
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
