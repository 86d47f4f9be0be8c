"""Validation against the official ARM JSON schema of the model's apiVersion (being written)."""

from __future__ import annotations

from .diagnostics import DiagnosticBag
from .model import TemplateModel


def validate_schema(model: TemplateModel, diags: DiagnosticBag, *, engine: str = "builtin") -> None:
    return None
