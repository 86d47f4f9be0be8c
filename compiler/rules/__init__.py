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


def run_rules(model: TemplateModel, diags: DiagnosticBag) -> None:
    """Run every rule area over ``model``, adding diagnostics to ``diags``."""
    ctx = RuleContext.build(model, diags)
    for area in _AREAS:
        area.check(ctx)


__all__ = ["infer_os_family", "run_rules"]
