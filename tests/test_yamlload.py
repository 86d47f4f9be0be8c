"""The source-tracked YAML loader: spans, duplicate keys, budgets, YAML 1.1 values kept as written."""

from __future__ import annotations

import time

import pytest

from aibtui.compiler.diagnostics import DiagnosticBag
from aibtui.compiler.nodes import Mapping, Scalar, Sequence, to_plain
from aibtui.compiler.yamlload import decode_text, load_yaml


def load(text: str):
    diags = DiagnosticBag()
    node = load_yaml(text, "t.yaml", diags)
    return node, diags.sorted()


def codes(diags) -> list[tuple[str, int, int]]:
    return [(d.code, d.span.line, d.span.col) for d in diags]


def test_values_and_spans():
    node, diags = load("name: web\nsteps:\n  - a\n  - {b: 1}\n")
    assert diags == []
    assert isinstance(node, Mapping)
    assert to_plain(node) == {"name": "web", "steps": ["a", {"b": 1}]}
    assert node.key_spans["steps"].line == 2 and node.key_spans["steps"].col == 1
    steps = node.items["steps"]
    assert isinstance(steps, Sequence)
    assert (steps.items[1].span.line, steps.items[1].span.col) == (4, 5)


def test_plain_scalars_keep_raw_text():
    node, _ = load("sku: no\nversion: 1.10\nt: 1:30\nq: 'no'\nd: 2024-01-01\n")
    sku, version, t, q = (node.items[k] for k in ("sku", "version", "t", "q"))
    assert isinstance(sku, Scalar) and sku.value is False and sku.raw == "no" and sku.plain
    assert version.value == 1.1 and version.raw == "1.10"
    assert t.value == 90 and t.raw == "1:30"
    assert q.value == "no" and not q.plain


def test_duplicate_key_is_an_error():
    _, diags = load("a: 1\nb: 2\na: 3\n")
    assert codes(diags) == [("AIB102", 3, 1)]
    assert "line 1" in diags[0].message


def test_billion_laughs_is_refused_fast():
    text = "a: &a [x,x,x,x,x,x,x,x,x]\n"
    for i in range(8):
        prev, cur = chr(97 + i), chr(98 + i)
        text += f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]\n"
    t0 = time.perf_counter()
    node, diags = load(text)
    assert time.perf_counter() - t0 < 5.0  # generous: far above the real time under load
    assert node is None
    assert diags[0].code == "AIB103"


@pytest.mark.parametrize("text,code", [
    ("a: &a [*a]\n", "AIB103"),            # recursive alias
    ("[" * 5000 + "]" * 5000, "AIB101"),   # libyaml's own depth limit
    ("a:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 80)) + "  " * 80 + "v: 1\n", "AIB103"),
    ("a: *nope\n", "AIB101"),
    ("a: 1\n---\nb: 2\n", "AIB105"),
    ("", "AIB105"),
    ("a: !!python/object:os.system x\n", "AIB107"),
    ("? [a]\n: 1\n", "AIB106"),
    ("a:\n\tb: 1\n", "AIB101"),
])
def test_hostile_and_broken_input(text, code):
    node, diags = load(text)
    assert node is None
    assert diags and diags[0].code == code
    assert diags[0].span is not None and diags[0].span.line >= 1


def test_tab_gets_a_hint():
    _, diags = load("a:\n\tb: 1\n")
    assert "tabs" in (diags[0].hint or "")


def test_merge_keys():
    node, diags = load("base: &b {x: 1, y: 2}\nm:\n  <<: *b\n  y: 3\n")
    assert diags == []
    assert to_plain(node)["m"] == {"y": 3, "x": 1}


def test_size_budget():
    node, diags = load("a: " + "x" * (5 * 1024 * 1024) + "\n")
    assert node is None and diags[0].code == "AIB103"


def test_decode_text():
    bag = DiagnosticBag()
    assert decode_text("\ufeffa: 1".encode(), "f", bag) == "a: 1"
    assert decode_text(b"a: \xff\n", "f", bag) is None
    assert bag.items[0].code == "AIB108" and bag.items[0].span.col == 4
    assert decode_text("a".encode("utf-16"), "f", DiagnosticBag()) is None
