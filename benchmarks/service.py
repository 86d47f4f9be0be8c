"""Benchmark of build operations on the local provider (reproducible; not a timed test).

1. Wall time of ``aibtui build tiny.aib.yaml`` until the (simulated) run has finished and its outputs
   are printed: cold (the CLI starts the local service) and warm (the service is up, the template
   is reused). Simulated steps take ``--step-delay`` seconds each (0 by default, to measure our
   overhead rather than the simulation's pacing).
2. Display lag: how long after the service changes a run's state the watcher (what `build` and
   `status --watch` print from) shows it: with the log long poll the CLI uses on the local service,
   and with plain polling at ``--poll`` seconds (what it does against Azure, every 15 s there).

Usage: .venv/bin/python benchmarks/service.py [--runs 5] [--step-delay 0] [--poll 0.1]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

TINY = """\
name: bench
location: westus2
identity: @RG@/Microsoft.ManagedIdentity/userAssignedIdentities/aib
source: Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2:latest
customize:
  - name: hello
    shell: echo hello
distribute:
  - managedImage: @RG@/Microsoft.Compute/images/bench
    runOutputName: bench
""".replace("@RG@", "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers")


def _build_once(state: Path, file: Path, step_delay: float) -> float:
    env = {**os.environ, "AIBTUI_STATE_DIR": str(state), "AIBTUI_SIM_STEP_DELAY": str(step_delay),
           "AIBTUI_SERVICE_IDLE_MINUTES": "2", "AIBTUI_PROVIDER": "local"}
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "aibtui.cli.main", "build", str(file), "--poll", "0.02"],
                         env=env, capture_output=True, text=True, timeout=120)
    took = time.perf_counter() - started
    if out.returncode != 0 or "build succeeded" not in out.stdout:
        raise SystemExit(f"build failed:\n{out.stdout}\n{out.stderr}")
    return took


def _shutdown(state: Path) -> None:
    from aibtui.arm.local import local_client
    from aibtui.service.statefiles import read_discovery

    info = read_discovery(state)
    if info is None:
        return
    try:
        client = local_client(state, api_version="2024-02-01", start=False)
        client.send("POST", f"{client.base_url}/_aibtui/shutdown", ok=(200, 202, 204))
    except Exception:  # noqa: BLE001
        pass


def bench_build(runs: int, step_delay: float) -> None:
    cold, warm = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            state, file = Path(tmp) / "state", Path(tmp) / "bench.aib.yaml"
            file.write_text(TINY)
            try:
                cold.append(_build_once(state, file, step_delay))
                warm.append(_build_once(state, file, step_delay))
            finally:
                _shutdown(state)
    print(f"aibtui build -> finished local run (step delay {step_delay:g}s, {runs} runs)")
    print(f"  cold (starts the service): median {statistics.median(cold) * 1000:7.0f} ms   "
          f"min {min(cold) * 1000:.0f}  max {max(cold) * 1000:.0f}")
    print(f"  warm (service up, reuse):  median {statistics.median(warm) * 1000:7.0f} ms   "
          f"min {min(warm) * 1000:.0f}  max {max(warm) * 1000:.0f}")


def bench_lag(poll: float, step_delay: float, long_poll: bool) -> None:
    from aibtui.arm.local import local_client
    from aibtui.arm.watch import RunWatcher
    from aibtui.service.settings import ServiceSettings
    from aibtui.service.store import Store
    from aibtui.service.testing import local_service, sample_body

    changes: list[tuple[float, str]] = []
    original = Store.set_run
    lock = threading.Lock()

    def recording(self: Store, run_id: str, **kw: object) -> None:
        original(self, run_id, **kw)  # type: ignore[arg-type]
        label = str(kw.get("state") or kw.get("sub_state") or "")
        if label:
            with lock:
                changes.append((time.perf_counter(), label))

    Store.set_run = recording  # type: ignore[method-assign]
    lags: list[float] = []
    try:
        with tempfile.TemporaryDirectory() as tmp, \
                local_service(Path(tmp), ServiceSettings(step_delay=step_delay, provision_delay=0.01,
                                                         retry_after_ms=10)) as svc:
            c = local_client(Path(tmp), api_version="2024-02-01", base_url=svc.base_url)
            steps = tuple(f"s{i}" for i in range(6))
            c.create_template("lag", sample_body(steps=steps)).result(10)
            for _ in range(3):
                changes.clear()
                c.run("lag")
                watcher = RunWatcher(c, "lag")
                seen: dict[str, float] = {}
                while not watcher.done:
                    waits = long_poll and watcher.long_polls
                    upd = watcher.poll(wait=2.0 if waits else 0.0)
                    now = time.perf_counter()
                    if upd.status is not None:
                        label = upd.status.state if upd.status.done else upd.status.sub_state
                        seen.setdefault(str(label), now)
                    if not watcher.done and not waits:
                        time.sleep(poll)
                with lock:
                    for at, label in changes:
                        if label in seen:
                            lags.append(max(0.0, seen[label] - at))
    finally:
        Store.set_run = original  # type: ignore[method-assign]
    how = "long-polling the log, as `aibtui build` does" if long_poll else f"polling every {poll:g}s"
    print(f"state change in the service -> shown by the watcher ({how}; {len(lags)} changes)")
    print(f"  mean {statistics.mean(lags) * 1000:6.1f} ms   median {statistics.median(lags) * 1000:6.1f} ms   "
          f"max {max(lags) * 1000:6.1f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--step-delay", type=float, default=0.0)
    ap.add_argument("--poll", type=float, default=0.1, help="watch poll interval (the CLI's local default)")
    args = ap.parse_args()
    bench_build(args.runs, args.step_delay)
    bench_lag(args.poll, max(args.step_delay, 0.25), long_poll=True)
    bench_lag(args.poll, max(args.step_delay, 0.25), long_poll=False)


if __name__ == "__main__":
    main()
