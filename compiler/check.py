"""Checking a TemplateModel: the official ARM schema of its apiVersion, then the seed rules."""

from __future__ import annotations

from . import code_ids as C
from .diagnostics import Diagnostic, DiagnosticBag, Severity
from .model import RESOURCE_TYPE, TemplateModel
from .rules import run_rules  # (whoever imports this module is about to check: no lazy import per call)
from .schema import validate_schema


def check_model(model: TemplateModel, diags: DiagnosticBag, *, schema_engine: str = "builtin",
                placeholders: bool = True) -> None:
    """The schema, then the rules. ``placeholders=False``: the caller runs the `<placeholder>` scan
    itself once it has the JSON text (``rules.check_placeholders``)."""
    before = len(diags.items)
    validate_schema(model, diags, engine=schema_engine)
    if model.coerced:
        _quote_it(model, diags, before)
    _type_case(model, diags, before)
    middle = len(diags.items)
    run_rules(model, diags, placeholders=placeholders)
    _said_once(diags, before, middle)


def _said_once(diags: DiagnosticBag, start: int, middle: int) -> None:
    """A rule finding at the same place, for the same seed rule, as a schema error is dropped."""
    schema_errors = {(d.span, d.rule) for d in diags.items[start:middle]
                     if d.severity is Severity.ERROR and d.rule}
    if not schema_errors:
        return
    kept = [d for d in diags.items[middle:] if (d.span, d.rule) not in schema_errors]
    del diags.items[middle:]
    diags.items.extend(kept)


def _type_case(model: TemplateModel, diags: DiagnosticBag, start: int) -> None:
    """S-01: a resource type written in another case is one warning (AIB001, from the rules), as on
    import; ARM compares resource types without regard to case, so the schema's enum error goes."""
    value = model.doc.get("type")
    if not isinstance(value, str) or value == RESOURCE_TYPE or value.lower() != RESOURCE_TYPE.lower():
        return
    span = model.span_at(("type",))
    kept = [d for d in diags.items[start:] if not (d.code == C.AIB504 and d.span == span)]
    del diags.items[start:]
    diags.items.extend(kept)


def _quote_it(model: TemplateModel, diags: DiagnosticBag, start: int) -> None:
    """A schema type error on a value YAML 1.1 converted (`sku: no`) becomes "quote it" (AIB104)."""
    for i in range(start, len(diags.items)):
        d = diags.items[i]
        if d.span in model.coerced and d.severity is Severity.ERROR and "string" in d.message:
            raw, became = model.coerced[d.span]
            diags.items[i] = Diagnostic(
                code=C.AIB104, severity=Severity.ERROR, span=d.span, rule=d.rule,
                message=f"`{raw}` was read as {became}, but a string is needed here ({d.message})",
                hint=f"quote the value so it stays a string: '{raw}'")
