"""The local SQS server's errors in SQS's JSON-protocol form, without sockets (the API over a store).

The conformance tests (tests/integration/test_sqs_server.py) check the same answers through boto3.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ponto.local import sqs_store
from ponto.local.sqs_server import RequestContext, SqsApi, error_response
from ponto.local.sqs_store import SqsError, SqsStore, queue_does_not_exist

CONTEXT = RequestContext(None)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[SqsApi]:
    store = SqsStore(tmp_path / "sqs.db")
    yield SqsApi(store, "http://127.0.0.1:9324")
    store.close()


def _raises(api: SqsApi, action: str, params: dict[str, Any]) -> SqsError:
    with pytest.raises(SqsError) as raised:
        api.dispatch(action, params, CONTEXT)
    return raised.value


def test_error_response_is_the_json_protocol_shape() -> None:
    status, body, headers = error_response(queue_does_not_exist())
    assert status == 400
    assert json.loads(body) == {
        "__type": "com.amazonaws.sqs#QueueDoesNotExist",
        "message": "The specified queue does not exist.",
    }
    assert headers["x-amzn-query-error"] == "AWS.SimpleQueueService.NonExistentQueue;Sender"


def test_common_errors_use_sqs_json_types_and_query_codes(api: SqsApi) -> None:
    url = api.dispatch("CreateQueue", {"QueueName": "q"}, CONTEXT)["QueueUrl"]
    missing = _raises(api, "SendMessage", {"QueueUrl": url})
    assert (missing.shape, missing.code) == ("MissingRequiredParameterException", "MissingParameter")
    invalid = _raises(api, "ReceiveMessage", {"QueueUrl": url, "MaxNumberOfMessages": 0})
    assert (invalid.shape, invalid.code) == ("InvalidParameterValueException", "InvalidParameterValue")
    _, body, headers = error_response(invalid)
    assert json.loads(body)["__type"] == "com.amazonaws.sqs#InvalidParameterValueException"
    assert headers["x-amzn-query-error"] == "InvalidParameterValue;Sender"


def test_batch_total_is_checked_before_the_entries(api: SqsApi) -> None:
    """Over 1 MiB in total, a batch is BatchRequestTooLong whatever is wrong with its entries."""
    url = api.dispatch("CreateQueue", {"QueueName": "q"}, CONTEXT)["QueueUrl"]
    half = "a" * 524_288
    for entries in (
        [{"Id": "a", "MessageBody": half}, {"Id": "a", "MessageBody": half + "b"}],  # repeated ids
        [{"Id": "not valid", "MessageBody": half}, {"Id": "b", "MessageBody": half + "b"}],  # invalid id
        [{"Id": "a", "MessageBody": half + "\x00"}, {"Id": "b", "MessageBody": half}],  # invalid characters
        [{"Id": "a", "MessageBody": half, "DelaySeconds": 901}, {"Id": "b", "MessageBody": half + "b"}],
    ):
        error = _raises(api, "SendMessageBatch", {"QueueUrl": url, "Entries": entries})
        assert (error.shape, error.code) == ("BatchRequestTooLong", "AWS.SimpleQueueService.BatchRequestTooLong")
        assert error.message == "Batch requests cannot be longer than 1048576 bytes. You have sent 1048577 bytes."
    assert api.store.queue_attributes("q", ["ApproximateNumberOfMessages"], "us-east-1") == {
        "ApproximateNumberOfMessages": "0"
    }


def test_batch_total_counts_binary_attributes_decoded(api: SqsApi) -> None:
    url = api.dispatch("CreateQueue", {"QueueName": "q"}, CONTEXT)["QueueUrl"]
    binary = {"b": {"DataType": "Binary", "BinaryValue": "AAECAw=="}}  # 1 + 6 + 4 bytes
    entries = [{"Id": "a", "MessageBody": "a" * (1_048_576 - 11), "MessageAttributes": binary}]
    assert api.dispatch("SendMessageBatch", {"QueueUrl": url, "Entries": entries}, CONTEXT)["Failed"] == []
    entries.append({"Id": "b", "MessageBody": "b"})
    assert _raises(api, "SendMessageBatch", {"QueueUrl": url, "Entries": entries}).shape == "BatchRequestTooLong"


def test_purge_queue_once_a_minute(api: SqsApi, monkeypatch: pytest.MonkeyPatch) -> None:
    url = api.dispatch("CreateQueue", {"QueueName": "purged"}, CONTEXT)["QueueUrl"]
    api.dispatch("PurgeQueue", {"QueueUrl": url}, CONTEXT)
    error = _raises(api, "PurgeQueue", {"QueueUrl": url})
    assert (error.shape, error.status) == ("PurgeQueueInProgress", 403)
    assert error.message == "Only one PurgeQueue operation on purged is allowed every 60 seconds."
    real_now = sqs_store.now_ms
    monkeypatch.setattr(sqs_store, "now_ms", lambda: real_now() + 60_001)
    api.dispatch("PurgeQueue", {"QueueUrl": url}, CONTEXT)


def test_receipt_handle_errors_answer_404(api: SqsApi) -> None:
    url = api.dispatch("CreateQueue", {"QueueName": "q"}, CONTEXT)["QueueUrl"]
    error = _raises(api, "DeleteMessage", {"QueueUrl": url, "ReceiptHandle": "garbage"})
    assert (error.shape, error.code, error.status) == ("ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid", 404)
    assert error_response(error)[0] == 404


def test_change_visibility_batch_with_a_non_integer_timeout_fails_the_entry(api: SqsApi) -> None:
    url = api.dispatch("CreateQueue", {"QueueName": "q"}, CONTEXT)["QueueUrl"]
    api.dispatch("SendMessage", {"QueueUrl": url, "MessageBody": "x"}, CONTEXT)
    handle = api.dispatch("ReceiveMessage", {"QueueUrl": url}, CONTEXT)["Messages"][0]["ReceiptHandle"]
    entries = [{"Id": "a", "ReceiptHandle": handle, "VisibilityTimeout": "soon"}]
    result = api.dispatch("ChangeMessageVisibilityBatch", {"QueueUrl": url, "Entries": entries}, CONTEXT)
    assert [(f["Id"], f["Code"]) for f in result["Failed"]] == [("a", "InvalidParameterValue")]
