"""`aibtui explain CODE`: one entry of the code registry, as text or JSON; unknown codes say so."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from aibtui.cli.main import main
from aibtui.compiler.codes import CODES

DOCS = Path(__file__).resolve().parents[1] / "docs" / "diagnostics.md"


def test_explain_prints_severity_rule_title_hint_and_docs_anchor(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "aib30"]) == 0
    out = capsys.readouterr().out
    info = CODES["AIB030"]
    assert out.startswith("AIB030  warning  [SRC-01]\n")
    assert info.title in out and f"hint: {info.hint}" in out
    assert "docs: docs/diagnostics.md#aib030" in out


def test_every_docs_anchor_exists() -> None:
    ids = set(re.findall(r'<a id="(aib\d{3})"></a>', DOCS.read_text(encoding="utf-8")))
    for code, info in CODES.items():
        anchor = info.anchor(code)
        assert anchor.startswith("docs/diagnostics.md#") and anchor.split("#")[1] in ids


def test_explain_json_and_several_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "AIB410", "417", "--format", "json"]) == 0
    items = json.loads(capsys.readouterr().out)
    assert [i["code"] for i in items] == ["AIB410", "AIB417"]
    assert items[0] == {"code": "AIB410", "severity": "error", "rule": "S-02", "title": CODES["AIB410"].title,
                        "hint": CODES["AIB410"].hint, "docs": "docs/diagnostics.md#aib410"}


def test_unknown_code_exits_1_with_a_suggestion(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "AIB0300"]) == 1
    assert main(["explain", "AIB999"]) == 1
    err = capsys.readouterr().err
    assert "'AIB999' is not a diagnostic code" in err and "--list" in err
    assert main(["explain"]) == 2


def test_list_names_every_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == sorted(CODES)
