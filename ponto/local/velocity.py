"""API Gateway mapping templates, rendered the way API Gateway renders them (Velocity via airspeed).

Only the parts of API Gateway's template reference that Ponto's contract can use are provided:
``$input`` (body, path, json, params), ``$util`` (urlEncode, urlDecode, escapeJavaScript,
base64Encode, base64Decode, parseJson) and ``$context`` (a plain mapping).
"""

from __future__ import annotations

import base64
import json
import urllib.parse
from collections.abc import Mapping
from functools import cache
from typing import Any

import airspeed


class TemplateError(Exception):
    """A template that cannot be rendered (a defect of the contract, not of a request)."""


class InputVariable:
    """``$input``: the request (or integration response) payload."""

    def __init__(self, body: str, params: Mapping[str, Mapping[str, str]] | None = None) -> None:
        self.body = body
        self._params = params or {}
        self._parsed: Any = None
        self._parsed_done = False

    def _document(self) -> Any:
        if not self._parsed_done:
            try:
                self._parsed = json.loads(self.body)
            except ValueError:
                self._parsed = None
            self._parsed_done = True
        return self._parsed

    def path(self, expression: str) -> Any:
        """The object at a JSONPath (the ``$.a.b[0]`` subset); None when absent."""
        node = self._document()
        for key in _json_path_keys(expression):
            if isinstance(node, Mapping) and isinstance(key, str):
                node = node.get(key)
            elif isinstance(node, list) and isinstance(key, int) and -len(node) <= key < len(node):
                node = node[key]
            else:
                return None
        return node

    def json(self, expression: str) -> str:
        """The JSON text of the object at a JSONPath."""
        return json.dumps(self.path(expression))

    def params(self, name: str | None = None) -> Any:
        if name is None:
            return self._params
        for where in ("path", "querystring", "header"):
            value = self._params.get(where, {}).get(name)
            if value is not None:
                return value
        return ""


class UtilVariable:
    """``$util``."""

    @staticmethod
    def urlEncode(value: Any) -> str:
        return urllib.parse.quote_plus(_text(value), safe="*")

    @staticmethod
    def urlDecode(value: Any) -> str:
        return urllib.parse.unquote_plus(_text(value))

    @staticmethod
    def escapeJavaScript(value: Any) -> str:
        escaped = json.dumps(_text(value))[1:-1]
        return escaped.replace("'", "\\'")

    @staticmethod
    def base64Encode(value: Any) -> str:
        return base64.b64encode(_text(value).encode()).decode()

    @staticmethod
    def base64Decode(value: Any) -> str:
        return base64.b64decode(_text(value)).decode()

    @staticmethod
    def parseJson(value: Any) -> Any:
        return json.loads(_text(value))


_UTIL = UtilVariable()


def render(template: str, *, input_body: str, context: Mapping[str, Any]) -> str:
    try:
        return str(_compiled(template).merge({"input": InputVariable(input_body), "util": _UTIL, "context": context}))
    except airspeed.TemplateError as exc:
        raise TemplateError(f"cannot render a mapping template: {exc}") from exc


@cache
def _compiled(template: str) -> Any:
    return airspeed.Template(template)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _json_path_keys(expression: str) -> list[str | int]:
    if not expression.startswith("$"):
        raise TemplateError(f"unsupported JSONPath {expression!r}")
    keys: list[str | int] = []
    for part in expression[1:].replace("[", ".[").split("."):
        if not part:
            continue
        if part.startswith("[") and part.endswith("]"):
            inner = part[1:-1].strip("'\"")
            keys.append(int(inner) if inner.lstrip("-").isdigit() else inner)
        else:
            keys.append(part)
    return keys
