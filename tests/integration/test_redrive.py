"""With moto: a record the worker keeps failing reaches the DLQ after maxReceiveCount receives."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from moto import mock_aws

from ponto.lambda_events import sqs_lambda_record
from ponto.serverless_config import QueueSettings
from tests.events import QUEUE_ARN, LambdaContext, legacy_body, v1_body

pytestmark = pytest.mark.integration


def test_a_poison_record_reaches_the_dlq_after_max_receive_count(
    worker: Callable[..., dict[str, Any]], db: Any
) -> None:
    settings = QueueSettings.from_serverless()
    assert settings.max_receive_count >= 5
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        dlq_url = sqs.create_queue(QueueName="punches-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(settings.max_receive_count)}
        queue_url = sqs.create_queue(
            QueueName="punches",
            Attributes={"RedrivePolicy": json.dumps(redrive), "VisibilityTimeout": "30"},
        )["QueueUrl"]
        attributes = {"requestId": {"DataType": "String", "StringValue": "req-poison"}}
        sqs.send_message(QueueUrl=queue_url, MessageBody='{"employee_id": ', MessageAttributes=attributes)
        for body in (v1_body(), legacy_body()):
            sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(body))

        # The event source mapping's loop: receive, invoke, delete what succeeded; failures become
        # visible again (VisibilityTimeout=0 stands in for waiting out the queue's timeout).
        receives = 0
        for _ in range(settings.max_receive_count + 3):
            received = sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0,
                MessageAttributeNames=["All"], AttributeNames=["All"],
            ).get("Messages", [])  # fmt: skip
            if not received:
                break
            receives += 1
            response = worker(
                {"Records": [sqs_lambda_record(m, QUEUE_ARN, "us-east-1") for m in received]}, LambdaContext()
            )
            failed = {f["itemIdentifier"] for f in response["batchItemFailures"]}
            for message in received:
                if message["MessageId"] not in failed:
                    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])

        dead = sqs.receive_message(QueueUrl=dlq_url, MessageAttributeNames=["All"]).get("Messages", [])
        left = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]

    assert receives == settings.max_receive_count
    assert [m["Body"] for m in dead] == ['{"employee_id": ']
    assert dead[0]["MessageAttributes"]["requestId"]["StringValue"] == "req-poison"
    assert left["ApproximateNumberOfMessages"] == left["ApproximateNumberOfMessagesNotVisible"] == "0"
    with db.cursor() as cur:
        cur.execute("SELECT count(*) FROM punches")
        assert cur.fetchone()[0] == 2
