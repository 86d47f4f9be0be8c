"""Compile-path benchmark: prints figures, asserts nothing (timings never belong in tests).

  .venv/bin/python benchmarks/compile.py [--runs N]

Measures, in one run on this machine:
  1. cold `aibtui compile` of a typical example (median of N process starts) next to
     `python -c "import yaml"` (the floor: an interpreter that only loads PyYAML);
  2. in-process throughput in templates/s (the same example, compiled repeatedly);
  3. time to compile generated templates of 10, 100 and 1,000 steps (growth should be linear).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "ubuntu-web" / "web.aib.yaml"
PY = sys.executable
AIBTUI = [PY, "-m", "aibtui"]


def cold(cmd: list[str], runs: int) -> float:
    times = []
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="0")
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False)  # warm .pyc
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def generated(steps: int, folder: Path) -> Path:
    lines = [
        "name: gen", "location: westus2",
        "identity: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/"
        "Microsoft.ManagedIdentity/userAssignedIdentities/aib",
        "source: Canonical:ubuntu-24_04-lts:server:latest",
        "customize:",
    ]
    for i in range(steps):
        lines += [f"  - name: step-{i}", "    shell: |", f"      echo step {i}", "      sudo true"]
    lines += ["distribute:", "  - vhd: true"]
    path = folder / f"gen{steps}.aib.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    from aibtui.compiler import CompileOptions, compile_file

    res = compile_file(EXAMPLE, CompileOptions())
    if not res.ok:
        for d in res.diagnostics:
            print(d.format_text())
        raise SystemExit("the benchmark example does not compile")

    floor = cold([PY, "-c", "import yaml"], args.runs)
    bare = cold([PY, "-c", "pass"], args.runs)
    comp = cold([*AIBTUI, "compile", str(EXAMPLE)], args.runs)
    print(f"cold start, median of {args.runs} runs")
    print(f"  python -c pass            {bare * 1000:7.1f} ms")
    print(f"  python -c 'import yaml'   {floor * 1000:7.1f} ms   (the floor)")
    print(f"  aibtui compile (example)  {comp * 1000:7.1f} ms   = {comp / floor:.2f}x the floor (target <= 2x)")

    n = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < 2.0:
        compile_file(EXAMPLE, CompileOptions())
        n += 1
    rate = n / (time.perf_counter() - t0)
    print(f"in-process throughput       {rate:7.0f} templates/s (target >= 1000)")

    with tempfile.TemporaryDirectory() as tmp:
        print("generated templates (in process, best of 3)")
        base = None
        for steps in (10, 100, 1000):
            path = generated(steps, Path(tmp))
            best = min(_timed(lambda p=path: compile_file(p, CompileOptions())) for _ in range(3))
            ok = compile_file(path, CompileOptions()).ok
            base = base or best / steps
            print(f"  {steps:5d} steps  {best * 1000:8.2f} ms  {best / steps * 1e6:7.1f} us/step"
                  f"{'' if ok else '  (had errors!)'}")


def _timed(fn) -> float:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


if __name__ == "__main__":
    main()
