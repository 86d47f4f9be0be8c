"""Checking a TemplateModel: the official ARM schema of its apiVersion, then the seed rules."""

from __future__ import annotations

from .diagnostics import Diagnostic, DiagnosticBag, Severity
from .model import TemplateModel


def check_model(model: TemplateModel, diags: DiagnosticBag, *, schema_engine: str = "builtin") -> None:
    from .rules import run_rules
    from .schema import validate_schema

    before = len(diags.items)
    validate_schema(model, diags, engine=schema_engine)
    if model.coerced:
        _quote_it(model, diags, before)
    run_rules(model, diags)


def _quote_it(model: TemplateModel, diags: DiagnosticBag, start: int) -> None:
    """A schema type error on a value YAML 1.1 converted (`sku: no`) becomes "quote it" (AIB104)."""
    for i in range(start, len(diags.items)):
        d = diags.items[i]
        if d.span in model.coerced and d.severity is Severity.ERROR and "string" in d.message:
            raw, became = model.coerced[d.span]
            diags.items[i] = Diagnostic(
                code="AIB104", severity=Severity.ERROR, span=d.span, rule=d.rule,
                message=f"`{raw}` was read as {became}, but a string is needed here ({d.message})",
                hint=f"quote the value so it stays a string: '{raw}'")
