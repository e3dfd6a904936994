"""The acceptor compiled from the punch schema agrees with the full validator (fastjsonschema).

It must never pass a body the full validator refuses (the worker would record an invalid punch);
for documents made of JSON's own types it should pass every body the full validator accepts (else
the fast path is lost, not correctness). Both are checked on a few thousand bodies made by mutating
valid ones, and on the hand-written cases of test_contract.
"""

import copy
import json
import random
from collections import Counter
from decimal import Decimal
from typing import Any

import fastjsonschema
import pytest

from ponto.contract import load_contract
from ponto.contract.acceptor import compile_acceptor
from tests.events import legacy_body, v1_body
from tests.unit.test_contract import INVALID, VALID

SCHEMA = load_contract().punch_schema
BRANCHES = {"v1": SCHEMA["oneOf"][0], "legacy": SCHEMA["oneOf"][1]}

# Values that sit on or beside a boundary of some keyword of the schema.
AWKWARD: list[Any] = [
    None,
    True,
    False,
    0,
    -0.0,
    1,
    -1,
    1.5,
    90,
    90.0000001,
    -90,
    -90.5,
    180,
    -180,
    -180.0001,
    10**30,
    float("nan"),
    float("inf"),
    Decimal("1.5"),
    "",
    "a",
    "a" * 64,
    "a" * 65,
    "e\n",
    "é",
    "x y",
    "in",
    "out",
    "break_end",
    "lunch",
    "IN",
    [],
    {},
    {"lat": 0},
    {"lat": 0, "lon": 0},
    {"lat": 0, "lon": 0, "accuracy_m": 0},
    {"lat": 0, "lon": 0, "accuracy_m": -0.1},
    {"lat": True, "lon": 0},
    {"lat": 0, "lon": 0, "x": 1},
    "2026-11-22T08:00:03Z",
    "2026-11-22T08:00:03Z\n",
    "2026-11-22 08:00:03",
    "2026-11-22T08:00:60.5-03:00",
    "2026-11-22T08:00:03.1234567890Z",
    "6f9619ff-8b86-d011-b42d-00c04fc964ff",
    "6F9619FF-8B86-D011-B42D-00C04FC964FF\n",
    "6f9619ff8b86d011b42d00c04fc964ff",
]
KEYS = ["punch_id", "employee_id", "punched_at", "kind", "device_id", "location", "usuarioId", "ponto", "extra"]


def mutants(count: int, seed: int) -> list[Any]:
    rng = random.Random(seed)
    bases = [v1_body(), {"employee_id": "e", "punched_at": "2026-11-22T08:00:03Z"}, legacy_body()]
    bodies: list[Any] = []
    for _ in range(count):
        body = copy.deepcopy(rng.choice(bases))
        for _ in range(rng.randint(1, 3)):
            action, key = rng.random(), rng.choice(KEYS)
            if action < 0.2:
                body.pop(key, None)
            elif action < 0.9:
                body[key] = copy.deepcopy(rng.choice(AWKWARD))
            elif "location" in body and isinstance(body["location"], dict):
                body["location"][rng.choice(["lat", "lon", "accuracy_m", "alt"])] = rng.choice(AWKWARD)
        bodies.append(body)
    return bodies


def full_accepts(validate: Any, body: Any) -> bool:
    try:
        validate(body)
    except fastjsonschema.JsonSchemaValueException:
        return False
    return True


def plain_json(body: Any) -> bool:
    """True if the body is what json.loads can return (no Decimal, no NaN or infinity)."""
    try:
        return bool(json.loads(json.dumps(body, allow_nan=False)) == body)
    except (TypeError, ValueError):
        return False


@pytest.mark.parametrize("branch", BRANCHES)
def test_the_acceptor_passes_exactly_what_the_full_validator_passes(branch: str) -> None:
    schema = {"$schema": "http://json-schema.org/draft-04/schema#", **BRANCHES[branch]}
    validate, accept = fastjsonschema.compile(schema), compile_acceptor(BRANCHES[branch])
    assert accept is not None
    bodies = mutants(4000, seed=7) + list(VALID.values()) + [body for body, _ in INVALID.values()]
    verdicts: Counter[tuple[bool, bool]] = Counter()
    for body in bodies:
        full, fast = full_accepts(validate, body), accept(body)
        assert not (fast and not full), f"accepted an invalid body: {body!r}"
        if plain_json(body):
            assert fast == full, f"refused a valid JSON body: {body!r}"
        verdicts[full, fast] += 1
    # The corpus exercises both answers, so neither assertion above holds vacuously.
    assert verdicts[True, True] >= 50
    assert verdicts[False, False] >= 1000


def test_outside_json_types_the_full_validator_decides() -> None:
    accept = compile_acceptor(BRANCHES["v1"])
    assert accept is not None
    body = v1_body(location={"lat": Decimal("1.5"), "lon": 0})
    assert not accept(body)  # the full validator accepts Decimal numbers; the fast path leaves it to it
    load_contract().validate_punch(body)


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object", "properties": {"a": {"type": "string", "format": "date-time"}}},
        {"type": "object", "patternProperties": {"^x": {"type": "string"}}},
        {"type": "object", "additionalProperties": {"type": "string"}},
        {"type": "object", "required": ["a"]},
        {"type": ["string", "null"]},
        {"type": "number", "exclusiveMinimum": True, "minimum": 0},
        {"type": "string", "enum": ["a", 1]},
        {"oneOf": [{"type": "string"}]},
        {"type": "array"},
    ],
)
def test_a_keyword_it_does_not_know_means_no_fast_path(schema: dict[str, Any]) -> None:
    assert compile_acceptor(schema) is None


def test_a_dollar_ends_the_string_as_in_the_full_validator() -> None:
    accept = compile_acceptor({"type": "string", "pattern": "^a$"})
    assert accept is not None
    assert accept("a")
    assert not accept("a\n")


def test_booleans_are_accepted_only_as_json_booleans() -> None:
    # The v1 body's `offline`: true and false pass the fast path; 1, 0, "true" and null do not
    acceptor = compile_acceptor({"type": "object", "properties": {"flag": {"type": "boolean"}}})
    assert acceptor is not None
    assert acceptor({"flag": True}) and acceptor({"flag": False}) and acceptor({})
    for value in (1, 0, "true", None, 1.0):
        assert not acceptor({"flag": value}), value
