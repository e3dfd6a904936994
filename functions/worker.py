"""Worker Lambda: drains the punches queue into PostgreSQL (SQS event, ReportBatchItemFailures)."""

import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from ponto.config import Settings
from ponto.store import PunchStore, connector
from ponto.worker import BatchOutcome, record_batch

settings = Settings.from_env(os.environ)
logger = Logger(service=settings.service)
metrics = Metrics(service=settings.service, namespace=settings.metrics_namespace)
# No Powertools Tracer: Lambda's active tracing (serverless.yml) already traces every invocation, and
# the X-Ray SDK would add ~290 KB to the zip and botocore to the cold start for one more subsegment.
# Module scope: the connection lives across warm invocations of this execution environment.
store = PunchStore(connector(settings.database, application_name="ponto-worker"))


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    outcome = record_batch(event.get("Records") or [], store, settings.timezone)
    publish(outcome)
    return outcome.batch_response()


def publish(outcome: BatchOutcome) -> None:
    metrics.add_metric(name="BatchSize", unit=MetricUnit.Count, value=outcome.size)
    metrics.add_metric(name="PunchesRecorded", unit=MetricUnit.Count, value=outcome.recorded)
    metrics.add_metric(name="PunchesDuplicate", unit=MetricUnit.Count, value=outcome.duplicates)
    metrics.add_metric(name="PunchesSealed", unit=MetricUnit.Count, value=outcome.sealed)
    # Recorded but not sealed (no NSR yet: unknown device or employee); alarmed on AWS.
    metrics.add_metric(name="PunchesUnsealed", unit=MetricUnit.Count, value=outcome.unsealed)
    metrics.add_metric(name="PunchesRejected", unit=MetricUnit.Count, value=len(outcome.rejected))
    metrics.add_metric(name="PunchesRetried", unit=MetricUnit.Count, value=len(outcome.unwritten))
    # One value per batch (its worst case) keeps the EMF line small whatever the batch size.
    if outcome.max_lead_time_ms is not None:
        metrics.add_metric(name="LeadTime", unit=MetricUnit.Milliseconds, value=outcome.max_lead_time_ms)
    if outcome.max_punch_age_ms is not None:
        metrics.add_metric(name="PunchAge", unit=MetricUnit.Milliseconds, value=outcome.max_punch_age_ms)
    for message_id, reason in outcome.rejected.items():
        logger.warning("punch rejected; it goes to the DLQ", message_id=message_id, reason=reason)
    logger.info(
        "batch done",
        size=outcome.size,
        recorded=outcome.recorded,
        duplicates=outcome.duplicates,
        sealed=outcome.sealed,
        unsealed=outcome.unsealed,
        rejected=len(outcome.rejected),
        retried=len(outcome.unwritten),
    )
