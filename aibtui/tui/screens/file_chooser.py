"""When the folder holds several ``*.aib.yaml`` files: choose the one to edit."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option


class FileChooserScreen(Screen[None]):
    def __init__(self, files: list[Path]) -> None:
        super().__init__()
        self.files = files

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Several templates here: choose one to edit (Ctrl+O starts a new one).", classes="explain")
        yield OptionList(*[Option(p.name, id=str(i)) for i, p in enumerate(self.files)], id="files")
        yield Footer()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.app.open_editor(self.files[int(event.option.id or 0)])
