"""The editor's Preview: the compiled JSON, highlighted (or why there is none)."""

from __future__ import annotations

from typing import Any

from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static


class CompiledPreview(VerticalScroll):
    def compose(self) -> ComposeResult:
        yield Static("compiling ...", id="json")

    def show(self, result: Any) -> None:
        view = self.query_one("#json", Static)
        if result.problem:
            view.update(Text(result.problem, style="bold red"))
        elif result.json:
            view.update(Syntax(result.json, "json", theme="ansi_dark", background_color="default",
                               line_numbers=False, word_wrap=False))
        else:
            view.update(Text("no JSON: the file has errors (below)", style="bold red"))
