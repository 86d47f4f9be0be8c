"""The position-keeping JSON reader: values, spans, ARM leniency, error positions, budgets, fuzz."""

from __future__ import annotations

import json
import random
import time

import pytest

from aibtui.compiler.diagnostics import DiagnosticBag, Severity, Span
from aibtui.compiler.jsonload import JsonBudget, load_json
from aibtui.compiler.nodes import Mapping, Node, Scalar, Sequence, to_plain


def load(text: str, budget: JsonBudget | None = None) -> tuple[Node | None, DiagnosticBag]:
    diags = DiagnosticBag()
    node = load_json(text, "t.json", diags, budget) if budget else load_json(text, "t.json", diags)
    return node, diags


def ok(text: str) -> Node:
    node, diags = load(text)
    assert node is not None, [d.format_text() for d in diags]
    assert not diags.has_errors
    return node


def where(span: Span) -> tuple[int, int, int, int]:
    return span.line, span.col, span.end_line, span.end_col


def only_error(text: str) -> tuple[str, tuple[int, int], str | None]:
    node, diags = load(text)
    assert node is None
    errors = diags.errors
    assert len(errors) == 1, [d.format_text() for d in diags]
    e = errors[0]
    assert e.span is not None and e.span.file == "t.json"
    return e.message, (e.span.line, e.span.col), e.hint


# -- values and spans ----------------------------------------------------------------------------------

def test_scalars_values_kinds_and_raw() -> None:
    node = ok('[ "a\\n\\"b\\u00e9\\ud83d\\ude00", 0, -12, 1.5, 2e3, -0.25E-2, true, false, null ]')
    assert isinstance(node, Sequence)
    vals = [n.value for n in node.items]  # type: ignore[attr-defined]
    assert vals == ['a\n"bé😀', 0, -12, 1.5, 2000.0, -0.0025, True, False, None]
    assert type(vals[1]) is int and type(vals[3]) is float
    s = node.items[0]
    assert isinstance(s, Scalar) and s.plain is False and s.raw == s.value
    numbers = node.items[1:9]
    assert all(isinstance(n, Scalar) and n.plain for n in numbers)
    assert [n.raw for n in numbers] == ["0", "-12", "1.5", "2e3", "-0.25E-2", "true", "false", "null"]  # type: ignore[attr-defined]


def test_spans_of_every_construct() -> None:
    text = '{\n  "name": "x",\n  "n": 42,\n  "list": [true, null],\n  "obj": {}\n}'
    node = ok(text)
    assert isinstance(node, Mapping)
    assert where(node.span) == (1, 1, 6, 2)
    assert where(node.key_spans["name"]) == (2, 3, 2, 9)
    assert where(node.items["name"].span) == (2, 11, 2, 14)
    assert where(node.items["n"].span) == (3, 8, 3, 10)
    lst = node.items["list"]
    assert isinstance(lst, Sequence) and where(lst.span) == (4, 11, 4, 23)
    assert [where(i.span) for i in lst.items] == [(4, 12, 4, 16), (4, 18, 4, 22)]
    assert where(node.items["obj"].span) == (5, 10, 5, 12)
    assert list(node.items) == ["name", "n", "list", "obj"]
    assert to_plain(node) == json.loads(text)


def test_top_level_scalar_and_string_with_escapes_span() -> None:
    node = ok('  "a\\tb"  ')
    assert isinstance(node, Scalar) and node.value == "a\tb"
    assert where(node.span) == (1, 3, 1, 9)
    assert ok("7").value == 7  # type: ignore[attr-defined]


def test_matches_json_module_on_a_realistic_template() -> None:
    doc = {
        "type": "Microsoft.VirtualMachineImages/imageTemplates", "apiVersion": "2024-02-01",
        "properties": {"customize": [{"type": "Shell", "name": "x", "inline": ["echo \"hi\" \\ ok", "é"]}],
                       "buildTimeoutInMinutes": 90, "vmProfile": {"osDiskSizeGB": 0.5}},
        "tags": {}, "dependsOn": [],
    }
    text = json.dumps(doc, indent=2, ensure_ascii=False)
    assert to_plain(ok(text)) == doc
    assert to_plain(ok(json.dumps(doc, ensure_ascii=True))) == doc


def test_columns_count_characters_not_bytes() -> None:
    node = ok('{"ä€😀": "日本", "k": 1}')
    assert isinstance(node, Mapping)
    assert where(node.items["ä€😀"].span) == (1, 9, 1, 13)
    assert where(node.key_spans["k"]) == (1, 15, 1, 18)


# -- what ARM tooling accepts -------------------------------------------------------------------------

def test_line_and_block_comments() -> None:
    text = '// head\n{ /* a\n b */ "a": 1, // tail\n  "b": /* in */ 2 /**/ }\n// end'
    node = ok(text)
    assert to_plain(node) == {"a": 1, "b": 2}
    assert isinstance(node, Mapping)
    assert where(node.items["b"].span) == (4, 17, 4, 18)
    assert where(node.span) == (2, 1, 4, 25)


def test_comment_markers_inside_strings_are_text() -> None:
    assert to_plain(ok('{"u": "https://x//y /* z */"}')) == {"u": "https://x//y /* z */"}


def test_trailing_commas() -> None:
    assert to_plain(ok('{"a": [1, 2,], "b": {"c": 3,},}')) == {"a": [1, 2], "b": {"c": 3}}
    assert to_plain(ok('[\n  1,\n  // gone\n]')) == [1]


def test_bom_is_not_a_column() -> None:
    node = ok('\ufeff{"a": 1}')
    assert isinstance(node, Mapping)
    assert where(node.span) == (1, 1, 1, 9)
    assert where(node.items["a"].span) == (1, 7, 1, 8)


def test_crlf_lines_and_columns() -> None:
    text = '{\r\n  "a": 1,\r\n\r\n    "b": [\r\n      "x"\r\n    ]\r\n}\r\n'
    node = ok(text)
    assert isinstance(node, Mapping)
    assert where(node.key_spans["a"]) == (2, 3, 2, 6)
    assert where(node.items["b"].span) == (4, 10, 6, 6)
    assert where(node.items["b"].items[0].span) == (5, 7, 5, 10)  # type: ignore[attr-defined]
    _, (line, col), _ = only_error('{\r\n  "a": 1\r\n  "b": 2\r\n}')
    assert (line, col) == (2, 9)


def test_duplicate_key_is_a_warning_and_the_last_one_wins() -> None:
    node, diags = load('{\n "a": 1,\n "b": 0,\n "a": 2\n}')
    assert isinstance(node, Mapping)
    assert to_plain(node) == {"b": 0, "a": 2}
    assert where(node.key_spans["a"]) == (4, 2, 4, 5)
    assert [d.code for d in diags] == ["AIB701"]
    d = diags.items[0]
    assert d.severity is Severity.WARNING
    assert d.span is not None and (d.span.line, d.span.col) == (4, 2)
    assert "first at line 2:2" in d.message and "ARM keeps the last one" in d.message


# -- errors: message, hint and exact line:col --------------------------------------------------------

@pytest.mark.parametrize(("text", "pos", "words", "hint_words"), [
    ('{\n  "region": <region>\n}', (2, 13), "unquoted placeholder <region>", "quote it"),
    ('["a", <image location>]', (1, 7), "unquoted placeholder <image location>", "quote it"),
    ("{'a': 1}", (1, 2), "single-quoted string", 'double quotes: "a"'),
    ('{"a": \'x\'}', (1, 7), "single-quoted string", 'double quotes: "x"'),
    ('{"a": True}', (1, 7), "True is Python", "true"),
    ('[None]', (1, 2), "None is Python", "null"),
    ('[NULL]', (1, 2), "NULL", "lower case: null"),
    ('{"a": NaN}', (1, 7), "NaN is not a JSON number", "null"),
    ('[-Infinity]', (1, 2), "-Infinity is not a JSON number", "null"),
    ('{name: 1}', (1, 2), "unquoted property name name", '"name"'),
    ('[westus2]', (1, 2), "unquoted text westus2", '"westus2"'),
    ('{"a": 1\n "b": 2}', (1, 8), "missing ','", "end of line 1"),
    ('[1\n 2]', (1, 3), "missing ','", "end of line 1"),
    ('{"a" 1}', (1, 6), "':' after the property name \"a\"", None),
    ('{"a" = 1}', (1, 6), "':' after the property name", "not '='"),
    ('{"a": 1,,}', (1, 9), "found ','", "two commas"),
    ('[,]', (1, 2), "found ','", None),
    ('{"a": }', (1, 7), "expected a value, found '}'", "missing after the ':'"),
    ('{"a": [1}', (1, 9), "'}' does not match the '[' opened at line 1:7", None),
    ('[1]]', (1, 4), "closes nothing", "extra closing bracket"),
    ('}', (1, 1), "'}' closes nothing", None),
    ('{"a": 1} {"b": 2}', (1, 10), "a second value", "one JSON value"),
    ('{"a": 1}\n"x"', (2, 1), "a second value", None),
    ('{"a": [1, 2', (1, 12), "'[' opened at line 1:7 is never closed", "']'"),
    ('{\n "a": "abc\n}', (2, 7), "unterminated string", "\\n"),
    ('"abc', (1, 1), "unterminated string", None),
    ('["C:\\Windows"]', (1, 5), "invalid escape '\\W'", "\\\\"),
    ('["\\u12G4"]', (1, 3), "invalid \\u escape", None),
    ('["a\tb"]', (1, 4), "control character U+0009 (tab)", "\\t"),
    ('["x\\ud800"]', (1, 4), "half of a UTF-16 surrogate pair", None),
    ('["a\x01"]', (1, 4), "control character U+0001", None),
    ('{"a": 1 /* open', (1, 9), "unterminated comment", "*/"),
    ('[01]', (1, 2), "leading zero", None),
    ('[.5]', (1, 2), "no digit before the '.'", "0.5"),
    ('[1.]', (1, 2), "ends with '.'", None),
    ('[+1]', (1, 2), "leading '+'", None),
    ('[0x1F]', (1, 2), "hexadecimal", None),
    ('[1e]', (1, 2), "empty exponent", None),
    ('[1e999]', (1, 2), "too large", None),
    ('{"a": 1 # note\n}', (1, 9), "'#' is not a comment", "//"),
    ('{"a": / 1}', (1, 7), "a lone '/'", "//"),
    ('[\u00a01]', (1, 2), "non-breaking space", "ordinary space"),
    ('[\u201cx\u201d]', (1, 2), "typographic quote", None),
    ('', (1, 1), "holds no JSON value", None),
    ('  // only a comment\n', (2, 1), "holds no JSON value", None),
])
def test_error_messages_and_positions(text: str, pos: tuple[int, int], words: str, hint_words: str | None) -> None:
    message, at, hint = only_error(text)
    assert at == pos, message
    assert words in message
    if hint_words is not None:
        assert hint is not None and hint_words in hint


def test_errors_use_code_aib700() -> None:
    _, diags = load('{"a": <x>}')
    assert [d.code for d in diags] == ["AIB700"]
    assert diags.items[0].span is not None and diags.items[0].span.end_col == 10  # the whole token


def test_missing_comma_error_names_where_the_next_value_starts() -> None:
    message, _, _ = only_error('{\n  "a": "x"\n  "b": 1\n}')
    assert "next value starts at line 3:3" in message


def test_many_duplicate_keys_are_reported_up_to_a_limit() -> None:
    text = "{" + ",".join('"a": 1' for _ in range(100)) + "}"
    node, diags = load(text)
    assert to_plain(node) == {"a": 1}  # type: ignore[arg-type]
    assert [d.code for d in diags] == ["AIB701"] * 21
    assert "79 more duplicate keys" in diags.items[-1].message


# -- budgets ---------------------------------------------------------------------------------------------

def test_deep_nesting_refused_quickly_without_recursion_error() -> None:
    text = "[" * 100_000
    t0 = time.perf_counter()
    node, diags = load(text)
    assert time.perf_counter() - t0 < 5.0  # generous: far above the real time under load
    assert node is None
    assert [d.code for d in diags] == ["AIB702"]
    assert diags.items[0].span is not None and diags.items[0].span.col == 201
    assert "200" in diags.items[0].message


def test_nesting_within_the_budget_loads() -> None:
    node = ok("[" * 200 + "]" * 200)
    depth = 0
    while isinstance(node, Sequence) and node.items:
        node = node.items[0]
        depth += 1
    assert depth == 199
    mapping_text = '{"a": ' * 150 + "1" + "}" * 150
    assert ok(mapping_text) is not None


def test_hostile_flat_arrays_are_refused_in_bounded_time() -> None:
    text = "[" + "0," * (2 * 1024 * 1024 - 2) + "0]"  # just under 4 MiB, two million values
    t0 = time.perf_counter()
    node, diags = load(text)
    assert time.perf_counter() - t0 < 10  # about 1 s on a loaded 2-core runner; bounded by max_values
    assert node is None and [d.code for d in diags] == ["AIB702"]
    assert "200000" in diags.items[0].message


def test_oversized_text_refused_quickly() -> None:
    text = '{"a": "' + "x" * (4 * 1024 * 1024) + '"}'
    t0 = time.perf_counter()
    node, diags = load(text)
    assert time.perf_counter() - t0 < 5.0  # generous: far above the real time under load
    assert node is None and [d.code for d in diags] == ["AIB702"]


def test_value_count_and_number_length_budgets() -> None:
    node, diags = load("[" + ",".join(["1"] * 50) + "]", JsonBudget(max_values=20))
    assert node is None and diags.items[0].code == "AIB702"
    node, diags = load("[" + "9" * 5000 + "]")
    assert node is None and diags.items[0].code == "AIB702"


def test_parsing_time_grows_linearly_with_the_template() -> None:
    """No wall-clock threshold (a loaded machine would fail it; benchmarks/ prints the figures): a template
    four times larger takes about four times longer, never the sixteen times of a quadratic parser."""
    item = {"type": "PowerShell", "name": "step", "runElevated": True, "validExitCodes": [0, 3010],
            "inline": ["Write-Host \"hello\"", "Set-Content -Path C:\\\\temp\\\\x.txt -Value 1"]}

    def text_of(steps: int) -> str:
        doc = {"type": "Microsoft.VirtualMachineImages/imageTemplates",
               "properties": {"customize": [dict(item, name=f"s{i}") for i in range(steps)]}}
        return json.dumps(doc, indent=4)

    small, big = text_of(400), text_of(1600)
    assert len(small) > 100_000
    t_small = min(_timed(small) for _ in range(5))
    t_big = min(_timed(big) for _ in range(5))
    assert t_big / t_small < 9, (t_small, t_big)


def _timed(text: str) -> float:
    t0 = time.perf_counter()
    ok(text)
    return time.perf_counter() - t0


# -- fuzz: never raises, always either a node or an error -------------------------------------------

_ALPHABET = list('{}[]:,"\\/*-+.0123456789eEtruefalsnl <>\'\n\r\t\x00 abcxyz\u00e9\u00a0\ufeffTN')
_SEEDS = ['{"a": [1, 2.5, "x\\n"], "b": {"c": null}}', '[true, false, -0.5e3, "\\u00e9"]',
          '{"type": "Shell", /* c */ "inline": ["echo hi",],}']


def test_fuzz_random_text_never_raises() -> None:
    rng = random.Random(20240214)
    for _ in range(300):
        text = "".join(rng.choice(_ALPHABET) for _ in range(rng.randint(0, 60)))
        _assert_consistent(text)


def test_fuzz_mutated_json_never_raises() -> None:
    rng = random.Random(7)
    for _ in range(400):
        chars = list(rng.choice(_SEEDS))
        for _ in range(rng.randint(1, 4)):
            op = rng.randrange(3)
            i = rng.randrange(len(chars) + 1)
            if op == 0 and chars:
                del chars[min(i, len(chars) - 1)]
            elif op == 1:
                chars.insert(i, rng.choice(_ALPHABET))
            elif chars:
                j = rng.randrange(len(chars))
                chars[min(i, len(chars) - 1)], chars[j] = chars[j], chars[min(i, len(chars) - 1)]
        _assert_consistent("".join(chars))


def _assert_consistent(text: str) -> None:
    node, diags = load(text)
    if node is None:
        assert diags.has_errors
        for d in diags.errors:
            assert d.span is not None and d.span.line >= 1 and d.span.col >= 1
            lines = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
            assert d.span.line <= len(lines)
            assert d.span.col <= len(lines[d.span.line - 1]) + 1
    else:
        assert not diags.has_errors
        try:  # where the strict parser agrees the text is JSON, the values agree too
            expected = json.loads(text.lstrip("\ufeff"))
        except ValueError:
            return
        if not _has_duplicates(text):
            assert to_plain(node) == expected


def _has_duplicates(text: str) -> bool:
    found = False

    def hook(pairs: list[tuple[str, object]]) -> dict[str, object]:
        nonlocal found
        keys = [k for k, _ in pairs]
        found = found or len(keys) != len(set(keys))
        return dict(pairs)

    json.loads(text.lstrip("\ufeff"), object_pairs_hook=hook)
    return found
