"""The API contract, loaded from ``openapi.json`` beside this file.

The same file is the RestApi body of the deployed stack (serverless.yml inlines it) and what the
local gateway serves; the worker validates queued bodies with the very schema the gateway applies.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import fastjsonschema

from ponto.contract.acceptor import Acceptor, compile_acceptor
from ponto.errors import InvalidPunchError

PUNCHES_PATH = "/punches"
JSON_MEDIA_TYPE = "application/json"
# SQS's maximum message size (and the queue's MaximumMessageSize, its default): the body plus every
# part of the message attributes the integration adds (names, data types, values), in UTF-8 bytes.
# The contract states it in the 413 response; tests/unit/test_contract.py keeps the two equal.
MAX_MESSAGE_BYTES = 1_048_576

Validator = Callable[[Any], Any]


@dataclass(frozen=True)
class Contract:
    document: Mapping[str, Any]
    punch_schema: Mapping[str, Any]
    _validate_v1: Validator
    _validate_legacy: Validator
    _accept_v1: Acceptor | None = None
    _accept_legacy: Acceptor | None = None

    @property
    def post_punch(self) -> Mapping[str, Any]:
        operation: Mapping[str, Any] = self.document["paths"][PUNCHES_PATH]["post"]
        return operation

    @property
    def integration(self) -> Mapping[str, Any]:
        integration: Mapping[str, Any] = self.post_punch["x-amazon-apigateway-integration"]
        return integration

    @property
    def gateway_responses(self) -> Mapping[str, Any]:
        responses: Mapping[str, Any] = self.document["x-amazon-apigateway-gateway-responses"]
        return responses

    def validate_punch(self, body: Any) -> None:
        """Apply the gateway's request schema; raise InvalidPunchError with the reason.

        The schema's two oneOf branches exclude each other (no additional properties, disjoint
        required keys), so validating the branch the body claims (legacy bodies carry usuarioId or
        ponto) decides exactly as the oneOf does, at half the cost, and its error names the field
        at fault instead of "no branch matched".

        The branch's acceptor (compiled from the same schema) passes a valid body at a fraction of
        the full validator's cost; whatever it does not pass, the full validator decides.
        """
        if _looks_legacy(body):
            accept, branch = self._accept_legacy, self._validate_legacy
        else:
            accept, branch = self._accept_v1, self._validate_v1
        if accept is not None and accept(body):
            return
        try:
            branch(body)
        except fastjsonschema.JsonSchemaValueException as exc:
            raise InvalidPunchError(exc.message) from None


def _looks_legacy(body: Any) -> bool:
    return isinstance(body, dict) and ("usuarioId" in body or "ponto" in body)


def _compile(schema: Mapping[str, Any]) -> Validator:
    draft4 = {"$schema": "http://json-schema.org/draft-04/schema#", **schema}
    validator: Validator = fastjsonschema.compile(draft4)
    return validator


@cache
def load_contract() -> Contract:
    text = resources.files("ponto.contract").joinpath("openapi.json").read_text(encoding="utf-8")
    document = json.loads(text)
    schema = document["components"]["schemas"]["Punch"]
    v1, legacy = schema["oneOf"]
    return Contract(
        document=document,
        punch_schema=schema,
        _validate_v1=_compile(v1),
        _validate_legacy=_compile(legacy),
        _accept_v1=compile_acceptor(v1),
        _accept_legacy=compile_acceptor(legacy),
    )
