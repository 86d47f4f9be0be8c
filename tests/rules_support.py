"""Shared helpers for the rule tests: run the rules on a small resource-shaped text, read positions."""

from __future__ import annotations

import textwrap

from aibtui.compiler.diagnostics import Diagnostic, DiagnosticBag
from aibtui.compiler.model import model_from_node
from aibtui.compiler.rules import run_rules
from aibtui.compiler.yamlload import load_yaml


def run_rules_on(text: str, *, api: str = "2024-02-01", os: str | None = None, generation: str | None = None,
                 origin: str = "dialect") -> list[Diagnostic]:
    """The rules' diagnostics for a template written as YAML/JSON text (dedented), positions exact."""
    diags = DiagnosticBag()
    node = load_yaml(textwrap.dedent(text).lstrip("\n"), "t.json", diags)
    assert node is not None, [d.format_text() for d in diags]
    model = model_from_node(node, "t.json", api_version=api, os_family=os, generation=generation, origin=origin)
    run_rules(model, diags)
    return diags.items


def at(diags: list[Diagnostic], code: str) -> list[str]:
    """'line:col' of every diagnostic with ``code``."""
    return [f"{d.span.line}:{d.span.col}" for d in diags if d.code == code and d.span]


def where(text: str, needle: str, nth: int = 1) -> str:
    """'line:col' of the nth occurrence of ``needle`` in ``text``."""
    idx = -1
    for _ in range(nth):
        idx = text.index(needle, idx + 1)
    line = text.count("\n", 0, idx) + 1
    return f"{line}:{idx - (text.rfind(chr(10), 0, idx) + 1) + 1}"
