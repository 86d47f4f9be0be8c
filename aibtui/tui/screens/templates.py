"""Every template on the provider with its last run; Enter re-attaches to a build (or shows the last).

The list refreshes by itself while it is shown (every 2 s on the local provider, 30 s on Azure), keeping
the cursor on the same template; r refreshes at once."""

from __future__ import annotations

import time

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from ..deliver import to_screen
from ..provider_adapter import TemplateRow
from ..widgets.lists import KeyTable


class TemplatesScreen(Screen[None]):
    BINDINGS = [
        Binding("r", "refresh", "Refresh", id="templates.refresh"),
        Binding("c", "cancel_run", "Cancel run", id="templates.cancel"),
        Binding("escape,q", "app.pop_screen", "Back", id="templates.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[TemplateRow] = []
        self.busy = False
        self.every = 2.0  # seconds between refreshes: 2 on the local provider, 30 on Azure
        self.loaded_at = 0.0

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("loading templates ...", id="templates-status")
        yield KeyTable(id="templates", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "templates"
        table = self.query_one(DataTable)
        table.add_columns("Name", "Provisioning", "Last run", "Steps", "Location")
        table.focus()
        self.action_refresh()
        self.set_interval(1.0, self._refresh_tick)

    def action_refresh(self) -> None:
        self.query_one("#templates-status", Static).update("loading templates ...")
        self.busy = True
        self._load()

    def _refresh_tick(self) -> None:
        if time.monotonic() - self.loaded_at < self.every:
            return
        if self.app.screen is self and not self.busy:  # not under a dialog, not twice at once
            self.busy = True
            self._load()

    @work(thread=True, exclusive=True, group="templates")
    def _load(self) -> None:
        from ..provider_adapter import AdapterError

        try:
            rows = self.app.adapter.list_templates()
            provider = self.app.adapter.provider
        except AdapterError as exc:
            to_screen(self, self._show_error, str(exc))
            return
        to_screen(self, self._show, rows, provider)

    def _show_error(self, problem: str) -> None:
        self.busy = False
        self.query_one("#templates-status", Static).update(f"✗ {problem.splitlines()[0]}")

    def _show(self, rows: list[TemplateRow], provider: str) -> None:
        self.busy = False
        self.every = 2.0 if provider == "local" else 30.0
        self.loaded_at = time.monotonic()
        table = self.query_one(DataTable)
        keep = self.rows[table.cursor_row].name if self.rows and 0 <= table.cursor_row < len(self.rows) else None
        self.rows = rows
        table.clear()
        for r in rows:
            run = r.run_state + (f" / {r.sub_state}" if r.sub_state and r.running else "")
            steps = {"simulated": Text("SIMULATED", style="bold yellow"), "executed": Text("executed", style="green")
                     }.get(r.mode, Text("-", style="dim"))
            table.add_row(r.name, r.provisioning, run, steps, r.location, key=r.name)
        running = sum(1 for r in rows if r.running)
        self.query_one("#templates-status", Static).update(
            f"{len(rows)} template{'s' if len(rows) != 1 else ''} on {provider}"
            + (f", {running} running" if running else "") + " · Enter re-attaches · c cancels a run · refreshed "
            + ("every 2 s" if provider == "local" else "every 30 s"))
        at = next((i for i, r in enumerate(rows) if r.name == keep), None)
        if at is not None:
            table.move_cursor(row=at)
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel_run":  # only on a template whose run goes on
            row = self._current() if self.is_mounted else None
            return row is not None and row.running
        return True

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.refresh_bindings()

    def _current(self) -> TemplateRow | None:
        table = self.query_one(DataTable)
        if not self.rows or table.cursor_row is None or not 0 <= table.cursor_row < len(self.rows):
            return None
        return self.rows[table.cursor_row]

    def action_cancel_run(self) -> None:
        row = self._current()
        if row is None or not row.running:
            self.notify("no run in progress on this template")
            return
        from .confirm import ConfirmScreen

        def decide(choice: str | None) -> None:
            if choice == "yes":
                self._cancel(row.name)

        self.app.push_screen(ConfirmScreen(f"Cancel the running build of {row.name}? Its run outputs are removed.",
                                           (("yes", "Cancel the build"), ("no", "Keep building")),
                                           title="Cancel build"), decide)

    @work(thread=True, exclusive=True, group="cancel")
    def _cancel(self, name: str) -> None:
        from ..provider_adapter import AdapterError

        try:
            self.app.adapter.cancel(name)
        except AdapterError as exc:
            self.app.call_from_thread(self.notify, f"cancel failed: {exc}", severity="error")
            return
        self.app.call_from_thread(self.notify, f"cancel requested for {name}")
        to_screen(self, self.action_refresh)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        name = event.row_key.value
        if name:
            self.app.open_build(attach=str(name))
