"""The one diagnostics type shared by every stage and every front end.

Nothing in the compiler prints or exits: stages add :class:`Diagnostic` objects to a
:class:`DiagnosticBag`, and the CLI / TUI decide how to show them.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterator
from enum import StrEnum

from .codes import CODES
from .errors import AibtuiError
from .records import dataclass, field

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the compile path
if TYPE_CHECKING:
    from typing import Any, NamedTuple

    class _SpanFields(NamedTuple):
        file: str
        line: int
        col: int
        end_line: int = 0
        end_col: int = 0
else:  # the class typing.NamedTuple would build, without importing typing
    _SpanFields = namedtuple("_SpanFields", ("file", "line", "col", "end_line", "end_col"), defaults=(0, 0))


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"

    @property
    def rank(self) -> int:
        return {"error": 0, "warning": 1, "note": 2}[self.value]


class Span(_SpanFields):
    """A source range. Lines and columns are 1-based; end is inclusive-exclusive like an editor.

    A named tuple (file, line, col, end_line=0, end_col=0), not a dataclass: the loader makes one
    per YAML event, and tuples are cheap.
    """

    __slots__ = ()

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "col": self.col,
            "endLine": self.end_line or self.line,
            "endCol": self.end_col or self.col,
        }


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: str
    severity: Severity
    message: str
    span: Span | None = None
    rule: str | None = None
    hint: str | None = None

    def format_text(self) -> str:
        where = str(self.span) if self.span else "<input>"
        rule = f" [{self.rule}]" if self.rule else ""
        text = f"{where}: {self.severity.value}: {self.code}: {self.message}{rule}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "rule": self.rule,
            "hint": self.hint,
            "span": self.span.to_dict() if self.span else None,
        }

    def sort_key(self) -> tuple[Any, ...]:
        s = self.span
        return (s.file if s else "", s.line if s else 0, s.col if s else 0, self.severity.rank, self.code)


@dataclass
class DiagnosticBag:
    """Collects diagnostics. Severity and seed rule id default to the code's entry in CODES."""

    items: list[Diagnostic] = field(default_factory=list)

    def add(
        self,
        code: str,
        message: str,
        span: Span | None = None,
        *,
        hint: str | None = None,
        severity: Severity | None = None,
        rule: str | None = None,
    ) -> Diagnostic:
        info = CODES.get(code)
        if info is None:
            raise KeyError(f"diagnostic code {code} is not registered in codes.py")
        diag = Diagnostic(
            code=code,
            severity=severity or Severity(info.severity),
            message=message,
            span=span,
            rule=rule if rule is not None else info.rule,
            hint=hint if hint is not None else info.hint,
        )
        self.items.append(diag)
        return diag

    def extend(self, other: DiagnosticBag | list[Diagnostic]) -> None:
        self.items.extend(other.items if isinstance(other, DiagnosticBag) else other)

    @property
    def has_errors(self) -> bool:
        return any(d.severity is Severity.ERROR for d in self.items)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity is Severity.ERROR]

    def sorted(self) -> list[Diagnostic]:
        # Stable de-duplication: the same code at the same place with the same text is said once.
        seen: set[tuple[Any, ...]] = set()
        out: list[Diagnostic] = []
        for d in sorted(self.items, key=Diagnostic.sort_key):
            key = (d.code, d.span, d.message)
            if key not in seen:
                seen.add(key)
                out.append(d)
        return out

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Diagnostic]:
        return iter(self.items)


class CompileAbort(AibtuiError):
    """Raised inside a stage when going on would only produce noise; the bag already holds why."""
