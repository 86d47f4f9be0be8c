"""Showing diagnostics: text (`file:line:col: severity: CODE: message`), JSON or SARIF 2.1.0."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the compile path
if TYPE_CHECKING:
    from typing import TextIO

FORMATS = ("text", "json", "sarif")


def add_diagnostics_arguments(parser) -> None:  # type: ignore[no-untyped-def]
    parser.add_argument("--diagnostics-format", choices=FORMATS, default="text",
                        help="how to print diagnostics on stderr (default: text)")
    parser.add_argument("-W", "--warnings-as-errors", action="store_true",
                        help="exit 1 when there are warnings, too")
    parser.add_argument("--no-notes", action="store_true", help="do not print notes")


def _color(stream: TextIO) -> bool:
    return stream.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


def emit(diagnostics: Iterable, fmt: str = "text", stream: TextIO | None = None, *, notes: bool = True) -> None:
    stream = stream or sys.stderr
    items = [d for d in diagnostics if notes or d.severity.value != "note"]
    if fmt == "json":
        stream.write(json.dumps({"version": 1, "diagnostics": [d.to_dict() for d in items]}, indent=2) + "\n")
        return
    if fmt == "sarif":
        stream.write(json.dumps(to_sarif(items), indent=2) + "\n")
        return
    color = _color(stream)
    for d in items:
        text = d.format_text()
        if color:
            sev = d.severity.value
            code = {"error": "31", "warning": "33", "note": "36"}[sev]
            text = text.replace(f": {sev}: ", f": \x1b[1;{code}m{sev}\x1b[0m: ", 1)
        stream.write(text + "\n")


def to_sarif(items: list) -> dict:
    from aibtui.compiler.codes import CODES

    rules = []
    seen: set[str] = set()
    for d in items:
        if d.code in seen:
            continue
        seen.add(d.code)
        info = CODES.get(d.code)
        rule = {"id": d.code, "shortDescription": {"text": info.title if info else d.code}}
        if info and info.rule:
            rule["properties"] = {"seedRule": info.rule}
        rules.append(rule)
    results = []
    for d in items:
        result: dict = {
            "ruleId": d.code,
            "level": d.severity.value,
            "message": {"text": d.message + (f" (hint: {d.hint})" if d.hint else "")},
        }
        if d.span:
            s = d.span
            result["locations"] = [{"physicalLocation": {
                "artifactLocation": {"uri": s.file},
                "region": {"startLine": s.line, "startColumn": s.col,
                           "endLine": s.end_line or s.line, "endColumn": s.end_col or s.col},
            }}]
        results.append(result)
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "aibtui", "informationUri": "https://github.com/aibtui/aibtui",
                                      "rules": rules}},
                  "results": results}],
    }


def failed(diagnostics: Iterable, warnings_as_errors: bool) -> bool:
    for d in diagnostics:
        if d.severity.value == "error" or (warnings_as_errors and d.severity.value == "warning"):
            return True
    return False
