"""The local gateway's HTTP side: an asyncio HTTP/1.1 server on loopback in front of the queue.

One event loop serves every connection (keep-alive), so the gateway's own cost per request is small
next to the queue's; the SQS call is asynchronous too. For a loopback endpoint (the embedded queue
server, LocalStack, ElasticMQ) the gateway speaks SQS's JSON protocol itself over pooled keep-alive
connections; for any other endpoint (AWS) it sends with boto3, which signs the requests, in threads.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import email.utils
import hashlib
import json
import logging
import mimetypes
import os
import signal
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from ponto.contract import load_contract
from ponto.local import reads
from ponto.local.gateway import (
    Gateway,
    QueueUnavailable,
    Response,
    SqsSender,
    TokenVerifier,
    UsagePlan,
)
from ponto.local.keys import KeyStore
from ponto.local.sqs import sqs_client
from ponto.local.state import CLOCK_DIR, LocalState
from ponto.serverless_config import UsagePlanLimits, load, read_function_settings

logger = logging.getLogger("ponto.gateway")

MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
MAX_HEADER_BYTES = 16 * 1024
IDLE_TIMEOUT_S = 60
_REASONS = {200: "OK", 202: "Accepted", 304: "Not Modified", 400: "Bad Request", 401: "Unauthorized",
            403: "Forbidden", 404: "Not Found", 411: "Length Required", 413: "Payload Too Large",
            415: "Unsupported Media Type", 429: "Too Many Requests", 431: "Request Header Fields Too Large",
            500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
            504: "Gateway Timeout"}  # fmt: skip


class AsyncSender(Protocol):
    async def send(self, body: str, attributes: Mapping[str, Mapping[str, str]]) -> str: ...

    async def close(self) -> None: ...


class JsonProtocolSender:
    """SendMessage in SQS's JSON protocol over pooled keep-alive connections (loopback endpoints)."""

    def __init__(self, endpoint: str, queue_url: str, region: str, pool: int = 32) -> None:
        target = urllib.parse.urlsplit(endpoint)
        self._host, self._port = target.hostname or "127.0.0.1", target.port or 80
        self._queue_url = queue_url
        self._idle: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
        self._slots = asyncio.Semaphore(pool)
        # Loopback servers accept any credentials; the scope names the region for those that read it.
        self._head = (
            f"POST / HTTP/1.1\r\nHost: {self._host}:{self._port}\r\n"
            "Content-Type: application/x-amz-json-1.0\r\nX-Amz-Target: AmazonSQS.SendMessage\r\n"
            f"Authorization: AWS4-HMAC-SHA256 Credential=local/20260101/{region}/sqs/aws4_request, "
            "SignedHeaders=host, Signature=0\r\n"
        )

    async def send(self, body: str, attributes: Mapping[str, Mapping[str, str]]) -> str:
        payload = json.dumps({"QueueUrl": self._queue_url, "MessageBody": body, "MessageAttributes": attributes})
        request = f"{self._head}Content-Length: {len(payload.encode())}\r\n\r\n{payload}".encode()
        async with self._slots:
            for attempt in (1, 2):  # a pooled connection the server closed fails once; a new one is tried
                reader, writer = await self._connection()
                try:
                    writer.write(request)
                    status, query_error, answer = await _read_response(reader)
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    writer.close()
                    if attempt == 2:
                        raise QueueUnavailable(503) from None
                    continue
                self._idle.put_nowait((reader, writer))
                break
        if status != 200:
            raise QueueUnavailable(status, query_error or _error_shape(answer))
        result = json.loads(answer)
        if result.get("MD5OfMessageBody") != hashlib.md5(body.encode()).hexdigest():  # noqa: S324 - SQS's checksum
            raise QueueUnavailable(502)
        return str(result["MessageId"])

    async def _connection(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        with contextlib.suppress(asyncio.QueueEmpty):
            return self._idle.get_nowait()
        try:
            return await asyncio.open_connection(self._host, self._port)
        except OSError:
            raise QueueUnavailable(503) from None

    async def close(self) -> None:
        while not self._idle.empty():
            _, writer = self._idle.get_nowait()
            writer.close()


class ThreadedBotoSender:
    """boto3 (signed requests) in worker threads, for endpoints that are not on this machine."""

    def __init__(self, sender: SqsSender) -> None:
        self._sender = sender

    async def send(self, body: str, attributes: Mapping[str, Mapping[str, str]]) -> str:
        return await asyncio.to_thread(self._sender.send, body, attributes)

    async def close(self) -> None:
        return None


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, str | None, bytes]:
    """(status, the query-API error code of x-amzn-query-error if any, body)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = 0
    query_error: str | None = None
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value.strip())
        elif name == "x-amzn-query-error":  # "InvalidParameterValue;Sender": the code API Gateway sees
            query_error = value.strip().partition(";")[0] or None
    return status, query_error, await reader.readexactly(length)


def _error_shape(answer: bytes) -> str | None:
    """The error's shape name from a JSON-protocol body ({"__type": "com.amazonaws.sqs#Shape"})."""
    try:
        kind = json.loads(answer).get("__type")
    except (ValueError, AttributeError):
        return None
    if not isinstance(kind, str) or not kind:
        return None
    return kind.rpartition("#")[2]


class GatewayServer:
    def __init__(
        self,
        gateway: Gateway,
        sender: AsyncSender,
        *,
        functions: Mapping[str, reads.FunctionPool] | None = None,
        clock_dir: Path | None = None,
    ) -> None:
        self.gateway = gateway
        self.sender = sender
        self.functions = dict(functions or {})
        self.stopping = False
        self._idle: set[asyncio.StreamWriter] = set()
        self.clock_dir = clock_dir
        self.routes = reads.read_routes(gateway.contract)

    def stop(self) -> None:
        """Stop serving: idle keep-alive connections close now, busy ones after their reply. (Python
        3.12's Server.wait_closed waits for every connection: a browser polling on a kept-alive
        connection would otherwise keep a stopped gateway alive, and the supervisor could not restart it.)"""
        self.stopping = True
        for writer in list(self._idle):
            writer.close()

    async def serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        source_ip = str(peer[0]) if peer else "127.0.0.1"
        try:
            while not self.stopping:
                self._idle.add(writer)  # waiting for a request: a stopping gateway closes it at once
                try:
                    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), IDLE_TIMEOUT_S)
                except asyncio.LimitOverrunError:
                    await self._reply(writer, _plain(431, "Request Header Fields Too Large"), close=True)
                    return
                except (asyncio.IncompleteReadError, TimeoutError, ConnectionError):
                    return
                finally:
                    self._idle.discard(writer)
                keep_alive = await self._serve_request(head, reader, writer, source_ip)
                if not keep_alive:
                    return
        finally:
            writer.close()
            with contextlib.suppress(OSError, ConnectionError):
                await writer.wait_closed()

    async def _serve_request(
        self, head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, source_ip: str
    ) -> bool:
        lines = head.decode("latin-1").split("\r\n")
        try:
            method, target, version = lines[0].split(" ", 2)
        except ValueError:
            await self._reply(writer, _plain(400, "Bad Request"), close=True)
            return False
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        if "chunked" in headers.get("transfer-encoding", "").lower():
            await self._reply(writer, _plain(411, "Length Required"), close=True)
            return False
        try:
            length = int(headers.get("content-length", "0"))
        except ValueError:
            length = -1
        if length > MAX_BODY_BYTES:
            await self._reply(writer, self.gateway.request_too_large(), close=True)
            return False
        if length < 0:
            await self._reply(writer, _plain(400, "Bad Request"), close=True)
            return False
        try:
            body = await reader.readexactly(length) if length else b""
        except asyncio.IncompleteReadError:
            return False
        close = headers.get("connection", "").lower() == "close" or version == "HTTP/1.0" or self.stopping
        response = await self._answer(method, target, headers, body, source_ip)
        await self._reply(writer, response, close=close)
        return not close

    async def _answer(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes, source_ip: str
    ) -> Response:
        try:
            if method == "GET" and target == "/health":
                counters = self.gateway.counters
                health = {"status": "ok", "accepted": counters.accepted, "rejected": counters.rejected,
                          "unavailable": counters.unavailable}  # fmt: skip
                return Response(200, json.dumps(health), "")
            path, _, query = target.partition("?")
            if method in ("GET", "HEAD"):
                found = reads.match(self.routes, path)
                if found is not None:
                    return await self._read(*found, path, query, headers, source_ip)
                static = self._static(path, headers)
                if static is not None:
                    return static
            admitted = self.gateway.admit(method, target, headers, body, source_ip)
            if isinstance(admitted, Response):
                return admitted
            try:
                sent: str | QueueUnavailable = await self.sender.send(admitted.body, admitted.attributes)
            except QueueUnavailable as exc:
                sent = exc
            return self.gateway.respond(admitted, sent)
        except Exception:
            # Never a traceback to a client: API Gateway's own failures are a bare 500.
            logger.exception("gateway failure")
            return _plain(500, "Internal server error")

    async def _read(
        self,
        route: reads.ReadRoute,
        parameters: dict[str, str],
        path: str,
        query: str,
        headers: Mapping[str, str],
        source_ip: str,
    ) -> Response:
        """A read route: the API key or the Cognito authorizer, then the function through its proxy integration."""
        gateway = self.gateway
        context = gateway.new_context(source_ip, headers)
        refused = gateway.refuse_caller(
            context, headers, api_key=route.api_key, authorizer=route.authorizer is not None
        )
        if refused is not None:
            gateway.counters.count(refused.status)
            return refused
        claims = context.get("authorizer", {}).get("claims")
        pool = self.functions.get(route.function)
        if pool is None:
            return gateway.gateway_response("INTEGRATION_FAILURE", context, "Internal server error")
        query_values = {
            name: values[-1] for name, values in urllib.parse.parse_qs(query, keep_blank_values=True).items()
        }
        event = reads.proxy_event(route, path, parameters, query_values, headers, context, claims)
        try:
            answer = reads.proxy_answer(await pool.invoke(event))
        except reads.Throttled:
            # Lambda throttles an invocation over the reserved concurrency; API Gateway answers it
            # with the INTEGRATION_FAILURE gateway response.
            return gateway.gateway_response("INTEGRATION_FAILURE", context, "Busy, retry later")
        except reads.InvocationError:
            logger.warning("the %s function failed", route.function)
            return Response(502, json.dumps({"message": "Internal server error"}), context["requestId"])
        if answer is None:
            return Response(502, json.dumps({"message": "Internal server error"}), context["requestId"])
        return Response(
            answer.status, "", context["requestId"], answer.content_type, answer.body, tuple(answer.headers.items())
        )

    def _static(self, path: str, headers: Mapping[str, str]) -> Response | None:
        """A file of the web clock (/ is index.html); None when there is no such file."""
        if self.clock_dir is None:
            return None
        relative = urllib.parse.unquote(path).lstrip("/") or "index.html"
        root = self.clock_dir.resolve()
        target = (root / relative).resolve()
        if not target.is_relative_to(root) or not target.is_file():
            return None
        data = target.read_bytes()
        etag = '"' + hashlib.sha256(data).hexdigest()[:16] + '"'
        # no-cache: the browser revalidates (304) so a new deploy of the clock is seen at once; the
        # service worker keeps its own copy for offline starts.
        cache = (("Cache-Control", "no-cache"), ("ETag", etag))
        if headers.get("if-none-match") == etag:
            return Response(304, "", "", raw=b"", headers=cache)
        content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if target.suffix == ".webmanifest":
            content_type = "application/manifest+json"
        if content_type.startswith("text/") or content_type.endswith(("javascript", "json")):
            content_type += "; charset=utf-8"
        return Response(200, "", "", content_type, data, cache)

    @staticmethod
    async def _reply(writer: asyncio.StreamWriter, response: Response, *, close: bool) -> None:
        payload = response.raw if response.raw is not None else response.body.encode()
        head = [
            f"HTTP/1.1 {response.status} {_REASONS.get(response.status, 'Unknown')}",
            f"Date: {email.utils.formatdate(usegmt=True)}",  # the web clock sets its offset from it
            f"Content-Type: {response.content_type}",
            f"Content-Length: {len(payload)}",
        ]
        head += [f"{name}: {value}" for name, value in response.headers]
        if response.request_id:
            head.append(f"x-amzn-RequestId: {response.request_id}")
        head.append("Connection: close" if close else "Connection: keep-alive")
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
        with contextlib.suppress(OSError, ConnectionError):
            await writer.drain()


def _plain(status: int, message: str) -> Response:
    return Response(status, json.dumps({"message": message}), "")


def make_sender(state: LocalState) -> AsyncSender:
    host = urllib.parse.urlsplit(state.sqs_endpoint).hostname or ""
    if host in ("127.0.0.1", "localhost", "::1"):
        return JsonProtocolSender(state.sqs_endpoint, state.queue_url, state.region)
    return ThreadedBotoSender(SqsSender(sqs_client(state.sqs_endpoint, state.region, pool=64), state.queue_url))


async def serve(data_dir: Path, host: str, port: int, *, throttle: bool = True) -> None:
    state = LocalState.load(data_dir)
    sender = make_sender(state)
    # The deployed usage plan's limits, per key, unless asked not to (measuring the gateway itself).
    usage_plan = UsagePlan(UsagePlanLimits.from_serverless()) if throttle else None
    functions = {"receipts": receipts_pool(state)}
    clock_dir = CLOCK_DIR if CLOCK_DIR.is_dir() else None
    gateway = Gateway(load_contract(), KeyStore(data_dir), usage_plan=usage_plan, tokens=token_verifier(state))
    server = GatewayServer(gateway, sender, functions=functions, clock_dir=clock_dir)
    listener = await asyncio.start_server(
        server.serve_connection, host, port, limit=MAX_HEADER_BYTES, backlog=1024, reuse_address=True
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    logger.info("listening on http://%s:%d", host, port)
    if usage_plan is not None:
        limits = usage_plan.limits
        logger.info(
            "usage plan per API key: %g requests/s, burst %d, %d a day",
            limits.rate_per_s,
            limits.burst,
            limits.quota_per_day,
        )
    else:
        logger.info("usage plan not applied (--no-throttle)")
    await stop.wait()
    listener.close()
    server.stop()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(listener.wait_closed(), 10)  # the requests in flight get their answers
    await sender.close()
    for pool in functions.values():
        pool.close()


def receipts_pool(state: LocalState) -> reads.FunctionPool:
    """The receipts function's execution environments: its handler, timeout and reserved concurrency
    from serverless.yml; the environment as on AWS but with the local database (the reader's role), the
    demo REP-P's INPI number and the test signing certificate."""
    settings = read_function_settings("receipts", load())
    env = {
        "PONTO_DATABASE_URL": state.reader_database_url or state.database_url,
        "PONTO_REP_INPI": state.rep_inpi or "",
        "POWERTOOLS_SERVICE_NAME": "ponto",
        "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "INFO"),
        "AWS_LAMBDA_FUNCTION_NAME": "ponto-local-receipts",
    }
    if state.signing_certificate and state.signing_key:
        env |= {"PONTO_SIGNING_CERT": state.signing_certificate, "PONTO_SIGNING_KEY": state.signing_key}
    return reads.FunctionPool(settings.handler, env, settings.timeout_s, settings.reserved_concurrency)


def token_verifier(state: LocalState) -> TokenVerifier | None:
    """The Cognito authorizer of the local user pool; None without one (personal routes answer 401)."""
    if not (state.cognito_endpoint and state.user_pool_id and state.user_pool_client_id):
        return None
    from ponto.local import cognito

    return cognito.authorizer(state.cognito_endpoint, state.region, state.user_pool_id, state.user_pool_client_id)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ponto.local.gateway_server")
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--no-throttle",
        action="store_true",
        help="do not apply the usage plan's throttle and quota (serverless.yml's apiRateLimit, "
        "apiBurstLimit, apiQuotaPerDay); for measuring the gateway, not what AWS does",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s gateway %(levelname)s %(message)s")
    asyncio.run(serve(args.data_dir, args.host, args.port, throttle=not args.no_throttle))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
