"""Diagnostic codes for the official ARM schema and apiVersion gating (AIB5xx)."""

from __future__ import annotations

from .codeinfo import CodeInfo

E, W, N = "error", "warning", "note"

SCHEMA_CODES: dict[str, CodeInfo] = {
    "AIB500": CodeInfo(E, None, "value does not match the official schema of the apiVersion"),
}
