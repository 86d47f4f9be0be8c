"""The build monitor: launch a build (or re-attach to a running one) and watch it live.

A timeline of runState/runSubState with elapsed time, the customization log as it grows, cancel
with confirmation, the run outputs at the end. Polling follows dolphie: the next poll is armed only
after the last one finished, it backs off on errors (doubling, up to a minute), and it pauses while
a dialog is open on top of the monitor.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, RichLog, Static

from ..deliver import to_screen
from ..messages import RunPolled

MAX_BACKOFF = 60.0
STATE_STYLE = {"Succeeded": "bold green", "PartiallySucceeded": "bold yellow", "Failed": "bold red",
               "Canceled": "bold yellow", "Canceling": "yellow", "Running": "cyan"}


class BuildMonitorScreen(Screen[None]):
    BINDINGS = [
        Binding("c", "cancel_build", "Cancel build", id="monitor.cancel"),
        Binding("escape,q", "leave", "Back (build goes on)", id="monitor.back"),
    ]

    def __init__(self, *, path: Path | None = None, attach: str | None = None, poll: float | None = None,
                 provider: str | None = None) -> None:
        super().__init__()
        self.provider = provider  # None: the app's provider
        self._adapter: Any = None
        self.path = path
        self.name_ = attach
        self.poll_override = poll
        self.watcher: Any = None
        self.stale_start: str | None = None
        self.interval = 0.25
        self.backoff = 0.0
        self.started = time.monotonic()
        self.final: str | None = None
        self.cancel_requested = False
        self.polling = False
        self.timeline: list[tuple[str, str]] = []
        self.provider_label = ""  # "local" / "azure", learnt in the worker that starts or attaches
        self.attached = attach is not None
        self._execution_noted = False  # the "how this run executes" log line is written once

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel_build":  # only while a run goes on here
            return self.final is None and self.watcher is not None
        return True

    @property
    def adapter(self) -> Any:
        if self.provider is None:
            return self.app.adapter
        if self._adapter is None:
            from ..provider_adapter import ProviderAdapter

            self._adapter = ProviderAdapter(self.provider)
        return self._adapter

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="monitor"):
            yield Static("", id="run-head")
            with Horizontal(id="monitor-body"):
                yield Static("", id="timeline")
                yield RichLog(id="run-log", wrap=True, markup=False, highlight=False, max_lines=5000, min_width=20)
            yield Static("", id="run-outputs")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "build monitor"
        if self.name_ is not None:
            self._head(f"re-attaching to {self.name_} ...")
            self._attach_run(self.name_)
        elif self.path is not None:
            self._head(f"starting a build of {self.path.name} ...")
            self._launch(self.path)

    # -- start -------------------------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="launch")
    def _launch(self, path: Path) -> None:
        from ..provider_adapter import AdapterError

        adapter = self.adapter
        try:
            launch = adapter.launch(path)
            watcher = adapter.watcher(launch.name)
            interval = adapter.poll_interval()
            self.provider_label = str(adapter.provider)
        except AdapterError as exc:
            to_screen(self, self._failed_to_start, str(exc))
            return
        to_screen(self, self._started, launch.name, watcher, interval, launch.stale_start, launch.notes,
                                  launch.local)

    @work(thread=True, exclusive=True, group="launch")
    def _attach_run(self, name: str) -> None:
        from ..provider_adapter import AdapterError

        adapter = self.adapter
        try:
            watcher = adapter.watcher(name)
            interval = adapter.poll_interval()
            local = adapter.provider == "local"
            self.provider_label = str(adapter.provider)
        except AdapterError as exc:
            to_screen(self, self._failed_to_start, str(exc))
            return
        to_screen(self, self._started, name, watcher, interval, None, [f"attached to {name}"], local)

    def _failed_to_start(self, problem: str) -> None:
        self.final = "NotStarted"
        self._head(Text.assemble(("✗ the build did not start: ", "bold red"), problem.splitlines()[0]))
        log = self.query_one("#run-log", RichLog)
        for line in problem.splitlines():
            log.write(line)

    def _started(self, name: str, watcher: Any, interval: float, stale: str | None, notes: list[str],
                 local: bool) -> None:
        self.name_ = name
        self.watcher = watcher
        self.interval = self.poll_override or interval
        self.stale_start = stale
        self.started = time.monotonic()
        log = self.query_one("#run-log", RichLog)
        for note in notes:
            log.write(f"· {note}")
        if local:
            log.write("· the local service runs this build: the header says whether its steps are executed (Linux, "
                      "with a root filesystem and a sandbox) or simulated (nothing is run)")
        self._head(f"{name}: run started, waiting for the service ...")
        self.set_interval(1.0, self._tick)
        self._arm(0.0)

    # -- polling ---------------------------------------------------------------------------------------------
    def _arm(self, delay: float) -> None:
        if self.final is None:
            self.set_timer(max(delay, 0.01), self._poll_now)

    def _poll_now(self) -> None:
        if self.final is not None or self.watcher is None:
            return
        if self.app.screen is not self:  # a dialog is open: wait until it closes
            self._arm(self.interval)
            return
        self.polling = True
        self._poll()

    @work(thread=True, exclusive=True, group="poll")
    def _poll(self) -> None:
        from ..provider_adapter import AdapterError

        try:
            update = self.adapter.poll(self.watcher)
        except AdapterError as exc:
            self.post_message(RunPolled(None, str(exc)))
            return
        self.post_message(RunPolled(update))

    def on_run_polled(self, message: RunPolled) -> None:
        self.polling = False
        if message.error is not None:
            self.backoff = min(MAX_BACKOFF, max(self.interval, self.backoff * 2 or self.interval * 2))
            self.query_one("#run-log", RichLog).write(f"! poll failed ({message.error.splitlines()[0]}); "
                                                      f"retrying in {self.backoff:.1f}s")
            self._arm(self.backoff)
            return
        self.backoff = 0.0
        upd = message.update
        st = upd.status
        log = self.query_one("#run-log", RichLog)
        if upd.log_note:
            log.write(f"· {upd.log_note.splitlines()[0]}")
        if st is None or (self.stale_start is not None and self.watcher.raw_start == self.stale_start):
            self.watcher.reset()
            self._arm(self.interval)
            return
        self.stale_start = None
        if self.attached:  # re-attached: the phases seen before in this session come back first
            self.attached = False
            earlier = self._timelines().get(self.name_ or "")
            if earlier and earlier[0] == self.watcher.raw_start:
                self.timeline = list(earlier[1]) + self.timeline
        self._note_execution(st, log)
        for line in upd.log_lines:
            log.write(line)
        if upd.changed:
            from ..provider_adapter import format_elapsed

            label = st.state or "?"
            if st.sub_state and not st.done:
                label += f" / {st.sub_state}"
            if st.done and self.mode == "simulated":
                label += " (simulated)"
            if not self.timeline or self.timeline[-1][1] != label:
                self.timeline.append((format_elapsed(st.elapsed()), label))
            self._draw_timeline(st.message)
            self._remember_timeline()
        if self.watcher.done:
            self._finished(st)
            return
        self._arm(self.interval)

    def _note_execution(self, st: Any, log: RichLog) -> None:
        """Say once how the run executes: read from the status's structured field, never its message."""
        ex = getattr(st, "execution", None)
        if ex is None or self._execution_noted:
            return
        self._execution_noted = True
        if getattr(st, "simulated", False):
            log.write(f"· SIMULATED run: no step is executed ({ex.reason or 'no reason given'})")
        else:
            log.write(f"· steps are executed in the {ex.sandbox or 'local'} sandbox")

    def _tick(self) -> None:
        st = getattr(self.watcher, "status", None)
        if st is None or self.final is not None:
            return
        self._head_status(st)

    @property
    def simulated(self) -> bool:
        return self.mode == "simulated"

    @property
    def mode(self) -> str:
        """"executed", "simulated" or "" (not known yet), from the run's structured status."""
        return str(getattr(self.watcher, "execution_mode", "") or "")

    def _timelines(self) -> dict[str, tuple[str | None, list[tuple[str, str]]]]:
        store = getattr(self.app, "run_timelines", None)
        return store if isinstance(store, dict) else {}

    def _remember_timeline(self) -> None:
        store = getattr(self.app, "run_timelines", None)
        if isinstance(store, dict) and self.name_ and self.watcher is not None:
            store[self.name_] = (self.watcher.raw_start, list(self.timeline))

    def _where(self) -> Text:
        """On which provider, with which identity, and whether steps really run."""
        out = Text()
        if self.provider_label:
            out.append(f"  on {self.provider_label}", style="dim")
        ident = str(getattr(self.watcher, "identity", "") or "")
        if ident:
            out.append(f" as {ident}", style="dim")
        if self.mode == "simulated":
            out.append("  SIMULATED: no step is executed", style="bold yellow")
        elif self.mode == "executed" and self.provider_label == "local":
            out.append("  executed in a local sandbox", style="green")
        return out

    def _head_status(self, st: Any) -> None:
        from ..provider_adapter import format_elapsed

        state = st.state or "?"
        sub = f" / {st.sub_state}" if st.sub_state and not st.done else ""
        if st.done and self.mode == "simulated":
            sub = " (simulated)"
        self._head(Text.assemble((f"{self.name_}  ", "bold"), (state + sub, STATE_STYLE.get(state, "")),
                                 (f"  {format_elapsed(st.elapsed())}", "dim"), self._where(),
                                 ("  · c cancels · Esc goes back (the build goes on)", "dim")
                                 if not st.done else ""))

    def _draw_timeline(self, message: str = "") -> None:
        """One line per phase; when the timeline is narrow (it is a share of the terminal's width),
        "Running / Customizing" is shown as "Customizing"."""
        widget = self.query_one("#timeline", Static)
        room = widget.content_region.width or 999
        lines = Text()
        if self.simulated:
            lines.append("simulated: nothing executes\n", style="bold yellow")
        for when, label in self.timeline:
            state = label.split(" /")[0].split(" (")[0]
            shown = label
            if len(when) + 1 + len(label) > room and label.startswith("Running / "):
                shown = label[len("Running / "):]
            lines.append(f"{when} ", style="dim")
            lines.append(f"{shown}\n", style=STATE_STYLE.get(state, ""))
        widget.update(lines)

    def on_resize(self) -> None:
        if self.timeline:
            self.call_after_refresh(self._draw_timeline)

    def _finished(self, st: Any) -> None:
        self.final = st.state
        self.refresh_bindings()  # c (cancel) no longer applies
        self._head_status(st)
        summary = {"Succeeded": "✓ build succeeded", "PartiallySucceeded": "build partly succeeded",
                   "Failed": "✗ build failed", "Canceled": "build canceled"}.get(st.state or "", st.state or "?")
        simulated = self.mode == "simulated"
        if simulated and st.state == "Succeeded":
            summary = "✓ simulated build finished: no step was executed, no image was made"
        elif simulated:
            summary += " (simulated run)"
        log = self.query_one("#run-log", RichLog)
        log.write(f"· {summary}: {st.message}")
        self.notify(summary, severity="information" if st.state == "Succeeded" and not simulated else "warning")
        if st.state in ("Succeeded", "PartiallySucceeded"):
            self._outputs(self.name_)
        else:
            self.query_one("#run-outputs", Static).update(Text(f"{summary}: {st.message}",
                                                               style=STATE_STYLE.get(st.state or "", "")))

    @work(thread=True, exclusive=True, group="outputs")
    def _outputs(self, name: str) -> None:
        from ..provider_adapter import AdapterError

        try:
            outs = self.adapter.run_outputs(name)
        except AdapterError as exc:
            said = f"run outputs: {exc}"  # (exc is unbound once the except block ends)
            to_screen(self, lambda: self.query_one("#run-outputs", Static).update(said))
            return
        text = Text("run outputs" + (" (simulated: placeholders, no image exists)" if self.mode == "simulated"
                                     else "") + "\n", style="bold")
        for out_name, what in outs:
            text.append(f"  {out_name}  ", style="bold")
            text.append(f"{what}\n")
        if not outs:
            text.append("  (none)\n", style="dim")
        to_screen(self, lambda: self.query_one("#run-outputs", Static).update(text))

    def _head(self, text: str | Text) -> None:
        self.query_one("#run-head", Static).update(text)

    # -- cancel, leave -------------------------------------------------------------------------------------------
    def action_cancel_build(self) -> None:
        if self.final is not None or self.name_ is None or self.watcher is None:
            self.notify("no build is running here")
            return
        from .confirm import ConfirmScreen

        def decide(choice: str | None) -> None:
            if choice == "yes":
                self.cancel_requested = True
                self._cancel(self.name_)

        self.app.push_screen(ConfirmScreen(f"Cancel the build of {self.name_}? Its run outputs are removed.",
                                           (("yes", "Cancel the build"), ("no", "Keep building")),
                                           title="Cancel build"), decide)

    @work(thread=True, exclusive=True, group="cancel")
    def _cancel(self, name: str) -> None:
        from ..provider_adapter import AdapterError

        try:
            self.adapter.cancel(name)
        except AdapterError as exc:
            self.app.call_from_thread(self.notify, f"cancel failed: {exc}", severity="error")
            return
        to_screen(self, lambda: self.query_one("#run-log", RichLog).write("· cancel requested"))

    def action_leave(self) -> None:
        if self.final is None and self.name_:
            self.notify(f"the build goes on; re-attach from Templates (Ctrl+T) or `aibtui status {self.name_} --watch`")
        self.final = self.final or "detached"
        self.app.pop_screen()
