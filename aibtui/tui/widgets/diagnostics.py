"""The editor's diagnostics: one row per diagnostic (the first highlighted), and for the highlighted
one its code, severity, rule id, message, hint and where to read more (`aibtui explain CODE`).

Enter posts ``DiagnosticChosen``; the editor decides where the fix happens (a form or the YAML tab).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ..messages import DiagnosticChosen
from .lists import KeyList
from .rows import row

SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "note": "cyan"}


class DiagnosticsPanel(Vertical):
    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self.diagnostics: list[Any] = []

    def compose(self) -> ComposeResult:
        yield KeyList(id="diag-list")
        yield Static("", id="diag-detail")

    def show(self, diagnostics: list[Any], own_file: str) -> None:
        self.diagnostics = list(diagnostics)
        ol = self.query_one("#diag-list", OptionList)
        ol.clear_options()
        for i, d in enumerate(self.diagnostics):
            where = f"{d.span.line}:{d.span.col}" if d.span and d.span.file == own_file else \
                (f"{Path(d.span.file).name}:{d.span.line}" if d.span else "-")
            sev = d.severity.value
            line = row((f"{sev:<7} ", SEVERITY_STYLE.get(sev, "")), (f"{d.code} ", "bold"), (f"{where:<8} ", "dim"),
                       d.message)
            ol.add_option(Option(line, id=f"d-{i}"))
        if not self.diagnostics:
            ol.add_option(Option(Text("no diagnostics: the template compiles cleanly", style="green"), disabled=True))
        else:
            ol.highlighted = 0  # the first row is the one Enter acts on
        self._show_detail()

    @property
    def current(self) -> Any:
        """The highlighted diagnostic, or None."""
        ol = self.query_one("#diag-list", OptionList)
        if ol.highlighted is None or ol.highlighted >= ol.option_count:
            return None
        oid = ol.get_option_at_index(ol.highlighted).id or ""
        return self.diagnostics[int(oid[2:])] if oid.startswith("d-") else None

    def _show_detail(self) -> None:
        d = self.current
        detail = self.query_one("#diag-detail", Static)
        if d is None:
            detail.update("")
            return
        hint = d.hint
        if not hint:
            from aibtui.compiler.rule_codes import RULE_CODES

            info = RULE_CODES.get(d.code)
            hint = getattr(info, "hint", None) if info is not None else None
        text = Text.assemble((f"{d.code}", "bold"), (f" {d.severity.value}", "dim"),
                             (f"  rule {d.rule}" if d.rule else "", "cyan"), ": ", d.message)
        if hint:
            text.append("\nhint: ", style="bold green")
            text.append(str(hint))
        text.append(f"\nEnter jumps to it · more: aibtui explain {d.code}", style="dim")
        detail.update(text)

    @on(OptionList.OptionHighlighted, "#diag-list")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        self._show_detail()

    @on(OptionList.OptionSelected, "#diag-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if self.current is not None:
            self.post_message(DiagnosticChosen(self.current))
