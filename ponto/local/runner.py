"""The local event source mapping: polls the punches queue as Lambda's SQS poller does.

Batch size, batching window and maximum concurrency come from serverless.yml; each concurrent
poller owns one "execution environment" (a child process that imported the worker handler named in
serverless.yml and stays warm), invokes it with a real SQS event, deletes what succeeded and leaves
the reported item failures to the visibility timeout and the queue's redrive policy.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import math
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ponto.lambda_context import LambdaContext
from ponto.lambda_events import sqs_lambda_record
from ponto.local.sqs import sqs_client
from ponto.local.state import LocalState
from ponto.serverless_config import SERVERLESS_YML, QueueSettings, function_handler, load

logger = logging.getLogger("ponto.runner")


class InvocationError(Exception):
    """The invocation did not return a response (an exception, a timeout or a crash)."""


def _environment_main(
    conn: multiprocessing.connection.Connection, handler_path: str, env: Mapping[str, str], timeout_s: float
) -> None:
    """The child process: import the handler once (cold start), then serve invocations until EOF."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the runner decides when environments stop
    os.environ.update(env)
    # The handler's path is relative to serverless.yml's folder, which Lambda puts on the path as its
    # task root: so does this environment, whatever folder `ponto local` was started in.
    task_root = str(SERVERLESS_YML.parent)
    if task_root not in sys.path:
        sys.path.insert(0, task_root)
    module_path, _, attribute = handler_path.rpartition(".")
    handler = getattr(importlib.import_module(module_path.replace("/", ".")), attribute)
    while True:
        try:
            event = conn.recv()
        except (EOFError, OSError):
            return  # the runner is gone
        if event is None:
            return
        try:
            context = LambdaContext(env.get("AWS_LAMBDA_FUNCTION_NAME", "ponto-local-worker"), timeout_s=timeout_s)
            conn.send(("ok", handler(event, context)))
        except Exception as exc:
            conn.send(("error", f"{type(exc).__name__}"))


class Environment:
    """A warm execution environment; replaced after a crash or a timeout, as Lambda does."""

    def __init__(self, handler_path: str, env: Mapping[str, str], timeout_s: float) -> None:
        self._handler_path = handler_path
        self._env = dict(env)
        self._timeout_s = timeout_s
        self._process: Any = None
        self._conn: multiprocessing.connection.Connection | None = None

    def invoke(self, event: dict[str, Any]) -> Any:
        if self._process is None or not self._process.is_alive():
            self._start()
        assert self._conn is not None
        try:
            self._conn.send(event)
            if not self._conn.poll(self._timeout_s):
                self.close(kill=True)
                raise InvocationError(f"timed out after {self._timeout_s:.0f} s")
            status, payload = self._conn.recv()
        except (EOFError, OSError, BrokenPipeError) as exc:
            self.close(kill=True)
            raise InvocationError("the execution environment died") from exc
        if status != "ok":
            raise InvocationError(f"the handler raised {payload}")
        return payload

    def _start(self) -> None:
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        self._process = context.Process(
            target=_environment_main,
            args=(child, self._handler_path, self._env, self._timeout_s),
            daemon=True,
        )
        self._process.start()
        child.close()
        self._conn = parent

    def close(self, *, kill: bool = False) -> None:
        if self._process is None:
            return
        if not kill and self._conn is not None:
            with contextlib.suppress(OSError):
                self._conn.send(None)
            self._process.join(5)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(5)
        if self._conn is not None:
            self._conn.close()
        self._process, self._conn = None, None


def failed_ids(response: Any, batch_ids: set[str]) -> set[str]:
    """The records to keep: the reported failures; all of them if the response is not valid."""
    try:
        failures = response["batchItemFailures"]
        ids = {str(item["itemIdentifier"]) for item in failures}
    except (TypeError, KeyError):
        return set(batch_ids)
    if not ids <= batch_ids:  # Lambda treats an unknown identifier as a failure of the whole batch
        return set(batch_ids)
    return ids


class Poller(threading.Thread):
    def __init__(
        self, index: int, client: Any, queue_url: str, queue_arn: str, settings: QueueSettings,
        environment: Environment, stop: threading.Event, region: str,
    ) -> None:  # fmt: skip
        super().__init__(name=f"poller-{index}", daemon=True)
        self.client, self.queue_url, self.queue_arn = client, queue_url, queue_arn
        self.settings, self.environment, self.stop, self.region = settings, environment, stop, region

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                batch = self._collect()
                if batch:
                    self._deliver(batch)
            except (BotoCoreError, ClientError) as exc:
                logger.warning("%s: queue unavailable (%s); retrying", self.name, type(exc).__name__)
                self.stop.wait(1)
        self.environment.close()

    def _collect(self) -> list[dict[str, Any]]:
        """Fill a batch up to batchSize, or until the batching window closes after the first message."""
        batch: list[dict[str, Any]] = []
        window_ends = math.inf
        while len(batch) < self.settings.batch_size and not self.stop.is_set():
            remaining = window_ends - time.monotonic()
            if batch and remaining <= 0:
                break
            wait = 1 if not batch else max(0, min(20, int(remaining)))
            received = self.client.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=min(10, self.settings.batch_size - len(batch)),
                WaitTimeSeconds=wait,
                MessageAttributeNames=["All"],
                MessageSystemAttributeNames=["All"],
            ).get("Messages", [])
            if received and not batch:
                window_ends = time.monotonic() + self.settings.maximum_batching_window_s
            batch.extend(received)
            if not batch:
                return []
            if not received and wait == 0:
                break
        return batch

    def _deliver(self, batch: list[dict[str, Any]]) -> None:
        event = {"Records": [sqs_lambda_record(m, self.queue_arn, self.region) for m in batch]}
        ids = {m["MessageId"] for m in batch}
        try:
            response = self.environment.invoke(event)
        except InvocationError as exc:
            logger.warning("%s: invocation of %d records failed: %s", self.name, len(batch), exc)
            return  # every record becomes visible again after the visibility timeout
        keep = failed_ids(response, ids)
        done = [m for m in batch if m["MessageId"] not in keep]
        for start in range(0, len(done), 10):
            chunk = done[start : start + 10]
            result = self.client.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
            )
            for failure in result.get("Failed", []):
                logger.warning("%s: could not delete a processed message: %s", self.name, failure.get("Code"))
        logger.info("%s: batch of %d: %d done, %d left to retry", self.name, len(batch), len(done), len(keep))


def worker_environment(state: LocalState, document: dict[str, Any]) -> dict[str, str]:
    """The worker function's environment, as on AWS but with the local database URL."""
    return {
        "PONTO_DATABASE_URL": state.worker_database_url or state.database_url,
        "POWERTOOLS_SERVICE_NAME": "ponto",
        "POWERTOOLS_METRICS_NAMESPACE": "Ponto",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "INFO"),
        "PONTO_TIMEZONE": os.environ.get("PONTO_TIMEZONE", str(document["params"]["default"]["timezone"])),
        "AWS_LAMBDA_FUNCTION_NAME": "ponto-local-worker",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ponto.local.runner")
    parser.add_argument("--data-dir", type=Path, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s runner %(levelname)s %(message)s")
    state = LocalState.load(args.data_dir)
    document = load()
    settings = QueueSettings.from_serverless(document)
    handler_path = function_handler("worker", document)
    timeout_s = settings.worker_timeout_s
    client = sqs_client(state.sqs_endpoint, state.region, pool=settings.maximum_concurrency + 2)
    queue_arn = client.get_queue_attributes(QueueUrl=state.queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    env = worker_environment(state, document)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    pollers = [
        Poller(
            i,
            client,
            state.queue_url,
            queue_arn,
            settings,
            Environment(handler_path, env, timeout_s),
            stop,
            state.region,
        )
        for i in range(settings.maximum_concurrency)
    ]
    for poller in pollers:
        poller.start()
    logger.info(
        "polling with batchSize=%d window=%.0fs maximumConcurrency=%d, handler %s",
        settings.batch_size, settings.maximum_batching_window_s, settings.maximum_concurrency, handler_path,
    )  # fmt: skip
    while not stop.wait(0.5):
        pass
    for poller in pollers:
        poller.join(timeout_s)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
