"""Diagnostic codes for the seed-document rules (AIB0xx) and extra lint warnings (AIB6xx)."""

from __future__ import annotations

from .codeinfo import CodeInfo

E, W, N = "error", "warning", "note"

RULE_CODES: dict[str, CodeInfo] = {
}
