"""ponto's local SQS server, through real boto3 calls.

The semantics tests run against ponto's server and against moto's server (a child process) as a
reference; where moto differs or lacks a feature the test is ponto-only and says why.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from ponto.local import sqs_store
from ponto.local.sqs_server import SqsServer, serve
from ponto.local.sqs_store import SqsStore, new_message

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, process: subprocess.Popen[bytes] | None = None, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            s.settimeout(0.2)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        time.sleep(0.05)
    raise RuntimeError(f"nothing listening on port {port}")


def _client(endpoint: str) -> Any:
    return boto3.session.Session().client(
        "sqs",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}, read_timeout=30),
    )


@pytest.fixture(scope="module")
def ponto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SqsServer]:
    server = SqsServer(str(tmp_path_factory.mktemp("sqs") / "sqs.db")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_port(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture(scope="module", params=["ponto", "moto"])
def endpoint(request: pytest.FixtureRequest) -> str:
    if request.param == "ponto":
        server: SqsServer = request.getfixturevalue("ponto_server")
        return server.url
    url: str = request.getfixturevalue("moto_endpoint")
    return url


@pytest.fixture
def sqs(endpoint: str) -> Any:
    return _client(endpoint)


@pytest.fixture
def ponto_sqs(ponto_server: SqsServer) -> Any:
    return _client(ponto_server.url)


def _name(prefix: str = "q") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def _arn(client: Any, url: str) -> str:
    arn: str = client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return arn


def _counts(client: Any, url: str) -> tuple[int, int, int]:
    attributes = client.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=[
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ],
    )["Attributes"]
    return (
        int(attributes["ApproximateNumberOfMessages"]),
        int(attributes["ApproximateNumberOfMessagesNotVisible"]),
        int(attributes["ApproximateNumberOfMessagesDelayed"]),
    )


def _receive_all(client: Any, url: str, expected: int, **kwargs: Any) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    deadline = time.monotonic() + 20
    while len(messages) < expected and time.monotonic() < deadline:
        messages += client.receive_message(QueueUrl=url, MaxNumberOfMessages=10, **kwargs).get("Messages", [])
    return messages


def _with_dlq(client: Any, max_receive_count: int = 2) -> tuple[str, str, str]:
    dlq = client.create_queue(QueueName=_name("dlq"))["QueueUrl"]
    dlq_arn = _arn(client, dlq)
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receive_count)})
    source = client.create_queue(QueueName=_name("src"), Attributes={"RedrivePolicy": policy})["QueueUrl"]
    return source, dlq, dlq_arn


def reference_md5_of_attributes(attributes: dict[str, dict[str, Any]]) -> str:
    """SQS's message attribute MD5, written independently of the server's code."""
    buffer = b""
    for name in sorted(attributes):
        value = attributes[name]
        for part in (name, value["DataType"]):
            encoded = part.encode()
            buffer += len(encoded).to_bytes(4, "big") + encoded
        if "BinaryValue" in value:
            raw = value["BinaryValue"]
            buffer += b"\x02" + len(raw).to_bytes(4, "big") + raw
        else:
            encoded = value["StringValue"].encode()
            buffer += b"\x01" + len(encoded).to_bytes(4, "big") + encoded
    return hashlib.md5(buffer, usedforsecurity=False).hexdigest()


ATTRIBUTES: dict[str, dict[str, Any]] = {
    "source": {"DataType": "String", "StringValue": "clock-7 ção"},
    "attempt": {"DataType": "Number", "StringValue": "3"},
    "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xfe"},
    "custom": {"DataType": "String.punch", "StringValue": "in"},
}


# ----------------------------------------------------------------------------- conformance (both)


def test_round_trip_with_attributes_and_md5s(sqs: Any) -> None:
    url = sqs.create_queue(QueueName=_name())["QueueUrl"]
    body = json.dumps({"punch_id": "p-1", "employee_id": "42", "note": "entrada às 8h"})
    sent = sqs.send_message(QueueUrl=url, MessageBody=body, MessageAttributes=ATTRIBUTES)
    assert sent["MD5OfMessageBody"] == hashlib.md5(body.encode(), usedforsecurity=False).hexdigest()
    assert sent["MD5OfMessageAttributes"] == reference_md5_of_attributes(ATTRIBUTES)

    before = int(time.time() * 1000)
    [message] = sqs.receive_message(
        QueueUrl=url, MessageAttributeNames=["All"], MessageSystemAttributeNames=["All"], WaitTimeSeconds=1
    )["Messages"]
    assert message["MessageId"] == sent["MessageId"]
    assert message["Body"] == body
    assert message["MD5OfBody"] == sent["MD5OfMessageBody"]
    assert message["MessageAttributes"] == ATTRIBUTES
    assert message["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    system = message["Attributes"]
    assert system["ApproximateReceiveCount"] == "1"
    assert abs(int(system["SentTimestamp"]) - before) < 10_000
    assert int(system["ApproximateFirstReceiveTimestamp"]) >= int(system["SentTimestamp"])
    assert system["SenderId"]

    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    assert _counts(sqs, url) == (0, 0, 0)
    assert not sqs.receive_message(QueueUrl=url).get("Messages")


def test_receive_filters_message_attributes_by_name(sqs: Any) -> None:
    url = sqs.create_queue(QueueName=_name())["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="x", MessageAttributes=ATTRIBUTES)
    [message] = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["source", "blob"])["Messages"]
    chosen = {k: ATTRIBUTES[k] for k in ("source", "blob")}
    assert message["MessageAttributes"] == chosen
    assert message["MD5OfMessageAttributes"] == reference_md5_of_attributes(chosen)


def test_batch_send_and_delete(sqs: Any) -> None:
    url = sqs.create_queue(QueueName=_name())["QueueUrl"]
    entries: list[dict[str, Any]] = [
        {
            "Id": f"e{i}",
            "MessageBody": f"body-{i}",
            "MessageAttributes": {"n": {"DataType": "Number", "StringValue": str(i)}},
        }
        for i in range(10)
    ]
    sent = sqs.send_message_batch(QueueUrl=url, Entries=entries)
    assert not sent.get("Failed")
    assert sorted(e["Id"] for e in sent["Successful"]) == sorted(e["Id"] for e in entries)
    for entry in sent["Successful"]:
        i = int(entry["Id"][1:])
        assert entry["MD5OfMessageBody"] == hashlib.md5(f"body-{i}".encode(), usedforsecurity=False).hexdigest()
        assert entry["MD5OfMessageAttributes"] == reference_md5_of_attributes(entries[i]["MessageAttributes"])

    messages = _receive_all(sqs, url, 10)
    assert sorted(m["Body"] for m in messages) == sorted(f"body-{i}" for i in range(10))
    deleted = sqs.delete_message_batch(
        QueueUrl=url, Entries=[{"Id": str(k), "ReceiptHandle": m["ReceiptHandle"]} for k, m in enumerate(messages)]
    )
    assert len(deleted["Successful"]) == 10 and not deleted.get("Failed")
    assert _counts(sqs, url) == (0, 0, 0)

    with pytest.raises(ClientError) as too_many:
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": "x"} for i in range(11)])
    assert too_many.value.response["Error"]["QueryErrorCode"] == "TooManyEntriesInBatchRequest"
    with pytest.raises(ClientError) as repeated:
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "a", "MessageBody": "x"}, {"Id": "a", "MessageBody": "y"}])
    assert repeated.value.response["Error"]["QueryErrorCode"] == "BatchEntryIdsNotDistinct"
    failed = sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": "bad", "ReceiptHandle": "not-a-handle"}])
    assert [f["Code"] for f in failed["Failed"]] == ["ReceiptHandleIsInvalid"]


def test_visibility_timeout_expiry_and_change(sqs: Any) -> None:
    url = sqs.create_queue(QueueName=_name(), Attributes={"VisibilityTimeout": "1"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="again")
    first = sqs.receive_message(QueueUrl=url, AttributeNames=["ApproximateReceiveCount"])["Messages"][0]
    assert first["Attributes"]["ApproximateReceiveCount"] == "1"
    assert not sqs.receive_message(QueueUrl=url).get("Messages")
    assert _counts(sqs, url) == (0, 1, 0)
    time.sleep(1.3)
    second = sqs.receive_message(QueueUrl=url, AttributeNames=["ApproximateReceiveCount"])["Messages"][0]
    assert second["MessageId"] == first["MessageId"]
    assert second["Attributes"]["ApproximateReceiveCount"] == "2"
    assert second["ReceiptHandle"] != first["ReceiptHandle"]

    # Extend, then release at once.
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=second["ReceiptHandle"], VisibilityTimeout=30)
    time.sleep(1.3)
    assert not sqs.receive_message(QueueUrl=url).get("Messages")
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=second["ReceiptHandle"], VisibilityTimeout=0)
    third = sqs.receive_message(QueueUrl=url, VisibilityTimeout=30, AttributeNames=["All"])["Messages"][0]
    assert third["Attributes"]["ApproximateReceiveCount"] == "3"

    result = sqs.change_message_visibility_batch(
        QueueUrl=url, Entries=[{"Id": "only", "ReceiptHandle": third["ReceiptHandle"], "VisibilityTimeout": 0}]
    )
    assert [e["Id"] for e in result["Successful"]] == ["only"]
    assert sqs.receive_message(QueueUrl=url)["Messages"][0]["MessageId"] == first["MessageId"]


def test_long_poll_returns_as_soon_as_a_message_arrives(sqs: Any, endpoint: str) -> None:
    url = sqs.create_queue(QueueName=_name())["QueueUrl"]
    started = time.monotonic()
    assert not sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages")
    assert time.monotonic() - started >= 0.9

    sender = _client(endpoint)
    timer = threading.Timer(0.5, lambda: sender.send_message(QueueUrl=url, MessageBody="late"))
    started = time.monotonic()
    timer.start()
    try:
        messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=10).get("Messages", [])
    finally:
        timer.join()
    elapsed = time.monotonic() - started
    assert [m["Body"] for m in messages] == ["late"]
    assert 0.4 <= elapsed < 3, elapsed


def test_redrive_to_dead_letter_queue_after_max_receive_count(sqs: Any) -> None:
    source, dlq, _ = _with_dlq(sqs, max_receive_count=2)
    sent = sqs.send_message(QueueUrl=source, MessageBody="poison", MessageAttributes=ATTRIBUTES)
    sent_at = None
    for attempt in (1, 2):
        [message] = sqs.receive_message(QueueUrl=source, VisibilityTimeout=0, AttributeNames=["All"])["Messages"]
        assert message["Attributes"]["ApproximateReceiveCount"] == str(attempt)
        sent_at = message["Attributes"]["SentTimestamp"]
    assert not sqs.receive_message(QueueUrl=source).get("Messages")  # third receive: moved, not returned
    assert _counts(sqs, source) == (0, 0, 0)
    assert _counts(sqs, dlq)[0] == 1
    [dead] = sqs.receive_message(QueueUrl=dlq, MessageAttributeNames=["All"], AttributeNames=["All"])["Messages"]
    assert dead["MessageId"] == sent["MessageId"]
    assert dead["Body"] == "poison"
    assert dead["MessageAttributes"] == ATTRIBUTES
    assert dead["Attributes"]["SentTimestamp"] == sent_at


def test_queue_attributes(sqs: Any) -> None:
    source, _, dlq_arn = _with_dlq(sqs, max_receive_count=5)
    name = source.rsplit("/", 1)[1]
    attributes = sqs.get_queue_attributes(QueueUrl=source, AttributeNames=["All"])["Attributes"]
    assert attributes["QueueArn"].startswith("arn:aws:sqs:us-east-1:") and attributes["QueueArn"].endswith(f":{name}")
    assert json.loads(attributes["RedrivePolicy"]) == {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5}
    assert attributes["VisibilityTimeout"] == "30"
    assert attributes["MessageRetentionPeriod"] == "345600"
    assert float(attributes["CreatedTimestamp"]) > 1.6e9

    for i in range(3):
        sqs.send_message(QueueUrl=source, MessageBody=str(i))
    sqs.receive_message(QueueUrl=source, VisibilityTimeout=30)
    assert _counts(sqs, source) == (2, 1, 0)

    named = sqs.get_queue_attributes(QueueUrl=source, AttributeNames=["VisibilityTimeout", "QueueArn"])["Attributes"]
    assert set(named) == {"VisibilityTimeout", "QueueArn"}
    sqs.set_queue_attributes(QueueUrl=source, Attributes={"VisibilityTimeout": "45", "MessageRetentionPeriod": "600"})
    changed = sqs.get_queue_attributes(QueueUrl=source, AttributeNames=["All"])["Attributes"]
    assert (changed["VisibilityTimeout"], changed["MessageRetentionPeriod"]) == ("45", "600")


def test_purge_queue(sqs: Any) -> None:
    url = sqs.create_queue(QueueName=_name())["QueueUrl"]
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": str(i)} for i in range(5)])
    sqs.receive_message(QueueUrl=url)
    sqs.purge_queue(QueueUrl=url)
    assert _counts(sqs, url) == (0, 0, 0)
    assert not sqs.receive_message(QueueUrl=url).get("Messages")


def test_queue_lifecycle_and_unknown_queue(sqs: Any) -> None:
    name = _name("life")
    url = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "10"})["QueueUrl"]
    assert url.endswith(f"/{name}")
    assert sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "10"})["QueueUrl"] == url
    with pytest.raises(sqs.exceptions.QueueNameExists):
        sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "11"})
    assert sqs.get_queue_url(QueueName=name)["QueueUrl"] == url
    assert sqs.list_queues(QueueNamePrefix=name)["QueueUrls"] == [url]
    sqs.delete_queue(QueueUrl=url)
    assert not sqs.list_queues(QueueNamePrefix=name).get("QueueUrls")

    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.get_queue_url(QueueName=name)
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.send_message(QueueUrl=url, MessageBody="nowhere")
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.receive_message(QueueUrl=url)
    with pytest.raises(ClientError) as invalid:
        sqs.receive_message(QueueUrl=sqs.create_queue(QueueName=_name())["QueueUrl"], MaxNumberOfMessages=11)
    assert invalid.value.response["Error"]["Code"] == "InvalidParameterValue"


# ------------------------------------------------------------------- errors: AWS's answers (both)
#
# What a boto3 user can tell of an error: `Error.Code` (the query-compatible code of the
# `x-amzn-query-error` header), `Error.QueryErrorCode` (the JSON protocol's `__type`, which also picks
# the exception class), `Error.Type` (Sender/Receiver), the HTTP status and the message.  Expected
# values are SQS's: its API reference and JSON protocol documentation, and where those are silent the
# responses AWS gives (as recorded by SDK and emulator test suites).  Where moto's server answers
# otherwise, its run is an expected difference with the reason.


def _expect_moto_difference(request: pytest.FixtureRequest, reason: str) -> None:
    """Mark this test's moto run as an expected (strict) failure: moto differs from SQS here."""
    if request.node.callspec.params.get("endpoint") == "moto":
        request.applymarker(pytest.mark.xfail(reason=f"moto differs from SQS: {reason}", strict=True))


def _error(call: Callable[[], Any]) -> tuple[str, str | None, str | None, int, str]:
    """(Code, QueryErrorCode, Type, HTTP status, Message) of the ClientError `call` raises."""
    with pytest.raises(ClientError) as raised:
        call()
    response = raised.value.response
    error = response["Error"]
    return (
        error["Code"],
        error.get("QueryErrorCode"),
        error.get("Type"),
        response["ResponseMetadata"]["HTTPStatusCode"],
        error["Message"],
    )


NON_EXISTENT_QUEUE = (
    "AWS.SimpleQueueService.NonExistentQueue",
    "QueueDoesNotExist",
    "Sender",
    400,
    "The specified queue does not exist.",
)


def test_error_queue_does_not_exist(sqs: Any) -> None:
    url = sqs.create_queue(QueueName=_name())["QueueUrl"]
    sqs.delete_queue(QueueUrl=url)
    calls: list[Callable[[], Any]] = [
        lambda: sqs.get_queue_url(QueueName=url.rsplit("/", 1)[1]),
        lambda: sqs.send_message(QueueUrl=url, MessageBody="x"),
        lambda: sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "a", "MessageBody": "x"}]),
        lambda: sqs.receive_message(QueueUrl=url),
        lambda: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"]),
        lambda: sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "5"}),
        lambda: sqs.purge_queue(QueueUrl=url),
        lambda: sqs.delete_queue(QueueUrl=url),
    ]
    for call in calls:
        assert _error(call) == NON_EXISTENT_QUEUE
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.get_queue_url(QueueName=url.rsplit("/", 1)[1])


def test_error_message_too_long_and_the_1_mib_limit(sqs: Any) -> None:
    """SQS's limit is 1 MiB (1,048,576 bytes): the default and largest MaximumMessageSize."""
    url = sqs.create_queue(QueueName=_name())["QueueUrl"]
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["MaximumMessageSize"])["Attributes"] == {
        "MaximumMessageSize": "1048576"
    }
    sqs.send_message(QueueUrl=url, MessageBody="a" * 1_048_576)
    code, _, kind, status, message = _error(lambda: sqs.send_message(QueueUrl=url, MessageBody="a" * 1_048_577))
    assert (code, kind, status) == ("InvalidParameterValue", "Sender", 400)
    assert message == "One or more parameters are invalid. Reason: Message must be shorter than 1048576 bytes."

    small = sqs.create_queue(QueueName=_name(), Attributes={"MaximumMessageSize": "1024"})["QueueUrl"]
    sqs.send_message(QueueUrl=small, MessageBody="a" * 1024)
    code, _, _, _, message = _error(lambda: sqs.send_message(QueueUrl=small, MessageBody="a" * 1025))
    assert code == "InvalidParameterValue"
    assert message == "One or more parameters are invalid. Reason: Message must be shorter than 1024 bytes."

    sqs.set_queue_attributes(QueueUrl=small, Attributes={"MaximumMessageSize": "1048576"})
    sqs.send_message(QueueUrl=small, MessageBody="a" * 1025)
    code, _, _, _, message = _error(lambda: sqs.send_message(QueueUrl=url, MessageBody="a", DelaySeconds=901))
    assert (code, message) == (
        "InvalidParameterValue",
        "Value 901 for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900.",
    )


def test_error_types_of_the_common_errors(sqs: Any, request: pytest.FixtureRequest) -> None:
    """SQS sends AWS's common errors as InvalidParameterValueException and MissingRequiredParameterException
    (their `__type`) with the query codes InvalidParameterValue and MissingParameter."""
    _expect_moto_difference(request, "its __type is InvalidParameterValue, and it accepts an empty body")
    url = sqs.create_queue(QueueName=_name())["QueueUrl"]
    assert _error(lambda: sqs.send_message(QueueUrl=url, MessageBody="a" * 1_048_577))[:4] == (
        "InvalidParameterValue",
        "InvalidParameterValueException",
        "Sender",
        400,
    )
    assert _error(lambda: sqs.send_message(QueueUrl=url, MessageBody="")) == (
        "MissingParameter",
        "MissingRequiredParameterException",
        "Sender",
        400,
        "The request must contain the parameter MessageBody.",
    )


def test_error_receive_parameters_out_of_range(sqs: Any, request: pytest.FixtureRequest) -> None:
    _expect_moto_difference(
        request, "its messages differ (an 'An error occurred' prefix, another VisibilityTimeout text)"
    )
    url = sqs.create_queue(QueueName=_name())["QueueUrl"]
    messages = {
        "MaxNumberOfMessages": (11, "Value 11 for parameter MaxNumberOfMessages is invalid. "
                                    "Reason: Must be between 1 and 10, if provided."),
        "WaitTimeSeconds": (21, "Value 21 for parameter WaitTimeSeconds is invalid. "
                                "Reason: Must be >= 0 and <= 20, if provided."),
        "VisibilityTimeout": (43_201, "Value 43201 for parameter VisibilityTimeout is invalid. "
                                      "Reason: Must be >= 0 and <= 43200, if provided."),
    }  # fmt: skip
    for parameter, (value, message) in messages.items():
        code, _, _, status, got = _error(functools.partial(sqs.receive_message, QueueUrl=url, **{parameter: value}))
        assert (code, status, got) == ("InvalidParameterValue", 400, message)


@pytest.mark.parametrize("action", ["SendMessageBatch", "DeleteMessageBatch", "ChangeMessageVisibilityBatch"])
def test_error_batch_structure(sqs: Any, request: pytest.FixtureRequest, action: str) -> None:
    if action == "ChangeMessageVisibilityBatch":
        _expect_moto_difference(request, "it accepts an empty ChangeMessageVisibilityBatch")
    if action == "DeleteMessageBatch":
        _expect_moto_difference(request, "it looks for repeated receipt handles, not repeated ids")
    url = sqs.create_queue(QueueName=_name())["QueueUrl"]
    method = getattr(sqs, {"SendMessageBatch": "send_message_batch", "DeleteMessageBatch": "delete_message_batch",
                           "ChangeMessageVisibilityBatch": "change_message_visibility_batch"}[action])  # fmt: skip

    def entry(entry_id: str, k: int) -> dict[str, Any]:
        if action == "SendMessageBatch":
            return {"Id": entry_id, "MessageBody": "x"}
        if action == "DeleteMessageBatch":
            return {"Id": entry_id, "ReceiptHandle": f"handle-{k}"}
        return {"Id": entry_id, "ReceiptHandle": f"handle-{k}", "VisibilityTimeout": 0}

    def batch(*ids: str) -> Callable[[], Any]:
        return lambda: method(QueueUrl=url, Entries=[entry(i, k) for k, i in enumerate(ids)])

    assert _error(batch("a", "b", "a")) == (
        "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", "BatchEntryIdsNotDistinct", "Sender", 400, "Id a repeated."
    )  # fmt: skip
    assert _error(batch(*(str(i) for i in range(11)))) == (
        "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
        "TooManyEntriesInBatchRequest",
        "Sender",
        400,
        "Maximum number of entries per request are 10. You have sent 11.",
    )
    assert _error(batch("not.valid")) == (
        "AWS.SimpleQueueService.InvalidBatchEntryId",
        "InvalidBatchEntryId",
        "Sender",
        400,
        "A batch entry id can only contain alphanumeric characters, hyphens and underscores. "
        "It can be at most 80 letters long.",
    )
    assert _error(batch()) == (
        "AWS.SimpleQueueService.EmptyBatchRequest",
        "EmptyBatchRequest",
        "Sender",
        400,
        f"There should be at least one {action}RequestEntry in the request.",
    )


def test_error_batch_request_too_long_before_its_entries(sqs: Any) -> None:
    """SendMessageBatch: the total of all entries is limited to 1 MiB, checked before any entry is looked
    at (one entry over the limit makes the whole request too long, not a failed entry); the queue's own
    MaximumMessageSize does not limit the total."""
    url = sqs.create_queue(QueueName=_name())["QueueUrl"]
    too_long = (
        "AWS.SimpleQueueService.BatchRequestTooLong",
        "BatchRequestTooLong",
        "Sender",
        400,
        "Batch requests cannot be longer than 1048576 bytes. You have sent 1048577 bytes.",
    )
    one_over = [{"Id": "big", "MessageBody": "a" * 1_048_577}]
    assert _error(lambda: sqs.send_message_batch(QueueUrl=url, Entries=one_over)) == too_long
    halves = [{"Id": "1", "MessageBody": "a" * 524_288}, {"Id": "2", "MessageBody": "a" * 524_289}]
    assert _error(lambda: sqs.send_message_batch(QueueUrl=url, Entries=halves)) == too_long
    with pytest.raises(sqs.exceptions.BatchRequestTooLong):
        sqs.send_message_batch(QueueUrl=url, Entries=halves)
    assert _counts(sqs, url) == (0, 0, 0)  # nothing of a rejected batch is queued

    small = sqs.create_queue(QueueName=_name(), Attributes={"MaximumMessageSize": "1024"})["QueueUrl"]
    sent = sqs.send_message_batch(
        QueueUrl=small, Entries=[{"Id": "1", "MessageBody": "a" * 1000}, {"Id": "2", "MessageBody": "b" * 1000}]
    )
    assert sorted(e["Id"] for e in sent["Successful"]) == ["1", "2"] and not sent.get("Failed")


def test_error_batch_total_counts_message_attributes(sqs: Any, request: pytest.FixtureRequest) -> None:
    _expect_moto_difference(request, "it counts only the bodies towards the batch's total")
    url = sqs.create_queue(QueueName=_name())["QueueUrl"]
    attributes = {"k": {"DataType": "String", "StringValue": "x"}}  # 1 + 6 + 1 bytes
    entries = [{"Id": "1", "MessageBody": "a" * (1_048_576 - 8 - 1), "MessageAttributes": attributes},
               {"Id": "2", "MessageBody": "bb"}]  # fmt: skip
    assert _error(lambda: sqs.send_message_batch(QueueUrl=url, Entries=entries))[4] == (
        "Batch requests cannot be longer than 1048576 bytes. You have sent 1048577 bytes."
    )


def test_error_batch_entry_over_the_queue_maximum_fails_alone(sqs: Any, request: pytest.FixtureRequest) -> None:
    _expect_moto_difference(request, "it rejects the whole batch instead of failing the entry")
    url = sqs.create_queue(QueueName=_name(), Attributes={"MaximumMessageSize": "1024"})["QueueUrl"]
    sent = sqs.send_message_batch(
        QueueUrl=url, Entries=[{"Id": "fits", "MessageBody": "a" * 1024}, {"Id": "over", "MessageBody": "a" * 1025}]
    )
    assert [e["Id"] for e in sent["Successful"]] == ["fits"]
    assert sent["Failed"] == [
        {
            "Id": "over",
            "SenderFault": True,
            "Code": "InvalidParameterValue",
            "Message": "One or more parameters cannot be validated. Reason: Message must be shorter than 1024 bytes.",
        }
    ]


def test_error_receipt_handle_is_invalid(sqs: Any, request: pytest.FixtureRequest) -> None:
    _expect_moto_difference(request, "it answers 400 (SQS's API reference: 404) with another message")
    url = sqs.create_queue(QueueName=_name())["QueueUrl"]
    invalid = ("ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid", "Sender", 404,
               'The input receipt handle "garbage" is not a valid receipt handle.')  # fmt: skip
    assert _error(lambda: sqs.delete_message(QueueUrl=url, ReceiptHandle="garbage")) == invalid
    change = lambda: sqs.change_message_visibility(QueueUrl=url, ReceiptHandle="garbage", VisibilityTimeout=0)  # noqa: E731
    assert _error(change) == invalid
    with pytest.raises(sqs.exceptions.ReceiptHandleIsInvalid):
        sqs.delete_message(QueueUrl=url, ReceiptHandle="garbage")

    # A handle of another queue's message.
    other = sqs.create_queue(QueueName=_name())["QueueUrl"]
    sqs.send_message(QueueUrl=other, MessageBody="x")
    handle = sqs.receive_message(QueueUrl=other)["Messages"][0]["ReceiptHandle"]
    assert _error(lambda: sqs.delete_message(QueueUrl=url, ReceiptHandle=handle)) == (
        *invalid[:4],
        f'The receipt handle "{handle}" is not valid for this queue.',
    )


def test_error_receipt_handle_of_another_queue_and_in_batches(sqs: Any) -> None:
    url = sqs.create_queue(QueueName=_name())["QueueUrl"]
    other = sqs.create_queue(QueueName=_name())["QueueUrl"]
    sqs.send_message(QueueUrl=other, MessageBody="x")
    handle = sqs.receive_message(QueueUrl=other, VisibilityTimeout=30)["Messages"][0]["ReceiptHandle"]
    for call in (
        lambda: sqs.delete_message(QueueUrl=url, ReceiptHandle=handle),
        lambda: sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0),
    ):
        assert _error(call)[:3] == ("ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid", "Sender")
    assert _counts(sqs, other) == (0, 1, 0)  # still there, still in flight

    failed = sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": "bad", "ReceiptHandle": "garbage"}])["Failed"]
    assert failed == [
        {
            "Id": "bad",
            "SenderFault": True,
            "Code": "ReceiptHandleIsInvalid",
            "Message": 'The input receipt handle "garbage" is not a valid receipt handle.',
        }
    ]


def test_error_purge_queue_in_progress(sqs: Any) -> None:
    url = sqs.create_queue(QueueName=_name())["QueueUrl"]
    sqs.purge_queue(QueueUrl=url)
    assert _error(lambda: sqs.purge_queue(QueueUrl=url)) == (
        "AWS.SimpleQueueService.PurgeQueueInProgress",
        "PurgeQueueInProgress",
        "Sender",
        403,
        f"Only one PurgeQueue operation on {url.rsplit('/', 1)[1]} is allowed every 60 seconds.",
    )


def test_error_invalid_attribute_name(sqs: Any) -> None:
    url = sqs.create_queue(QueueName=_name())["QueueUrl"]
    assert _error(lambda: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Bogus"])) == (
        "InvalidAttributeName",
        "InvalidAttributeName",
        "Sender",
        400,
        "Unknown Attribute Bogus.",
    )


def test_error_invalid_queue_attributes(sqs: Any, request: pytest.FixtureRequest) -> None:
    _expect_moto_difference(request, "it accepts unknown and out-of-range queue attributes")
    url = sqs.create_queue(QueueName=_name())["QueueUrl"]
    setters: list[Callable[[dict[str, str]], Any]] = [
        lambda attributes: sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes),
        lambda attributes: sqs.create_queue(QueueName=_name(), Attributes=attributes),
    ]
    for set_attributes in setters:
        assert _error(functools.partial(set_attributes, {"Bogus": "1"})) == (
            "InvalidAttributeName", "InvalidAttributeName", "Sender", 400, "Unknown Attribute Bogus."
        )  # fmt: skip
        for name, value in (("VisibilityTimeout", "43201"), ("MaximumMessageSize", "1048577"), ("DelaySeconds", "x")):
            assert _error(functools.partial(set_attributes, {name: value})) == (
                "InvalidAttributeValue",
                "InvalidAttributeValue",
                "Sender",
                400,
                f"Invalid value for the parameter {name}.",
            )


def test_error_redrive_policy_to_a_missing_queue(sqs: Any, request: pytest.FixtureRequest) -> None:
    _expect_moto_difference(request, "it answers QueueDoesNotExist")
    policy = json.dumps({"deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:none", "maxReceiveCount": 3})
    code, _, _, status, message = _error(
        lambda: sqs.create_queue(QueueName=_name(), Attributes={"RedrivePolicy": policy})
    )
    assert (code, status) == ("InvalidParameterValue", 400)
    assert (
        message == f"Value {policy} for parameter RedrivePolicy is invalid. Reason: Dead letter target does not exist."
    )


def test_error_empty_message_attribute(sqs: Any, request: pytest.FixtureRequest) -> None:
    _expect_moto_difference(request, "it accepts an empty string attribute")
    url = sqs.create_queue(QueueName=_name())["QueueUrl"]
    empty = {"note": {"DataType": "String", "StringValue": ""}}
    code, _, _, _, message = _error(lambda: sqs.send_message(QueueUrl=url, MessageBody="x", MessageAttributes=empty))
    assert (code, message) == (
        "InvalidParameterValue",
        "Message (user) attribute 'note' must contain a non-empty value of type 'String'.",
    )


# --------------------------------------------------------------------------------------- ponto only


def test_start_message_move_task_moves_dead_letters_back(ponto_sqs: Any) -> None:
    """moto's server has no StartMessageMoveTask."""
    sqs = ponto_sqs
    source, dlq, dlq_arn = _with_dlq(sqs, max_receive_count=1)
    sent = [sqs.send_message(QueueUrl=source, MessageBody=f"m{i}")["MessageId"] for i in range(3)]
    _receive_all(sqs, source, 3, VisibilityTimeout=0)
    assert not sqs.receive_message(QueueUrl=source).get("Messages")
    assert _counts(sqs, dlq)[0] == 3
    dead = sqs.receive_message(QueueUrl=dlq, AttributeNames=["All"], VisibilityTimeout=0)["Messages"][0]
    assert dead["Attributes"]["DeadLetterQueueSourceArn"] == _arn(sqs, source)

    with pytest.raises(ClientError):  # a queue that is nobody's dead-letter queue
        sqs.start_message_move_task(SourceArn=_arn(sqs, source))

    handle = sqs.start_message_move_task(SourceArn=dlq_arn)["TaskHandle"]
    assert handle
    [task] = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"]
    assert task["Status"] == "COMPLETED"
    assert task["ApproximateNumberOfMessagesMoved"] == 3
    assert _counts(sqs, dlq) == (0, 0, 0)
    back = _receive_all(sqs, source, 3, AttributeNames=["All"])
    assert sorted(m["MessageId"] for m in back) == sorted(sent)
    assert {m["Attributes"]["ApproximateReceiveCount"] for m in back} == {"1"}  # counts start again

    # An explicit destination, and the task history (newest first).
    other = sqs.create_queue(QueueName=_name("other"))["QueueUrl"]
    for message in back:
        sqs.change_message_visibility(QueueUrl=source, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    assert not sqs.receive_message(QueueUrl=source, MaxNumberOfMessages=10).get("Messages")
    sqs.start_message_move_task(SourceArn=dlq_arn, DestinationArn=_arn(sqs, other), MaxNumberOfMessagesPerSecond=50)
    assert _counts(sqs, other)[0] == 3
    tasks = sqs.list_message_move_tasks(SourceArn=dlq_arn, MaxResults=10)["Results"]
    assert [t["ApproximateNumberOfMessagesMoved"] for t in tasks] == [3, 3]
    assert tasks[0]["DestinationArn"] == _arn(sqs, other)


def test_error_message_move_tasks(ponto_sqs: Any) -> None:
    """moto's server has no message move tasks. SQS answers ResourceNotFoundException with 404."""
    sqs = ponto_sqs
    _, _, dlq_arn = _with_dlq(sqs)
    gone = "arn:aws:sqs:us-east-1:000000000000:gone"
    not_found = ("ResourceNotFoundException", "ResourceNotFoundException", "Sender", 404)
    source_missing = "The resource that you specified for the SourceArn parameter doesn't exist."
    assert _error(lambda: sqs.start_message_move_task(SourceArn=gone)) == (*not_found, source_missing)
    assert _error(lambda: sqs.start_message_move_task(SourceArn=dlq_arn, DestinationArn=gone)) == (
        *not_found,
        "The resource that you specified for the DestinationArn parameter doesn't exist.",
    )
    assert _error(lambda: sqs.cancel_message_move_task(TaskHandle="garbage")) == (
        "InvalidParameterValue",
        "InvalidParameterValueException",
        "Sender",
        400,
        "Value for parameter TaskHandle is invalid.",
    )

    def handle(task_id: str, source_arn: str) -> str:
        return base64.urlsafe_b64encode(json.dumps({"taskId": task_id, "sourceArn": source_arn}).encode()).decode()

    assert _error(lambda: sqs.cancel_message_move_task(TaskHandle=handle("nope", gone))) == (*not_found, source_missing)
    unknown = handle(str(uuid.uuid4()), dlq_arn)
    assert _error(lambda: sqs.cancel_message_move_task(TaskHandle=unknown)) == (*not_found, "Task does not exist.")


def test_stale_receipt_handle_never_deletes_a_newer_receive(ponto_sqs: Any) -> None:
    """SQS: a delete with an old handle succeeds but does not delete. (moto's server deletes the message.)"""
    sqs = ponto_sqs
    url = sqs.create_queue(QueueName=_name())["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="legal record")
    old = sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)["Messages"][0]["ReceiptHandle"]
    new = sqs.receive_message(QueueUrl=url, VisibilityTimeout=30)["Messages"][0]["ReceiptHandle"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=old)  # succeeds ...
    assert _counts(sqs, url) == (0, 1, 0)  # ... and the in-flight message is still there
    with pytest.raises(ClientError) as stale:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=old, VisibilityTimeout=0)
    assert stale.value.response["Error"]["Code"] == "InvalidParameterValue"
    sqs.delete_message(QueueUrl=url, ReceiptHandle=new)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=new)  # deleting twice is fine
    assert _counts(sqs, url) == (0, 0, 0)


def test_delays_fifo_and_validation(ponto_sqs: Any) -> None:
    sqs = ponto_sqs
    with pytest.raises(sqs.exceptions.UnsupportedOperation):
        sqs.create_queue(QueueName=_name() + ".fifo")
    dlq_arn = _arn(sqs, sqs.create_queue(QueueName=_name("dlq"))["QueueUrl"])
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1001})
    code, _, _, _, message = _error(lambda: sqs.create_queue(QueueName=_name(), Attributes={"RedrivePolicy": policy}))
    assert (code, message) == (
        "InvalidParameterValue",
        f"Value {policy} for parameter RedrivePolicy is invalid. Reason: Invalid value for maxReceiveCount: 1001, "
        "valid values are from 1 to 1000 both inclusive.",
    )
    url = sqs.create_queue(QueueName=_name())["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=1)
    assert _counts(sqs, url) == (0, 0, 1)
    assert not sqs.receive_message(QueueUrl=url).get("Messages")
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5)["Messages"][0]["Body"] == "later"
    with pytest.raises(sqs.exceptions.InvalidMessageContents):
        sqs.send_message(QueueUrl=url, MessageBody="bad \x00 byte")


def test_retention_expires_messages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = SqsStore(tmp_path / "retention.db")
    try:
        store.create_queue("short", {"MessageRetentionPeriod": "60"})
        store.send("short", [new_message("old", None, None, None)], "test")
        assert store.queue_attributes("short", ["ApproximateNumberOfMessages"], "us-east-1") == {
            "ApproximateNumberOfMessages": "1"
        }
        real_now = sqs_store.now_ms
        monkeypatch.setattr(sqs_store, "now_ms", lambda: real_now() + 61_000)
        assert store.receive("short", 10, None, 0, "us-east-1") == []
        assert store.queue_attributes("short", ["ApproximateNumberOfMessages"], "us-east-1") == {
            "ApproximateNumberOfMessages": "0"
        }
    finally:
        store.close()


def test_messages_survive_a_restart(tmp_path: Path) -> None:
    db = str(tmp_path / "durable.db")
    server, thread = serve("127.0.0.1", 0, db)
    try:
        sqs = _client(server.url)
        url = sqs.create_queue(QueueName="punches", Attributes={"VisibilityTimeout": "2"})["QueueUrl"]
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"p{i}"} for i in range(5)])
        in_flight = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2)["Messages"]
        assert len(in_flight) == 2
    finally:
        server.stop()
    assert not thread.is_alive()

    with SqsServer(db) as again:
        sqs = _client(again.url)
        url = sqs.get_queue_url(QueueName="punches")["QueueUrl"]
        assert _counts(sqs, url) == (3, 2, 0)
        time.sleep(2.1)  # the in-flight ones come back when their visibility timeout ends
        bodies = sorted(m["Body"] for m in _receive_all(sqs, url, 5))
        assert bodies == [f"p{i}" for i in range(5)]


def test_command_line_server_keeps_messages_across_crash_and_signals(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"

    def start() -> tuple[subprocess.Popen[str], str]:
        port = _free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "ponto.local.sqs_server", "--port", str(port), "--db", str(db)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line == f"ponto-sqs listening on http://127.0.0.1:{port}", line
        return process, f"http://127.0.0.1:{port}"

    # Killed outright (a crash): every message acknowledged before is still on disk.
    process, url = start()
    try:
        sqs = _client(url)
        queue = sqs.create_queue(QueueName="cli")["QueueUrl"]
        sqs.send_message(QueueUrl=queue, MessageBody="before the crash")
    finally:
        process.kill()
        assert process.wait(10) == -signal.SIGKILL
    # Stopped with SIGTERM: clean exit.
    process, url = start()
    try:
        sqs = _client(url)
        queue = sqs.get_queue_url(QueueName="cli")["QueueUrl"]
        sqs.send_message(QueueUrl=queue, MessageBody="before SIGTERM")
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0
    # Stopped with SIGINT (Ctrl-C): clean exit.
    process, url = start()
    try:
        sqs = _client(url)
        queue = sqs.get_queue_url(QueueName="cli")["QueueUrl"]
        bodies = sorted(m["Body"] for m in _receive_all(sqs, queue, 2))
        assert bodies == ["before SIGTERM", "before the crash"]
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(10) == 0


def test_refuses_a_database_in_use_and_non_loopback_hosts(tmp_path: Path) -> None:
    db = str(tmp_path / "busy.db")
    with SqsServer(db), pytest.raises(RuntimeError, match="in use"):
        SqsServer(db).start()
    with pytest.raises(ValueError, match="loopback"):
        SqsServer(db, host="0.0.0.0")


def _timed(operation: Callable[[], int]) -> float:
    started = time.perf_counter()
    handled = operation()
    return handled / (time.perf_counter() - started)


@pytest.mark.slow
def test_ten_thousand_messages_receive_rate_does_not_degrade(ponto_sqs: Any) -> None:
    sqs = ponto_sqs
    url = sqs.create_queue(QueueName=_name("deep"), Attributes={"VisibilityTimeout": "300"})["QueueUrl"]
    body = json.dumps({"punch_id": "x" * 36, "employee_id": "42", "punched_at": "2026-01-05T08:00:00-03:00"})

    def fill(count: int) -> int:
        for _ in range(count // 10):
            sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(k), "MessageBody": body} for k in range(10)])
        return count

    def drain(count: int) -> int:
        done = 0
        while done < count:
            batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
            sqs.delete_message_batch(
                QueueUrl=url, Entries=[{"Id": str(k), "ReceiptHandle": m["ReceiptHandle"]} for k, m in enumerate(batch)]
            )
            done += len(batch)
        return done

    fill_first = _timed(lambda: fill(1000))
    fill(8000)
    fill_last = _timed(lambda: fill(1000))
    assert _counts(sqs, url)[0] == 10_000
    drain_deep = _timed(lambda: drain(1000))  # 10k queued
    drain(8000)
    drain_shallow = _timed(lambda: drain(1000))  # 1k queued
    print(f"fill {fill_first:.0f} -> {fill_last:.0f} msg/s; drain at 10k {drain_deep:.0f}, at 1k {drain_shallow:.0f}")
    assert fill_last > 0.5 * fill_first
    assert drain_deep > 0.5 * drain_shallow
    assert _counts(sqs, url) == (0, 0, 0)


def test_md5_of_attributes_matches_the_reference() -> None:
    """The server's MD5 function against the independent one above (binary values as base64 on the wire)."""
    wire = {
        k: ({**v, "BinaryValue": base64.b64encode(v["BinaryValue"]).decode()} if "BinaryValue" in v else v)
        for k, v in ATTRIBUTES.items()
    }
    assert sqs_store.md5_of_attributes(wire) == reference_md5_of_attributes(ATTRIBUTES)
