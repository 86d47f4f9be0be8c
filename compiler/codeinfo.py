"""The shape of one entry in the diagnostic code registry (kept apart so code tables import nothing else)."""

from __future__ import annotations

from .records import dataclass


@dataclass(frozen=True, slots=True)
class CodeInfo:
    severity: str  # "error" | "warning" | "note"
    rule: str | None  # seed rule id from shared/seed/REQUIREMENTS.md, when the code enforces one
    title: str  # one line, used by docs/diagnostics.md
    hint: str | None = None  # default hint when the call site gives none

    @staticmethod
    def anchor(code: str) -> str:
        """Where the docs describe ``code``: its row in docs/diagnostics.md (generated, with an id)."""
        return f"docs/diagnostics.md#{code.lower()}"
