"""Diagnostic codes for existing template JSON / ARM template inputs (AIB7xx)."""

from __future__ import annotations

from .codeinfo import CodeInfo

E, W, N = "error", "warning", "note"

JSON_CODES: dict[str, CodeInfo] = {
    "AIB700": CodeInfo(E, None, "JSON syntax error"),
}
