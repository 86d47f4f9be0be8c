"""ARM evaluation benchmark: prints figures, asserts nothing (timings never belong in tests).

  .venv/bin/python benchmarks/armeval.py [--runs N]

For the largest AVM module deployment in tests/data/avm (three calls of the module, with its
parameters file), prints the median of N in-process runs of:
  1. evaluation only (find the image templates: parameters, variables, copy loops, nested
     deployments, lambdas), from already-loaded JSON;
  2. the whole check: read and parse the JSON, evaluate, then the schema and the rules for each template;
and the wall time of a cold `aibtui check FILE -p parameters.json` process. Goal for 2: under 0.3 s.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data" / "avm"


def _median(fn, runs: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO.parent))
    from aibtui.compiler.armeval.params import read_parameters
    from aibtui.compiler.armeval.template import find_image_templates
    from aibtui.compiler.diagnostics import DiagnosticBag
    from aibtui.compiler.jsoninput import check_json_file
    from aibtui.compiler.jsonload import load_json

    deployments = sorted(DATA.glob("deployment-*.json"), key=lambda p: p.stat().st_size)
    largest = deployments[-1]
    params_file = DATA / "parameters.json"
    params = read_parameters([str(params_file)], DiagnosticBag())
    text = largest.read_text()
    root = load_json(text, str(largest), DiagnosticBag())

    def evaluate() -> None:
        out = find_image_templates(root, str(largest), params)  # type: ignore[arg-type]
        assert len(out.found) == 3

    def check() -> None:
        models = check_json_file(largest, DiagnosticBag(), parameters=params)
        assert len(models) == 3

    check()  # warm the lazy imports and the schema cache, as a long-running process would be
    size = largest.stat().st_size
    print(f"file: {largest.relative_to(REPO)} ({size // 1024} KiB, {text.count(chr(10)) + 1} lines, "
          "3 module calls)")
    print(f"evaluate only        median of {args.runs}: {_median(evaluate, args.runs) * 1000:7.1f} ms")
    print(f"check (read+eval+rules) median of {args.runs}: {_median(check, args.runs) * 1000:7.1f} ms "
          "(goal < 300 ms)")
    cmd = [sys.executable, "-m", "aibtui", "check", str(largest), "-p", str(params_file), "-q"]
    import resource

    cold, cpu = [], []
    for _ in range(3):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=False, cwd=REPO)
        cold.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    print(f"cold `aibtui check -p` process, median of 3: {statistics.median(cold) * 1000:7.1f} ms wall, "
          f"{statistics.median(cpu) * 1000:7.1f} ms CPU (wall time includes waiting for a busy machine)")


if __name__ == "__main__":
    main()
