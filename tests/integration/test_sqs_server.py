"""ponto's local SQS server, through real boto3 calls.

The semantics tests run against ponto's server and against moto's server (a child process) as a
reference; where moto differs or lacks a feature the test is ponto-only and says why.
"""

from __future__ import annotations

import base64
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
    with pytest.raises(sqs.exceptions.InvalidAttributeValue):
        sqs.create_queue(
            QueueName=_name(),
            Attributes={
                "RedrivePolicy": json.dumps(
                    {"deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:none", "maxReceiveCount": 3}
                )
            },
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
