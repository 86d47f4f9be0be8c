"""Shared helpers for the TUI tests (no tests here): waiting in a Pilot, a fake provider adapter,
an in-process local service on a temporary state dir."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aibtui.arm.watch import RunStatus, Update
from aibtui.tui.provider_adapter import ImageEntry, Launch, TemplateRow

RG = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers"

HAND = f"""\
# Hand-written by the platform team: keep these notes.
extends: ubuntu-22.04-gen2   # Jammy, gen2

name: web
location: westus2
identity: {RG}/Microsoft.ManagedIdentity/userAssignedIdentities/aib
build: {{vmSize: Standard_D2s_v3, timeout: 90m}}

customize:
  # packages first, always
  - name: packages
    shell: |
      sudo apt-get update
      sudo apt-get install -y nginx
  - name: motd          # a greeting for ops
    shell: echo hi | sudo tee /etc/motd
  - name: config
    file: {{from: "https://example.com/a.conf", to: /tmp/a.conf}}

# where it goes
distribute:
  - managedImage: {RG}/Microsoft.Compute/images/web
"""


async def wait_until(pilot: Any, cond: Callable[[], bool], timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if cond():
                return
        except Exception:  # noqa: BLE001 - a widget not there yet
            pass
        await pilot.pause(0.05)
    raise AssertionError(f"timed out waiting for {what or cond}")


async def settle(pilot: Any) -> None:
    """Before a snapshot: every pending message handled and every animation done (not a fixed sleep),
    and no blinking cursor (its phase would depend on when the picture is taken)."""
    for widget in pilot.app.screen.query("Input, TextArea"):
        widget.cursor_blink = False
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


@contextmanager
def service(tmp_path: Path, monkeypatch: Any, **settings: Any) -> Iterator[Any]:
    """The local service in-process on a temp state dir (as the ops tests do); always stopped."""
    from service_support import FAST, local_service

    state = tmp_path / "state"
    monkeypatch.setenv("AIBTUI_STATE_DIR", str(state))
    monkeypatch.delenv("AIBTUI_PROVIDER", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    with local_service(state, replace(FAST, **settings)) as svc:
        yield svc


T0 = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)


class FakeWatcher:
    """Replays a fixed run: deterministic states and times for snapshots."""

    STEPS = (("Running", "Queued"), ("Running", "Building"), ("Running", "Customizing"),
             ("Running", "Distributing"), ("Succeeded", None))

    def __init__(self, name: str, final: str = "Succeeded") -> None:
        self.name = name
        self.i = 0
        self.status: RunStatus | None = None
        self.raw_start = "t0"
        self.final = final
        self.done = False

    def reset(self) -> None:
        pass

    def poll(self) -> Update:
        state, sub = self.STEPS[min(self.i, len(self.STEPS) - 1)]
        if state == "Succeeded":
            state = self.final
        end = T0 + timedelta(seconds=42 if sub is None else 7 * self.i)  # fixed times: stable snapshots
        self.status = RunStatus(state, sub, "simulated" if sub is None else "", T0, end)
        lines = [f"step {self.i}: {sub or state}"]
        self.i += 1
        self.done = sub is None
        return Update(self.status, True, lines)


class FakeAdapter:
    provider = "local"

    def __init__(self, entries: list[ImageEntry] | None = None) -> None:
        self.entries = entries or []
        self.canceled: list[str] = []

    def location(self) -> str:
        return "westus2"

    def image_level(self, parts: tuple[str, ...]) -> list[ImageEntry]:
        return self.entries

    def list_templates(self) -> list[TemplateRow]:
        return [TemplateRow("web", "Succeeded", "Succeeded", "", "westus2", False),
                TemplateRow("win", "Succeeded", "Running", "Customizing", "westeurope", True)]

    def launch(self, path: Path, *, replace: bool = True) -> Launch:
        return Launch("web", None, ["template web created"], local=True)

    def watcher(self, name: str) -> FakeWatcher:
        return FakeWatcher(name)

    def poll(self, watcher: FakeWatcher) -> Update:
        return watcher.poll()

    def cancel(self, name: str) -> None:
        self.canceled.append(name)

    def run_outputs(self, name: str) -> list[tuple[str, str]]:
        return [("web", f"{RG}/Microsoft.Compute/images/web")]

    def poll_interval(self) -> float:
        return 0.01


def record_toasts(app: Any) -> list[str]:
    """Every toast's text (Textual drops a toast from app._notifications when it times out)."""
    said: list[str] = []
    notify = app.notify

    def recording(message: str, *args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        said.append(str(message))
        return notify(message, *args, **kwargs)

    app.notify = recording  # type: ignore[method-assign]
    return said
