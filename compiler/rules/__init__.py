"""Semantic rules of the seed document (shared/seed/REQUIREMENTS.md), one module per area (being written)."""

from __future__ import annotations

from ..diagnostics import DiagnosticBag
from ..model import TemplateModel


def run_rules(model: TemplateModel, diags: DiagnosticBag) -> None:
    return None
