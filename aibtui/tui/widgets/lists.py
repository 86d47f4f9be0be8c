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


def fill_keeping(ol: OptionList, rows: list) -> None:
    """Replace the rows, keeping the highlight on the same item (by id), else near its place."""
    keep = ol.highlighted
    keep_id = ol.get_option_at_index(keep).id if keep is not None and keep < ol.option_count else None
    ol.clear_options()
    ol.add_options(rows)
    enabled = [i for i, r in enumerate(rows) if not r.disabled]
    if not enabled:
        return
    same = next((i for i, r in enumerate(rows) if keep_id is not None and r.id == keep_id and not r.disabled), None)
    if same is not None:
        ol.highlighted = same
    elif keep is not None:
        ol.highlighted = min(enabled, key=lambda i: abs(i - keep))
    else:
        ol.highlighted = enabled[0]


def select_id(ol: OptionList, option_id: str) -> bool:
    """Highlight the row with this id (True when found)."""
    for i in range(ol.option_count):
        if ol.get_option_at_index(i).id == option_id:
            ol.highlighted = i
            return True
    return False
