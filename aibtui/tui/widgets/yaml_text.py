"""The editor's YAML tab: the whole file as text, so every error can be fixed in the TUI.

The user's edits post ``TextEdited``; text the editor puts here (``show``) does not echo back.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static, TextArea

from ..messages import TextEdited

IDLE = "the whole file as text: edits apply as you type (when the YAML parses) · Ctrl+S saves · Ctrl+Z undoes"


class YamlTextPanel(Vertical):
    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self._loading = False

    def compose(self) -> ComposeResult:
        yield TextArea("", id="yaml-text", soft_wrap=False, show_line_numbers=True, tab_behavior="indent")
        yield Static(IDLE, id="yaml-problem", classes="hint")

    @property
    def area(self) -> TextArea:
        return self.query_one("#yaml-text", TextArea)

    def show(self, text: str) -> None:
        if self.area.text != text:
            self._loading = True
            self.area.load_text(text)

    def goto(self, line: int, col: int) -> None:
        """Put the cursor on 1-based ``line``/``col`` (clamped) and bring it into view."""
        area = self.area
        last = max(0, area.document.line_count - 1)
        area.cursor_location = (min(max(0, line - 1), last), max(0, col - 1))
        area.scroll_cursor_visible(center=True)
        area.focus()

    def say(self, ok: bool, message: str) -> None:
        self.query_one("#yaml-problem", Static).update(Text(message, style="green" if ok else "bold red"))

    @on(TextArea.Changed, "#yaml-text")
    def _changed(self, event: TextArea.Changed) -> None:
        event.stop()
        if self._loading:
            self._loading = False
            return
        self.post_message(TextEdited(event.text_area.text))
