"""Reads serverless.yml, the single source of the queue and event-source settings.

The local stack takes the worker's handler, batch size, batching window, maximum concurrency,
visibility timeout and maxReceiveCount from here, so it drains the queue as the deployed stack does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ponto.errors import ConfigError

SERVERLESS_YML = Path(__file__).resolve().parent.parent / "serverless.yml"
_SELF_REF = re.compile(r"^\$\{self:([A-Za-z0-9_.]+)\}$")


class _CfnLoader(yaml.SafeLoader):
    """A YAML loader that keeps CloudFormation short tags (!Ref, !GetAtt, ...) as plain values."""


def _tagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return {suffix: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {suffix: loader.construct_sequence(node)}
    return {suffix: loader.construct_mapping(node)}  # type: ignore[arg-type]


_CfnLoader.add_multi_constructor("!", _tagged)


def load(path: Path = SERVERLESS_YML) -> dict[str, Any]:
    try:
        with path.open(encoding="utf-8") as handle:
            document: dict[str, Any] = yaml.load(handle, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read {path.name}") from exc
    return document


def resolve(document: dict[str, Any], value: Any) -> Any:
    """Follow ``${self:a.b.c}`` references (the only variable form the settings use)."""
    for _ in range(10):
        match = _SELF_REF.match(value) if isinstance(value, str) else None
        if match is None:
            return value
        node: Any = document
        for key in match[1].split("."):
            if not isinstance(node, dict) or key not in node:
                raise ConfigError(f"serverless.yml: ${{self:{match[1]}}} does not resolve")
            node = node[key]
        value = node
    raise ConfigError("serverless.yml: self references nest too deep")


def function_handler(name: str, document: dict[str, Any] | None = None) -> str:
    """The handler ('module.function') of a function in serverless.yml."""
    document = document if document is not None else load()
    try:
        return str(resolve(document, document["functions"][name]["handler"]))
    except KeyError as exc:
        raise ConfigError(f"serverless.yml has no function {name!r} with a handler") from exc


@dataclass(frozen=True)
class QueueSettings:
    batch_size: int
    maximum_batching_window_s: float
    maximum_concurrency: int
    visibility_timeout_s: int
    max_receive_count: int
    worker_timeout_s: float

    @classmethod
    def from_serverless(cls, document: dict[str, Any] | None = None) -> QueueSettings:
        """The settings in ``custom.ponto`` of serverless.yml, which the stack itself references."""
        document = document if document is not None else load()
        try:
            block = document["custom"]["ponto"]
            return cls(
                batch_size=int(block["batchSize"]),
                maximum_batching_window_s=float(block["maximumBatchingWindow"]),
                maximum_concurrency=int(block["maximumConcurrency"]),
                visibility_timeout_s=int(block["visibilityTimeout"]),
                max_receive_count=int(block["maxReceiveCount"]),
                worker_timeout_s=float(block["workerTimeout"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError("serverless.yml: custom.ponto lacks a queue setting") from exc


@dataclass(frozen=True)
class UsagePlanLimits:
    """The usage plan's per-key throttle and quota (``params.default`` of serverless.yml).

    API Gateway throttles each key with a token bucket: ``burst`` tokens at most, refilled at
    ``rate_per_s``; the quota counts a key's requests per UTC day.
    """

    rate_per_s: float
    burst: int
    quota_per_day: int

    @classmethod
    def from_serverless(cls, document: dict[str, Any] | None = None) -> UsagePlanLimits:
        document = document if document is not None else load()
        try:
            params = document["params"]["default"]
            limits = cls(
                rate_per_s=float(resolve(document, params["apiRateLimit"])),
                burst=int(resolve(document, params["apiBurstLimit"])),
                quota_per_day=int(resolve(document, params["apiQuotaPerDay"])),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError("serverless.yml: params.default lacks a usage-plan limit") from exc
        if limits.rate_per_s <= 0 or limits.burst < 1 or limits.quota_per_day < 1:
            raise ConfigError("serverless.yml: the usage-plan limits must be positive")
        return limits


@dataclass(frozen=True)
class ReadFunctionSettings:
    """A function behind the API's read routes: its handler, timeout and reserved concurrency."""

    handler: str
    timeout_s: float
    reserved_concurrency: int


def read_function_settings(name: str, document: dict[str, Any] | None = None) -> ReadFunctionSettings:
    document = document if document is not None else load()
    try:
        function = document["functions"][name]
        settings = ReadFunctionSettings(
            handler=str(resolve(document, function["handler"])),
            timeout_s=float(resolve(document, function["timeout"])),
            reserved_concurrency=int(resolve(document, function["reservedConcurrency"])),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"serverless.yml: function {name!r} lacks a handler, timeout or reservedConcurrency") from exc
    if settings.reserved_concurrency < 1:
        raise ConfigError(f"serverless.yml: function {name!r} needs a reservedConcurrency of at least 1")
    return settings
