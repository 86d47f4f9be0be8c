"""End to end: the real `aibtui` under tmux in an empty folder.

Onboarding to a saved file that `aibtui compile` accepts, then a local build that reaches a final
state shown on screen. Keys go in with `tmux send-keys`, the screen comes back with `capture-pane`;
every wait is bounded and the tmux session (and the local service the TUI started) always ends.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux (apt-get install tmux)")

AIBTUI = Path(sys.executable).with_name("aibtui")


class Tmux:
    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        self.name = f"aibtui-e2e-{uuid.uuid4().hex[:8]}"
        self.folder = folder
        self.env = env

    def start(self, command: str) -> None:
        exports = " ".join(f"{k}={v}" for k, v in self.env.items())
        subprocess.run(["tmux", "new-session", "-d", "-s", self.name, "-x", "100", "-y", "30", "-c", str(self.folder),
                        f"env {exports} {command}"], check=True)

    def screen(self) -> str:
        proc = subprocess.run(["tmux", "capture-pane", "-p", "-t", self.name], capture_output=True, text=True)
        return proc.stdout

    def keys(self, *keys: str) -> None:
        """Send keys (in order: the app reads them in order). The caller waits for their visible effect."""
        for key in keys:
            subprocess.run(["tmux", "send-keys", "-t", self.name, key], check=True)

    def field(self) -> str | None:
        """The text in the first input box on the screen (None when there is none)."""
        lines = self.screen().splitlines()
        for i, line in enumerate(lines[:-1]):
            if "▊▔" in line:
                inner = lines[i + 1]
                return inner[inner.find("▊") + 1:inner.rfind("▎")].strip()
        return None

    def replace_text(self, text: str, timeout: float = 60.0) -> str:
        """Clear the page's input box (Ctrl+U) and type ``text``, checking the box after each send.

        Keys that reach a Textual app in its first moments can be dropped (seen here: a name typed right
        after the wizard's first paint vanished, and a burst typed into a just-cleared box too). So each
        send waits for its visible effect in the box and is repeated only when the box shows it did
        not happen: never a second burst on top of a slow first one."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.field() != "":
                subprocess.run(["tmux", "send-keys", "-t", self.name, "C-u"], check=True)
                try:
                    self.wait_until(lambda _s: self.field() == "", "the input box to clear",
                                    min(10.0, max(0.1, deadline - time.monotonic())))
                except AssertionError:
                    continue
            subprocess.run(["tmux", "send-keys", "-t", self.name, "-l", text], check=True)
            try:
                return self.wait_until(lambda _s: self.field() == text, f"{text!r} in the input box",
                                       min(10.0, max(0.1, deadline - time.monotonic())))
            except AssertionError:
                continue  # keys were dropped: clear what arrived (if anything) and type again
        raise AssertionError(f"could not type {text!r}; the screen was:\n{self.screen()}")

    def wait_until(self, cond: Callable[[str], bool], what: str, timeout: float = 30.0) -> str:
        """Poll the screen until ``cond`` holds (bounded; generous because CI machines can be loaded)."""
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if cond(screen):
                return screen
            time.sleep(0.05)  # the polling period of a bounded wait, not a guess at how long the app takes
        raise AssertionError(f"{what} did not happen within {timeout}s; the screen was:\n{screen}")

    def wait_for(self, text: str, timeout: float = 30.0) -> str:
        return self.wait_until(lambda screen: text in screen, f"{text!r} appearing", timeout)

    def wait_gone(self, text: str, timeout: float = 30.0) -> str:
        return self.wait_until(lambda screen: text not in screen, f"{text!r} going away", timeout)

    def kill(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True)


def _stop_service(state: Path) -> None:
    try:
        info = json.loads((state / "service.json").read_text())
        os.kill(int(info["pid"]), signal.SIGTERM)
    except (OSError, ValueError, KeyError):
        pass


def test_onboarding_then_local_build_under_tmux(tmp_path: Path) -> None:
    folder = tmp_path / "proj"
    folder.mkdir()
    state = tmp_path / "state"
    env = {"AIBTUI_STATE_DIR": str(state), "XDG_CONFIG_HOME": str(tmp_path / "config"), "AIBTUI_SIM_STEP_DELAY": "0.05",
           "AIBTUI_SERVICE_IDLE_MINUTES": "2", "TERM": "xterm-256color", "HOME": str(tmp_path)}
    tmux = Tmux(folder, env)
    try:
        tmux.start(str(AIBTUI))
        tmux.wait_for("1/7 Name")
        tmux.replace_text("e2e-web")
        tmux.keys("Enter")
        tmux.wait_for("2/7 Base image")
        tmux.wait_for("ubuntu-22.04-gen2")
        tmux.keys("Enter")  # the highlighted built-in profile (ubuntu-22.04-gen2)
        tmux.wait_for("3/7 Location")
        tmux.replace_text("West US")
        tmux.wait_for("lower-case letters")  # validated as you type
        tmux.replace_text("westus2")
        tmux.wait_gone("lower-case letters")  # the field is valid before Enter moves on
        tmux.keys("Enter")
        tmux.wait_for("4/7 Identity")
        tmux.wait_for("az identity create")
        tmux.keys("Enter")
        tmux.wait_for("5/7 Steps")
        tmux.keys("C-n")
        tmux.wait_for("6/7 Outputs")
        tmux.keys("C-n")
        tmux.wait_for("7/7 Review")
        tmux.keys("C-s")
        tmux.wait_for("it compiles")
        saved = folder / "e2e-web.aib.yaml"
        assert saved.is_file()
        proc = subprocess.run([str(AIBTUI), "compile", str(saved)], capture_output=True, text=True, cwd=folder,
                              env={**os.environ, **env}, timeout=60)
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["name"] == "e2e-web"
        tmux.keys("b")
        screen = tmux.wait_for("simulated build finished", timeout=90)
        assert "Succeeded" in screen
        # no root filesystem is configured in this empty state: the service simulated the run, and the
        # monitor says so from the run's status (lastRunStatus.aibtuiExecution)
        assert "SIMULATED" in screen
        tmux.wait_for("run outputs")
        tmux.keys("C-q")
    finally:
        tmux.kill()
        _stop_service(state)
