"""Emitting: the fast JSON writer is byte-identical to json.dumps(indent=2, ensure_ascii=False)."""

from __future__ import annotations

import datetime
import json
import random

import pytest

from aibtui.compiler.emit import dumps


def _random_value(rng: random.Random, depth: int = 0):
    kinds = ["str", "int", "float", "bool", "none"] + (["dict", "list"] if depth < 4 else [])
    kind = rng.choice(kinds)
    if kind == "str":
        return "".join(rng.choice('ab"\\\n\t\u00e9\u4e2d\U0001f600</>\x01 ') for _ in range(rng.randint(0, 8)))
    if kind == "int":
        return rng.randint(-10**20, 10**20)
    if kind == "float":
        return rng.uniform(-1e6, 1e6)
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "none":
        return None
    if kind == "dict":
        return {f"k{i}{rng.choice('xyz')}": _random_value(rng, depth + 1) for i in range(rng.randint(0, 4))}
    return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]


def test_identical_to_json_dumps():
    rng = random.Random(1234)
    for _ in range(500):
        value = _random_value(rng)
        assert dumps(value) == json.dumps(value, indent=2, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), {"d": datetime.date(2024, 1, 1)}, {1: "x"}])
def test_values_without_json_form_are_refused(bad):
    with pytest.raises(ValueError):
        dumps(bad)
