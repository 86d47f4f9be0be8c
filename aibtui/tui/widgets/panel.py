"""The base of the editor's list panels: a list and a line of hints; Enter posts ``EditRequested``."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import OptionList, Static

from ..messages import EditRequested
from .lists import KeyList, fill_keeping, select_id


class ListPanel(Vertical):
    LIST_ID = ""
    HINT = ""

    def compose(self) -> ComposeResult:
        yield KeyList(id=self.LIST_ID)
        yield Static(self.HINT, classes="hint")

    @property
    def list(self) -> OptionList:
        return self.query_one(f"#{self.LIST_ID}", OptionList)

    @property
    def current_id(self) -> str:
        """The highlighted row's id ("" when none)."""
        ol = self.list
        opt = ol.get_option_at_index(ol.highlighted) if ol.highlighted is not None else None
        return (opt.id or "") if opt is not None else ""

    def fill(self, rows: list) -> None:
        fill_keeping(self.list, rows)

    def select(self, option_id: str) -> bool:
        return select_id(self.list, option_id)

    def focus_list(self) -> None:
        self.list.focus()

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.post_message(EditRequested(self.LIST_ID))
