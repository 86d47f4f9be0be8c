"""Semantic rules of the seed document (shared/seed/REQUIREMENTS.md), one module per area.

The official ARM schema (types, enums, ranges, required and unknown keys, apiVersion gating) is
checked elsewhere (compiler/schema.py); these rules check what a schema cannot express. They read
``model.doc``, never mutate it, never raise on a partial or wrongly typed document, and skip
literal checks on ARM expressions and ``<placeholders>``. Codes: compiler/rule_codes.py;
reference: docs/rules.md.
"""

from __future__ import annotations

from ..diagnostics import DiagnosticBag
from ..model import TemplateModel
from . import build, customize, distribute, files, generalize, identity, lint, skeleton, source, windows
from .context import RuleContext
from .osfamily import infer_os_family

_AREAS = (skeleton, identity, source, build, customize, windows, files, generalize, distribute, lint)


def run_rules(model: TemplateModel, diags: DiagnosticBag, *, placeholders: bool = True) -> None:
    """Run every rule area over ``model``, adding diagnostics to ``diags``.

    ``placeholders=False`` leaves out the `<placeholder>` scan (AIB602, a warning): the compile
    pipeline runs it after emitting, on the JSON text it has then (:func:`check_placeholders`).
    """
    ctx = RuleContext.build(model, diags)
    for area in _AREAS:
        area.check(ctx)
    if placeholders:
        lint.scan_placeholders(ctx)


def check_placeholders(model: TemplateModel, diags: DiagnosticBag, text: str | None = None) -> None:
    """The `<placeholder>` scan (AIB602) alone. ``text``: the emitted JSON of the whole document,
    when there is one: no ``<`` in it (JSON escapes none) means no placeholder, without encoding the
    document again."""
    lint.scan_placeholders(RuleContext(model, diags, model.os_family), text)


__all__ = ["check_placeholders", "infer_os_family", "run_rules"]
