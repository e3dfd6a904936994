"""Bodies are read by orjson, with the stdlib's decoder behind it: the same documents as the stdlib's.

The one difference orjson has, integers beyond 64 bits read as floats, must stay where it changes
nothing: legacy bodies (an integer usuarioId of any size) are read by the stdlib. Checked on
hand-written texts and on thousands of texts made by mutating valid bodies character by character.
"""

import json
import random
from typing import Any

import pytest

from ponto.errors import InvalidPunchError
from ponto.punch import _load_json
from tests.events import legacy_body, v1_body

_INT64_MIN, _UINT64_END = -(2**63), 2**64


def reference(text: str) -> Any:
    """The stdlib's reading (NaN and Infinity refused), or InvalidPunchError."""
    try:
        return json.JSONDecoder(parse_constant=_refuse).decode(text)
    except (ValueError, RecursionError):
        return InvalidPunchError


def _refuse(name: str) -> Any:
    raise ValueError(name)


def read(text: str) -> Any:
    try:
        return _load_json(text)
    except InvalidPunchError:
        return InvalidPunchError


def as_orjson_reads(value: Any) -> Any:
    """`value` with the integers orjson cannot hold as floats."""
    if isinstance(value, dict):
        return {key: as_orjson_reads(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_orjson_reads(item) for item in value]
    if type(value) is int and not _INT64_MIN <= value < _UINT64_END:
        return float(value)
    return value


def same(a: Any, b: Any) -> bool:
    """Equal, and of the same types all the way down (1, 1.0 and True differ; so do 0.0 and -0.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[key], b[key]) for key in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        return repr(a) == repr(b)
    return bool(a == b)


def reads_as_the_stdlib(text: str) -> bool:
    """The reading of `text` is the stdlib's; outside legacy bodies, big integers may be floats."""
    got, want = read(text), reference(text)
    if same(got, want):
        return True
    legacy = isinstance(want, dict) and "usuarioId" in want
    return not legacy and same(got, as_orjson_reads(want))


HAND_WRITTEN = [
    json.dumps(v1_body()),
    json.dumps(legacy_body(7, "2026-11-22 08:00:00")),
    '{"usuarioId": 123456789012345678901234567890, "ponto": "2026-11-22 08:00:00"}',
    '{"usuarioId": 18446744073709551616, "ponto": "2026-11-22 08:00:00"}',
    '{"employee_id": "e", "location": {"lat": 99999999999999999999, "lon": -1e400}}',
    '{"a": 1, "a": 2}',
    '{"a": "\\ud800"}',
    '{"a": "\\u0000"}',
    '{"a": 1e400}',
    '{"a": -0.0, "b": -0, "c": 1.0, "d": 1E2, "e": 18446744073709551615, "f": -9223372036854775809}',
    ' \t\n{"a": 1}\r\n ',
    '\ufeff{"a": 1}',
    '{"a": NaN}',
    '{"a": Infinity}',
    '{"a": "\t"}',
    '{"a": 01}',
    '{"a": 1,}',
    '{"a": 1} {"b": 2}',
    "[" * 2000 + "]" * 2000,
    "",
    "null",
    '"text"',
]


@pytest.mark.parametrize("text", HAND_WRITTEN)
def test_hand_written_texts_read_as_the_stdlib_reads_them(text: str) -> None:
    assert reads_as_the_stdlib(text)


def test_a_legacy_usuario_id_beyond_64_bits_keeps_every_digit() -> None:
    document = _load_json('{"usuarioId": 123456789012345678901234567890, "ponto": "2026-11-22 08:00:00"}')
    assert document["usuarioId"] == 123456789012345678901234567890


_ALPHABET = [*'{}[],:"\\ 0123456789eE.+-tfnrul\t\n\r\x00\x7fé\ud800\ufeff', "1" * 25, "usuarioId"]


def mutate(text: str, rng: random.Random) -> str:
    for _ in range(rng.randint(1, 3)):
        at = rng.randrange(len(text) + 1)
        action = rng.random()
        if action < 0.4:
            text = text[:at] + rng.choice(_ALPHABET) + text[at:]
        elif action < 0.7:
            text = text[:at] + text[at + 1 :]
        else:
            text = text[:at] + rng.choice(_ALPHABET) + text[at + 1 :]
    return text


def test_mutated_bodies_read_as_the_stdlib_reads_them() -> None:
    rng = random.Random(2026)
    seeds = [json.dumps(v1_body()), json.dumps(legacy_body(42, "2026-11-22 08:00:00")), HAND_WRITTEN[4]]
    outcomes = {"valid": 0, "invalid": 0}
    for index in range(6000):
        text = mutate(seeds[index % len(seeds)], rng)
        assert reads_as_the_stdlib(text), text
        outcomes["invalid" if reference(text) is InvalidPunchError else "valid"] += 1
    assert min(outcomes.values()) > 1000, outcomes  # both outcomes were exercised
