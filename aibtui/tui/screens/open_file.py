"""Open a template: a fuzzy finder over the project's ``**/*.aib.yaml`` (paths relative to the
project), recent files first, and "New template" (the onboarding) at the end.

Dismisses with the chosen path (absolute), the string ``"new"`` for a new template, or None.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from ..deliver import to_screen
from ..fuzzy import FuzzyIndex


class OpenScreen(ModalScreen[Path | str | None]):
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="open.cancel"),
        Binding("ctrl+o", "new", "New template", id="open.new"),
        Binding("down", "cursor(1)", "Down", show=False, id="open.down"),
        Binding("up", "cursor(-1)", "Up", show=False, id="open.up"),
        Binding("pagedown", "cursor(10)", "Page down", show=False, id="open.pagedown"),
        Binding("pageup", "cursor(-10)", "Page up", show=False, id="open.pageup"),
    ]

    def __init__(self, folder: Path, *, files: list[str] | None = None, can_cancel: bool = True) -> None:
        super().__init__()
        self.folder = folder
        self.files: list[str] = list(files or [])
        self.recent: list[str] = []
        self.can_cancel = can_cancel  # False when nothing is beneath (the start-up choice)
        self.index = FuzzyIndex([])
        self.shown: list[int] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="picker"):
            yield Static("Open a template", classes="dialog-title")
            yield Input(placeholder="type to filter the project's *.aib.yaml files", id="open-filter")
            yield OptionList(id="open-files")
            yield Static("", id="open-status", classes="hint")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#open-files", OptionList).can_focus = False  # keys stay in the filter
        self.query_one("#open-filter", Input).focus()
        self._status("looking for *.aib.yaml files ...")
        self._scan()

    @work(thread=True, exclusive=True, group="open-scan")
    def _scan(self) -> None:
        from ..recent import find_templates, recent_files

        try:
            found = find_templates(self.folder)
        except OSError:
            found = []
        recent = recent_files(self.folder)
        to_screen(self, self._scanned, found, recent)

    def _scanned(self, found: list[str], recent: list[str]) -> None:
        recent = [f for f in recent if f in set(found)]
        self.recent = recent
        self.files = recent + [f for f in found if f not in set(recent)]
        self.index = FuzzyIndex(self.files)
        n = len(found)
        self._status(f"{n} template{'s' if n != 1 else ''} in {self.folder.name or self.folder} · Enter opens · "
                     "Esc closes")
        self.apply_filter(self.query_one("#open-filter", Input).value)

    def _status(self, text: str) -> None:
        self.query_one("#open-status", Static).update(text)

    def apply_filter(self, query: str) -> None:
        ol = self.query_one("#open-files", OptionList)
        self.shown = self.index.filter(query, limit=500)
        ol.clear_options()
        recent = set(self.recent)
        for i in self.shown:
            f = self.files[i]
            label = Text.assemble((f, "bold"), ("  recent", "dim") if f in recent else "")
            ol.add_option(Option(label, id=str(i)))
        ol.add_option(Option(Text.assemble(("+ New template", "bold yellow"), ("  the guided onboarding (Ctrl+O)",
                                                                               "dim")), id="new"))
        ol.highlighted = 0

    @on(Input.Changed, "#open-filter")
    def _changed(self, event: Input.Changed) -> None:
        self.apply_filter(event.value)

    @on(Input.Submitted, "#open-filter")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._choose()

    @on(OptionList.OptionSelected, "#open-files")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._choose()

    def _choose(self) -> None:
        ol = self.query_one("#open-files", OptionList)
        if ol.highlighted is None:
            return
        oid = ol.get_option_at_index(ol.highlighted).id
        if oid == "new":
            self.dismiss("new")
        elif oid is not None:
            self.dismiss(self.folder / self.files[int(oid)])

    def action_cursor(self, delta: int) -> None:
        ol = self.query_one("#open-files", OptionList)
        if ol.option_count == 0:
            return
        current = ol.highlighted if ol.highlighted is not None else 0
        ol.highlighted = (current + delta) % ol.option_count if abs(delta) == 1 else \
            max(0, min(ol.option_count - 1, current + delta))

    def action_new(self) -> None:
        self.dismiss("new")

    def action_cancel(self) -> None:
        if self.can_cancel:
            self.dismiss(None)
        else:
            self.notify("choose a template, or + New template; Ctrl+Q quits")
