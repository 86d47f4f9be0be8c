"""Compile-path benchmark: prints figures, asserts nothing (timings never belong in tests).

  .venv/bin/python benchmarks/compile.py [--runs N]

Measures, in one run on this machine:
  1. cold `aibtui compile` of a typical example (median of N process starts) next to
     `python -c "import yaml"` (the floor: an interpreter that only loads PyYAML);
  2. in-process throughput in templates/s: the examples compiled in turn, then 300 distinct
     generated templates (rich and simple);
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
    # Any non-empty PYTHONDONTWRITEBYTECODE (even "0") stops .pyc writes, and every run would then
    # recompile each module whose source is newer than its .pyc: drop it, as a user's shell has.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False)  # warm .pyc
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def distinct_templates(folder: Path, count: int) -> tuple[list[Path], list[Path]]:
    """``count`` distinct variants of the example (same profiles and fragments, other names and
    steps), and ``count`` simple one-file templates, so throughput is not a cache benchmark."""
    import shutil

    project = folder / "proj"
    shutil.copytree(EXAMPLE.parent, project)
    (project / ".git").mkdir()
    text = EXAMPLE.read_text()
    rich, simple = [], []
    for i in range(count):
        variant = text.replace("name: ubuntu-web", f"name: ubuntu-web-{i}").replace(
            "customize:\n", f"customize:\n  - name: extra-{i}\n    shell: echo variant {i}\n", 1)
        path = project / f"web{i}.aib.yaml"
        path.write_text(variant)
        rich.append(path)
        s = folder / f"simple{i}.aib.yaml"
        s.write_text(
            f"extends: ubuntu-24.04-gen2\nname: simple-{i}\nlocation: westus2\n"
            "identity: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/"
            "Microsoft.ManagedIdentity/userAssignedIdentities/aib\n"
            f"customize:\n  - name: update\n    shell: sudo apt-get update\n"
            f"  - name: tools\n    shell: [sudo apt-get install -y jq curl, echo {i}]\n"
            f"  - name: motd\n    file: {{from: 'https://example.com/motd', to: /tmp/motd}}\n"
            "distribute:\n  - vhd: true\n")
        simple.append(s)
    return rich, simple


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
    from aibtui.compiler import CompileOptions, CompileSession, compile_file

    res = compile_file(EXAMPLE, CompileOptions())
    if not res.ok:
        for d in res.diagnostics:
            print(d.format_text())
        raise SystemExit("the benchmark example does not compile")

    floor = cold([PY, "-c", "import yaml"], args.runs)
    bare = cold([PY, "-c", "pass"], args.runs)
    comp = cold([*AIBTUI, "compile", str(EXAMPLE)], args.runs)
    with tempfile.TemporaryDirectory() as tmp:
        _rich, simple = distinct_templates(Path(tmp), 1)
        comp_simple = cold([*AIBTUI, "compile", str(simple[0])], args.runs)
    print(f"cold start, median of {args.runs} runs")
    print(f"  python -c pass            {bare * 1000:7.1f} ms")
    print(f"  python -c 'import yaml'   {floor * 1000:7.1f} ms   (the floor)")
    print(f"  aibtui compile (example)  {comp * 1000:7.1f} ms   = {comp / floor:.2f}x the floor (target <= 2x)"
          "   examples/ubuntu-web: 2 profiles, include, vars, local files")
    print(f"  aibtui compile (simple)   {comp_simple * 1000:7.1f} ms   = {comp_simple / floor:.2f}x the floor"
          "   one file extending a profile")

    examples = sorted((REPO / "examples").glob("*/*.aib.yaml"))
    for f in examples:
        compile_file(f, CompileOptions())
    session = CompileSession()
    for label, make in (("no session", CompileOptions),
                        ("one CompileSession, as the CLI", lambda: CompileOptions(session=session))):
        count, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < 2.0:
            for f in examples:
                compile_file(f, make())
                count += 1
        rate = count / (time.perf_counter() - t0)
        print(f"in-process throughput       {rate:7.0f} templates/s, the {len(examples)} examples compiled in turn, "
              f"{label} (target >= 1000)")

    with tempfile.TemporaryDirectory() as tmp:
        rich, simple = distinct_templates(Path(tmp), 300)
        for label, files in (("rich (like the example: 2 profiles, include, vars, local files)", rich),
                             ("simple (one file, a profile, three steps)", simple)):
            for f in files[:20]:  # warm the interpreter's caches, not the templates
                compile_file(f, CompileOptions())
            t0 = time.perf_counter()
            for f in files:
                res = compile_file(f, CompileOptions())
                assert res.ok, [d.format_text() for d in res.diagnostics]
            rate = len(files) / (time.perf_counter() - t0)
            print(f"in-process throughput       {rate:7.0f} templates/s, {len(files)} distinct {label}")

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
