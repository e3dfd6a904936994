"""A fast acceptor compiled from a JSON Schema: True only for documents the schema accepts.

The worker validates every queued body with the gateway's schema, and fastjsonschema's general
code spends ~4 µs a punch on it, more than half the rest of the worker's Python. The punch schema
uses a handful of draft-4 keywords, so this module compiles it into one straight function (a
lookup per property, no sets) that says yes to a valid punch in a fraction of that. It is a fast path, not a second
judge: it answers False whenever a document is invalid *or* outside what it is sure about (a
Decimal, a float where an integer is wanted), and the caller then asks the full validator, which
decides and gives the reason. A schema with any keyword it does not know compiles to None: no fast
path at all.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

Acceptor = Callable[[Any], bool]

_IGNORED = frozenset({"$schema", "title", "description"})
_KEYWORDS = {
    "object": frozenset({"type", "properties", "required", "additionalProperties"}),
    "string": frozenset({"type", "minLength", "maxLength", "pattern", "enum"}),
    "number": frozenset({"type", "minimum", "maximum"}),
    "integer": frozenset({"type", "minimum", "maximum"}),
    "boolean": frozenset({"type"}),
}
# JSON Schema patterns are ECMA 262, where "$" ends the string; Python's "$" also matches before a
# final newline. fastjsonschema reads an unescaped "$" as \Z, and so does this module.
_DOLLAR = re.compile(r"(?<!\\)\$")


_MISSING = object()  # a property the document does not have (null is a value)


class _Unsupported(Exception):
    """The schema uses something this compiler does not handle."""


def compile_acceptor(schema: Mapping[str, Any]) -> Acceptor | None:
    """The acceptor of `schema`, or None if the schema uses a keyword outside the supported set."""
    generator = _Generator()
    try:
        lines = generator.node(schema, "data", 1)
    except _Unsupported:
        return None
    source = "\n".join(["def accept(data):", *lines, "    return True", ""])
    namespace: dict[str, Any] = {**generator.constants, "_MISSING": _MISSING}
    # Code generated from the project's own contract: names are counters and every schema value
    # reaches the source through repr() or a constant in the namespace.
    exec(compile(source, "<ponto.contract.acceptor>", "exec"), namespace)  # noqa: S102
    acceptor: Acceptor = namespace["accept"]
    return acceptor


class _Generator:
    def __init__(self) -> None:
        self.constants: dict[str, Any] = {}
        self._names = 0

    def _name(self, prefix: str) -> str:
        self._names += 1
        return f"{prefix}{self._names}"

    def _constant(self, prefix: str, value: Any) -> str:
        name = self._name(prefix)
        self.constants[name] = value
        return name

    def node(self, schema: Mapping[str, Any], var: str, depth: int) -> list[str]:
        if not isinstance(schema, Mapping):
            raise _Unsupported("a schema that is not an object")
        kind = schema.get("type")
        if not isinstance(kind, str) or kind not in _KEYWORDS:
            raise _Unsupported(f"type {kind!r}")
        unknown = set(schema) - _IGNORED - _KEYWORDS[kind]
        if unknown:
            raise _Unsupported(f"keywords {sorted(unknown)}")
        if kind == "object":
            return self._object(schema, var, depth)
        if kind == "string":
            return self._string(schema, var, depth)
        if kind == "boolean":
            pad = "    " * depth
            return [f"{pad}if {var} is not True and {var} is not False:", f"{pad}    return False"]
        return self._number(schema, var, depth, integer=kind == "integer")

    def _object(self, schema: Mapping[str, Any], var: str, depth: int) -> list[str]:
        pad = "    " * depth
        properties = schema.get("properties", {})
        required = schema.get("required", [])
        additional = schema.get("additionalProperties", True)
        if not isinstance(properties, Mapping) or not all(isinstance(k, str) for k in properties):
            raise _Unsupported("properties")
        if not isinstance(required, list) or len(set(required)) != len(required):
            raise _Unsupported("required")
        if additional not in (True, False):
            raise _Unsupported("additionalProperties with a schema")
        if not set(required) <= set(properties):
            raise _Unsupported("a required key without a property schema")
        # One lookup per known property (no loop over the document's keys, no chain of comparisons);
        # keys are unique in a dict, so when every key present is a known one, none is unknown.
        lines = [f"{pad}if {var}.__class__ is not dict:", f"{pad}    return False"]
        left = self._name("n")
        if additional is False:
            lines.append(f"{pad}{left} = len({var})")
        for name, subschema in properties.items():
            value = self._name("v")
            lines += [f"{pad}{value} = {var}.get({name!r}, _MISSING)", f"{pad}if {value} is not _MISSING:"]
            if additional is False:
                lines.append(f"{pad}    {left} -= 1")
            lines += self.node(subschema, value, depth + 1)
            if name in required:
                lines += [f"{pad}else:", f"{pad}    return False"]
        if additional is False:
            lines += [f"{pad}if {left}:", f"{pad}    return False"]
        return lines

    def _string(self, schema: Mapping[str, Any], var: str, depth: int) -> list[str]:
        pad = "    " * depth
        lines = [f"{pad}if {var}.__class__ is not str:", f"{pad}    return False"]
        if "enum" in schema:
            values = schema["enum"]
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                raise _Unsupported("an enum of other than strings")
            allowed = self._constant("enum", frozenset(values))
            lines += [f"{pad}if {var} not in {allowed}:", f"{pad}    return False"]
        low, high = schema.get("minLength"), schema.get("maxLength")
        for bound in (low, high):
            if bound is not None and (type(bound) is not int or bound < 0):
                raise _Unsupported("a length that is not a natural number")
        if low is not None or high is not None:
            within = " <= ".join(str(part) for part in (low, f"len({var})", high) if part is not None)
            lines += [f"{pad}if not ({within}):", f"{pad}    return False"]
        if "pattern" in schema:
            pattern = schema["pattern"]
            if not isinstance(pattern, str):
                raise _Unsupported("a pattern that is not a string")
            search = self._constant("pattern", re.compile(_DOLLAR.sub(r"\\Z", pattern)).search)
            lines += [f"{pad}if {search}({var}) is None:", f"{pad}    return False"]
        return lines

    def _number(self, schema: Mapping[str, Any], var: str, depth: int, *, integer: bool) -> list[str]:
        pad = "    " * depth
        if integer:  # a float equal to an integer is the full validator's call
            lines = [f"{pad}if {var}.__class__ is not int:", f"{pad}    return False"]
        else:  # bool is an int subclass, not a JSON number; a Decimal is the full validator's call
            lines = [f"{pad}if {var}.__class__ is not int and {var}.__class__ is not float:", f"{pad}    return False"]
        for keyword in ("minimum", "maximum"):
            if keyword in schema and type(schema[keyword]) not in (int, float):
                raise _Unsupported(f"a {keyword} that is not a number")
        low = [repr(schema["minimum"])] if "minimum" in schema else []
        high = [repr(schema["maximum"])] if "maximum" in schema else []
        if low or high:
            # "not (low <= x <= high)" also refuses NaN, which no JSON text holds.
            lines += [f"{pad}if not ({' <= '.join([*low, var, *high])}):", f"{pad}    return False"]
        return lines
