"""Checking a TemplateModel: the official ARM schema of its apiVersion, then the seed rules."""

from __future__ import annotations

from .diagnostics import DiagnosticBag
from .model import TemplateModel


def check_model(model: TemplateModel, diags: DiagnosticBag, *, schema_engine: str = "builtin") -> None:
    from .rules import run_rules
    from .schema import validate_schema

    validate_schema(model, diags, engine=schema_engine)
    run_rules(model, diags)
