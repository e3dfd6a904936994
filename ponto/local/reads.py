"""The local gateway's read routes: the contract's Lambda proxy integrations, served by the real handler.

Every GET operation of the contract whose integration is `aws_proxy` is routed here. The request
becomes the proxy event API Gateway sends (resource, path parameters, query, headers, the caller's API
key id or token claims) and is handed to a pool of execution environments of the function serverless.yml
names (child processes that imported the handler, as the local worker's are). The pool holds at most
the function's reserved concurrency: a request that finds every environment busy is throttled, and
API Gateway answers a throttled Lambda with its INTEGRATION_FAILURE response, as this gateway does.
So the read function never holds more database connections than its reserved concurrency, here as on AWS.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import re
import threading
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ponto.contract import Contract
from ponto.local.runner import Environment, InvocationError

_PARAMETER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class ReadRoute:
    resource: str  # the contract's path, e.g. /punches/{punch_id}/receipt
    pattern: re.Pattern[str]
    function: str  # the serverless.yml function its integration invokes
    api_key: bool  # security: api_key
    authorizer: str | None  # security: the Cognito authorizer's scheme name


def read_routes(contract: Contract) -> list[ReadRoute]:
    routes = []
    schemes = contract.document.get("components", {}).get("securitySchemes", {})
    for resource, operations in contract.document["paths"].items():
        operation = operations.get("get")
        if not operation or operation.get("x-amazon-apigateway-integration", {}).get("type") != "aws_proxy":
            continue
        security = {name for requirement in operation.get("security", []) for name in requirement}
        authorizer = next(
            (name for name in security if "x-amazon-apigateway-authorizer" in schemes.get(name, {})), None
        )
        regex = (
            "^" + _PARAMETER.sub(r"(?P<\1>[^/]+)", re.escape(resource).replace(r"\{", "{").replace(r"\}", "}")) + "$"
        )
        routes.append(ReadRoute(resource, re.compile(regex), _function(operation), "api_key" in security, authorizer))
    return routes


_FUNCTION_ARN = re.compile(r"\$\{([A-Z][A-Za-z0-9]*)LambdaFunction\.Arn\}")


def _function(operation: Mapping[str, Any]) -> str:
    """The serverless.yml function an integration invokes: the framework names its resource
    <Name>LambdaFunction, so ${ReceiptsLambdaFunction.Arn} in the uri is the function `receipts`."""
    uri = operation["x-amazon-apigateway-integration"]["uri"]
    found = _FUNCTION_ARN.search(uri["Fn::Sub"] if isinstance(uri, Mapping) else str(uri))
    if found is None:
        raise ValueError("a proxy integration's uri names no serverless.yml function")
    name = found.group(1)
    return name[0].lower() + name[1:]


def match(routes: list[ReadRoute], path: str) -> tuple[ReadRoute, dict[str, str]] | None:
    for route in routes:
        found = route.pattern.match(path)
        if found:
            return route, {name: urllib.parse.unquote(value) for name, value in found.groupdict().items()}
    return None


def proxy_event(
    route: ReadRoute,
    path: str,
    parameters: Mapping[str, str],
    query: Mapping[str, str],
    headers: Mapping[str, str],
    context: Mapping[str, Any],
    claims: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The REST API's Lambda proxy event (payload format 1.0) for a GET."""
    request_context: dict[str, Any] = {
        "resourcePath": route.resource,
        "httpMethod": "GET",
        "path": path,
        "requestId": context["requestId"],
        "requestTimeEpoch": context["requestTimeEpoch"],
        "identity": dict(context["identity"]),
        "stage": "local",
    }
    if claims is not None:
        request_context["authorizer"] = {"claims": dict(claims)}
    return {
        "resource": route.resource,
        "path": path,
        "httpMethod": "GET",
        "headers": dict(headers),
        "queryStringParameters": dict(query) or None,
        "pathParameters": dict(parameters) or None,
        "requestContext": request_context,
        "body": None,
        "isBase64Encoded": False,
    }


@dataclass(frozen=True)
class ProxyAnswer:
    status: int
    content_type: str
    body: bytes
    headers: Mapping[str, str]


def proxy_answer(response: Any) -> ProxyAnswer | None:
    """The proxy integration's response as API Gateway reads it; None when it is malformed (502)."""
    try:
        status = int(response["statusCode"])
        headers = {str(k): str(v) for k, v in (response.get("headers") or {}).items()}
        body = response.get("body") or ""
        raw = base64.b64decode(body) if response.get("isBase64Encoded") else str(body).encode()
    except (KeyError, TypeError, ValueError):
        return None
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "application/json")
    rest = {k: v for k, v in headers.items() if k.lower() not in ("content-type", "content-length")}
    return ProxyAnswer(status, content_type, raw, rest)


class Throttled(Exception):
    """Every execution environment is busy: Lambda throttles the invocation."""


class FunctionPool:
    """At most `concurrency` warm execution environments of one function, created on demand."""

    def __init__(self, handler_path: str, env: Mapping[str, str], timeout_s: float, concurrency: int) -> None:
        self._handler_path, self._env, self._timeout_s = handler_path, dict(env), timeout_s
        self.concurrency = concurrency
        self._idle: list[Environment] = []
        self.created = 0
        self._lock = threading.Lock()
        self.throttled = 0
        # One thread per environment: asyncio's default executor has fewer threads than a cap of 10 on a
        # small machine, and would queue invocations that Lambda runs at once.
        self._threads = concurrent.futures.ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="function")

    def _take(self) -> Environment:
        with self._lock:
            if self._idle:
                return self._idle.pop()
            if self.created < self.concurrency:
                self.created += 1
                return Environment(self._handler_path, self._env, self._timeout_s)
            self.throttled += 1
            raise Throttled

    def _give_back(self, environment: Environment) -> None:
        with self._lock:
            self._idle.append(environment)

    async def invoke(self, event: dict[str, Any]) -> Any:
        """The handler's response; Throttled, or InvocationError when it failed."""
        environment = self._take()
        try:
            return await asyncio.get_running_loop().run_in_executor(self._threads, environment.invoke, event)
        finally:
            self._give_back(environment)  # a dead environment restarts on its next invocation

    def close(self) -> None:
        with self._lock:
            environments, self._idle = self._idle, []
        for environment in environments:
            environment.close()
        self._threads.shutdown(wait=False)


__all__ = ["FunctionPool", "InvocationError", "ProxyAnswer", "ReadRoute", "Throttled", "match", "proxy_event"]
