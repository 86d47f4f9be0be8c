"""Lists that answer to j/k as well as the arrows (vi-style; the lists wrap at both ends)."""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import DataTable, OptionList


class KeyList(OptionList):
    BINDINGS = [Binding("j", "cursor_down", "Down", show=False), Binding("k", "cursor_up", "Up", show=False)]


class KeyTable(DataTable):
    BINDINGS = [Binding("j", "cursor_down", "Down", show=False), Binding("k", "cursor_up", "Up", show=False)]

    def action_cursor_down(self) -> None:
        if self.row_count and self.cursor_row >= self.row_count - 1:
            self.move_cursor(row=0)  # wrap, as the other lists do
        else:
            super().action_cursor_down()

    def action_cursor_up(self) -> None:
        if self.row_count and self.cursor_row <= 0:
            self.move_cursor(row=self.row_count - 1)
        else:
            super().action_cursor_up()
