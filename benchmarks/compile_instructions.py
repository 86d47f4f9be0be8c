"""Instructions per compile, counted by valgrind: a figure that does not move with the machine's load.

  .venv/bin/python benchmarks/compile_instructions.py [--rounds N]

Wall-clock throughput on a shared 2-core VM swings by ±30 % from one minute to the next, which
hides a 3 % change. This counts the instructions (callgrind's ``Ir``) of compiling the examples
N and 2N times in one process with one ``CompileSession`` (as the CLI compiles), and prints the
difference per compile: start-up, imports and first-use caches cancel out. Needs ``valgrind``
(prints why and exits 0 without it); asserts nothing, prints figures.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

_RUN = """
import sys
from pathlib import Path
from aibtui.compiler import CompileOptions, CompileSession, compile_file
examples = sorted(Path(sys.argv[1]).glob("*/*.aib.yaml"))
session = CompileSession()
for f in examples:
    compile_file(f, CompileOptions(session=session))
for _ in range(int(sys.argv[2])):
    for f in examples:
        compile_file(f, CompileOptions(session=session))
"""


def _instructions(rounds: int) -> int:
    env = dict(os.environ, PYTHONHASHSEED="0")  # the same dict layouts in every run
    out = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
                          "-c", _RUN, str(REPO / "examples"), str(rounds)],
                         capture_output=True, text=True, env=env, check=True).stderr
    for line in out.splitlines():
        if "Collected :" in line:
            return int(line.rsplit(":", 1)[1])
    raise SystemExit("valgrind printed no instruction count:\n" + out[-2000:])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (apt-get install valgrind): no instruction count")
        return
    count = len(list((REPO / "examples").glob("*/*.aib.yaml")))
    low, high = _instructions(args.rounds), _instructions(2 * args.rounds)
    per = (high - low) / (args.rounds * count)
    print(f"instructions per compile (callgrind Ir, {count} examples, one CompileSession): {per / 1e6:.2f} M")


if __name__ == "__main__":
    main()
