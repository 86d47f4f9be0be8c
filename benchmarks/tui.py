"""TUI benchmark: prints figures, asserts nothing (timings never belong in tests).

  .venv/bin/python benchmarks/tui.py [--runs N]

Measures on this machine:
  1. time to first frame: from spawning `aibtui` (no arguments) in a pseudo-terminal, in an empty
     folder, to the first screen drawn on that terminal (median of N process starts); and to the
     onboarding's first page drawn (the folder scanned in a worker, the wizard imported and shown);
  2. the source picker's filter latency per keystroke over a 10,000-entry image list: the fuzzy
     filter plus the list update (``apply_filter``), then the redraw Textual does next, and a whole
     keystroke through Textual (``pilot.press``: key event -> Input -> filter -> list -> redraw) as
     CPU time (Pilot itself idles while it waits for the screen), in the headless driver at 120x40.

  3. the same first frame for a trivial Textual app (one Static) in the same pty: the floor;
  4. quit time: `aibtui FILE` with nothing unsaved, from Ctrl+Q sent to the process gone (and the
     trivial app's, for comparison);
  5. Help open time: from F1 to the Help screen composed and drawn in the editor (CPU time, headless,
     80x24; wall time on a loaded machine measures the other processes). The app keeps one Help per
     kind of screen, so the first open composes it and the later ones only show it: both are printed.

Targets (from issue 14): first frame < 0.6 s over the trivial app; quit < 0.3 s; Help < 100 ms;
filter under 30 ms per keystroke.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pty
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
AIBTUI = Path(sys.executable).with_name("aibtui")


TRIVIAL = ("from textual.app import App\nfrom textual.widgets import Static\n"
           "class T(App):\n    def compose(self):\n        yield Static('trivial-app-ready')\nT().run()\n")

SAMPLE = """\
# a sample for the quit benchmark
extends: ubuntu-22.04-gen2
name: bench
location: westus2
identity: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/\
Microsoft.ManagedIdentity/userAssignedIdentities/aib
customize:
  - name: hello
    shell: echo hello
distribute:
  - managedImage: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/\
Microsoft.Compute/images/bench
"""


def first_frame(marker: bytes, timeout: float = 20.0, argv: list[str] | None = None,
                quit_after: bool = False) -> float:
    """Seconds from spawning `aibtui` (or ``argv``) in a pty until ``marker`` appears on its terminal;
    with ``quit_after``, instead the seconds from Ctrl+Q sent (once ``marker`` is drawn) to the exit."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "empty"
        folder.mkdir()
        if quit_after:
            (folder / "bench.aib.yaml").write_text(SAMPLE)
        env = {**os.environ, "AIBTUI_STATE_DIR": str(Path(tmp) / "state"), "TERM": "xterm-256color",
               "COLUMNS": "80", "LINES": "24", "HOME": tmp, "XDG_CONFIG_HOME": str(Path(tmp) / "config")}
        master, slave = pty.openpty()
        os.set_blocking(master, False)
        started = time.perf_counter()
        command = argv or ([str(AIBTUI), "bench.aib.yaml"] if quit_after else [str(AIBTUI)])
        proc = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave, cwd=folder, env=env,
                                start_new_session=True)
        os.close(slave)
        seen = b""
        try:
            while time.perf_counter() - started < timeout:
                ready, _, _ = select.select([master], [], [], 0.01)
                if ready:
                    try:
                        seen += os.read(master, 65536)
                    except OSError:
                        break
                    if marker in seen:
                        if not quit_after:
                            return time.perf_counter() - started
                        time.sleep(0.3)  # settle: the compile worker and the first timers have run
                        sent = time.perf_counter()
                        os.write(master, b"\x11")  # Ctrl+Q
                        while proc.poll() is None and time.perf_counter() - sent < timeout:
                            ready, _, _ = select.select([master], [], [], 0.005)
                            if ready:
                                try:
                                    os.read(master, 65536)
                                except OSError:
                                    pass
                        proc.wait(timeout)
                        return time.perf_counter() - sent
            raise RuntimeError(f"{marker!r} not drawn within {timeout}s")
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            os.close(master)


async def filter_latency(n: int = 10_000, keys: str = "sku-0999") -> tuple[list[float], list[float], list[float]]:
    from aibtui.tui.app import AibApp
    from aibtui.tui.provider_adapter import ImageEntry
    from aibtui.tui.screens.source_picker import SourcePickerScreen

    entries = [ImageEntry(f"{p}-sku-{i:05d}", f"Pub:offer:sku-{i:05d}", "sku", "Linux" if i % 3 else "Windows",
                          "V2" if i % 2 else "V1") for i, p in zip(range(n), ["ubuntu", "windows", "rhel"] * n,
                                                                   strict=False)]
    with tempfile.TemporaryDirectory() as tmp:
        app = AibApp(Path(tmp))
        direct: list[float] = []
        frames: list[float] = []
        pressed: list[float] = []
        async with app.run_test(size=(120, 40)) as pilot:
            while type(app.screen).__name__ != "OnboardingScreen":
                await pilot.pause(0.02)
            picker = SourcePickerScreen(entries=entries, with_profiles=False)
            app.push_screen(picker)
            while not picker.shown:
                await pilot.pause(0.02)
            query = ""
            for ch in keys:  # the filter and the list redraw, as a keystroke triggers them
                query += ch
                t = time.perf_counter()
                picker.apply_filter(query)
                t1 = time.perf_counter()
                c1 = time.process_time()
                await pilot.pause()
                direct.append(t1 - t)
                frames.append(time.process_time() - c1)
            picker.apply_filter("")
            await pilot.pause()
            for ch in keys + "\b" * 4 + "1234":  # whole keystrokes through Textual
                t = time.process_time()  # CPU time: Pilot's own waits for the screen are idle, not work
                await pilot.press("backspace" if ch == "\b" else ch)
                pressed.append(time.process_time() - t)
        return direct, frames, pressed


async def help_open(runs: int) -> list[float]:
    """CPU seconds from F1 to the Help screen composed and drawn, in the editor (headless, 80x24)."""
    from aibtui.tui.app import AibApp
    from aibtui.tui.screens.help import HelpScreen

    out = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.aib.yaml"
        path.write_text(SAMPLE)
        app = AibApp(Path(tmp), file=path)
        async with app.run_test(size=(80, 24)) as pilot:
            while type(app.screen).__name__ != "EditorScreen" or app.screen.result is None:
                await pilot.pause(0.02)
            await pilot.pause(0.3)
            for _ in range(runs):
                t = time.process_time()
                app.action_help()
                while not isinstance(app.screen, HelpScreen) or not app.screen.query("#help-keys"):
                    await pilot.pause(0)
                await pilot.pause(0)  # one refresh: drawn
                out.append(time.process_time() - t)
                app.pop_screen()
                await pilot.pause(0.1)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    print(f"python {sys.version.split()[0]} on {os.cpu_count()} cores; {args.runs} runs each")
    trivial = [first_frame(b"trivial-app-ready", argv=[sys.executable, "-c", TRIVIAL]) for _ in range(args.runs)]
    first = [first_frame(b"aibtui") for _ in range(args.runs)]
    wizard = [first_frame(b"1/7 Name") for _ in range(args.runs)]
    quits = [first_frame(b"compiles", quit_after=True) for _ in range(args.runs)]
    trivial_quits = [first_frame(b"trivial-app-ready", argv=[sys.executable, "-c", TRIVIAL], quit_after=True)
                     for _ in range(args.runs)]
    print(f"a trivial Textual app's first frame (the floor):         median {statistics.median(trivial) * 1000:6.0f} ms"
          f"  (min {min(trivial) * 1000:.0f}, max {max(trivial) * 1000:.0f})")
    over = statistics.median(first) - statistics.median(trivial)
    print(f"time to first frame (spawn -> first screen drawn):      median {statistics.median(first) * 1000:6.0f} ms"
          f"  (min {min(first) * 1000:.0f}, max {max(first) * 1000:.0f}); {over * 1000:+.0f} ms over the "
          "trivial app; target < +600 ms")
    print(f"time to the onboarding drawn (empty folder):            median {statistics.median(wizard) * 1000:6.0f} ms"
          f"  (min {min(wizard) * 1000:.0f}, max {max(wizard) * 1000:.0f})")
    print(f"quit (Ctrl+Q -> process gone, nothing unsaved):         median {statistics.median(quits) * 1000:6.0f} ms"
          f"  (min {min(quits) * 1000:.0f}, max {max(quits) * 1000:.0f}); target < 300 ms")
    print(f"  the trivial app's quit, for comparison:                median "
          f"{statistics.median(trivial_quits) * 1000:6.0f} ms")
    helps = asyncio.run(help_open(args.runs))
    print(f"Help open (F1 -> Help drawn), CPU:                      median {statistics.median(helps) * 1000:6.1f} ms"
          f"  (max {max(helps) * 1000:.1f}); target < 100 ms")
    print(f"  of which the first open (composed; later ones reuse it): {helps[0] * 1000:6.1f} ms")
    direct, frames, pressed = asyncio.run(filter_latency())
    print(f"filter over 10,000 entries, per keystroke (filter+list): mean {statistics.mean(direct) * 1000:6.1f} ms"
          f"  (max {max(direct) * 1000:.1f}); target < 30 ms")
    print(f"  then Textual's redraw of the dialog at 120x40, CPU:     mean {statistics.mean(frames) * 1000:6.1f} ms"
          f"  (max {max(frames) * 1000:.1f})")
    print(f"whole keystroke through Textual, CPU (pilot.press):      mean {statistics.mean(pressed) * 1000:6.1f} ms"
          f"  (max {max(pressed) * 1000:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
