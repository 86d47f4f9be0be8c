"""Local-build benchmark: prints figures, asserts nothing (timings never belong in tests).

  .venv/bin/python benchmarks/local_build.py [--runs N] [--sandbox bwrap|unshare]

Measures, on this machine, with the busybox test rootfs (needs busybox-static and a sandbox):
  1. `aibtui build FILE --rootfs DIR` of a three-step Linux template, from the command's start to
     `Succeeded` (compile, find the identical deployed template and reuse it, run, watch; an
     in-process local service with its default settings), and the run itself (startTime -> endTime:
     rootfs copy, steps, deprovision check, rootfs tarball);
  2. the overhead per step: (run time with 23 steps - run time with 3 steps) / 20, each step `true`;
  3. one sandboxed `true` on its own (the floor of a step).
Everything lives in a temporary folder that is removed at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path

# the in-process service helpers live with the tests (tests/service_support.py), not in the package
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from service_support import local_service

from aibtui.cli.main import main as cli
from aibtui.localbuild.rootfs import make_busybox_rootfs
from aibtui.localbuild.sandbox import Sandbox, detect_backend
from aibtui.service.settings import ServiceSettings

RG = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers"


def template(name: str, steps: int) -> str:
    lines = [f"name: {name}", "location: westus2",
             f"identity: {RG}/Microsoft.ManagedIdentity/userAssignedIdentities/aib",
             "source: Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2:latest", "customize:"]
    first = ["echo one > /root/one", "cat /root/one", "echo three"]
    for i in range(steps):
        command = first[i] if i < len(first) else "'true'"
        lines += [f"  - name: s{i + 1}", f"    shell: {command}"]
    lines += ["distribute:", f"  - managedImage: {RG}/Microsoft.Compute/images/{name}", f"    runOutputName: {name}"]
    return "\n".join(lines) + "\n"


def _iso(s: str) -> float:
    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def build(folder: Path, rootfs: Path, name: str, steps: int) -> tuple[float, float]:
    """(wall seconds of `aibtui build`, the run's own seconds)."""
    f = folder / f"{name}.aib.yaml"
    f.write_text(template(name, steps))
    out, err = io.StringIO(), io.StringIO()
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli(["build", str(f), "--rootfs", str(rootfs), "--replace"])
    wall = time.perf_counter() - t0
    if code != 0 or "build succeeded" not in out.getvalue():
        raise SystemExit(f"build of {name} failed:\n{out.getvalue()}{err.getvalue()}")
    st = io.StringIO()
    with contextlib.redirect_stdout(st):
        cli(["status", name, "--json"])
    import json

    run = json.loads(st.getvalue())["properties"]["lastRunStatus"]
    return wall, _iso(run["endTime"]) - _iso(run["startTime"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--sandbox", choices=("bwrap", "unshare"))
    args = ap.parse_args()
    backend, why = detect_backend(args.sandbox)
    if backend is None:
        print(f"cannot benchmark: {why}")
        return 1
    with tempfile.TemporaryDirectory(prefix="aibtui-bench-") as tmp:
        folder = Path(tmp)
        rootfs = make_busybox_rootfs(folder / "rootfs")
        os.environ.update(AIBTUI_STATE_DIR=str(folder / "state"), XDG_CONFIG_HOME=str(folder / "config"),
                          AIBTUI_PROVIDER="local")
        if args.sandbox:
            os.environ["AIBTUI_SANDBOX"] = args.sandbox
        settings = ServiceSettings.from_env()
        settings = replace(settings, local=replace(settings.local, sandbox=args.sandbox))
        (folder / "ctl").mkdir()
        sb = Sandbox(backend, rootfs, folder / "ctl")
        sb.prepare()
        floor = []
        for _ in range(args.runs * 4):
            t0 = time.perf_counter()
            sb.run(["/bin/true"], lambda s, lines: None, lambda: None)
            floor.append(time.perf_counter() - t0)
        with local_service(folder / "state", settings):
            build(folder, rootfs, "warmup", 3)
            three = [build(folder, rootfs, "three", 3) for _ in range(args.runs)]
            many = [build(folder, rootfs, "many", 23) for _ in range(args.runs)]
    wall3 = statistics.median(w for w, _ in three)
    run3 = statistics.median(r for _, r in three)
    run23 = statistics.median(r for _, r in many)
    print(f"sandbox: {backend}; rootfs: busybox ({sys.platform}); median of {args.runs} runs")
    print(f"three-step local build, `aibtui build` to Succeeded: {wall3 * 1000:.0f} ms "
          f"(the run itself: {run3 * 1000:.0f} ms)")
    print(f"overhead per step: {(run23 - run3) / 20 * 1000:.1f} ms "
          f"(23 steps: {run23 * 1000:.0f} ms, 3 steps: {run3 * 1000:.0f} ms)")
    print(f"one sandboxed `true` on its own: {statistics.median(floor) * 1000:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
