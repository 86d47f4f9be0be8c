"""Hostile inputs, measured (issue 13): prints figures, asserts nothing.

1. compile of a ~8 KB doubling chain of variables: wall time and peak RSS until AIB120 refuses it;
2. a fork loop in a local build step: time until the pids limit stops it (needs a sandbox and a
   static busybox);
3. a step printing N MB (default 256): time, and bytes the capped log keeps.

    .venv/bin/python benchmarks/hostile.py [--print-mb 256]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEAD = """name: x
location: westus2
identity: /subscriptions/0/resourceGroups/r/providers/Microsoft.ManagedIdentity/userAssignedIdentities/i
source: Canonical:ubuntu-24_04-lts:server
distribute: [{vhd: true}]
"""


def doubling_chain() -> str:
    lines = [HEAD, "vars:", "  v0: " + "x" * 64]
    lines += [f'  v{i}: "{{{{ v{i-1} }}}}{{{{ v{i-1} }}}}"' for i in range(1, 17)]
    lines.append("customize:")
    lines += [f'  - {{name: s{j}, shell: ["echo {{{{ v16 }}}}"]}}' for j in range(200)]
    return "\n".join(lines) + "\n"


def bench_compile(tmp: Path) -> None:
    src = tmp / "bomb.aib.yaml"
    src.write_text(doubling_chain())
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "aibtui", "compile", str(src)], capture_output=True, text=True)
    took = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    code = "AIB120" if "AIB120" in proc.stderr else proc.stderr.strip()[:80]
    print(f"row 1  doubling chain ({src.stat().st_size} bytes, would render ~800 MB): exit {proc.returncode} {code}, "
          f"{took * 1000:.0f} ms, peak RSS {rss / 1024:.0f} MiB")


def bench_sandbox(tmp: Path, print_mb: int) -> None:
    from aibtui.localbuild.limits import StepLimits, mechanism
    from aibtui.localbuild.logcap import LogCap
    from aibtui.localbuild.rootfs import find_static_busybox, make_busybox_rootfs
    from aibtui.localbuild.sandbox import Sandbox, detect_backend

    backend, why = detect_backend()
    if backend is None or find_static_busybox() is None:
        print(f"rows 8/10 skipped: {why or 'no static busybox'}")
        return
    root = make_busybox_rootfs(tmp / "root")
    ctl = tmp / "ctl"
    ctl.mkdir()
    sb = Sandbox(backend, root, ctl, limits=StepLimits(pids=256))
    start = time.perf_counter()
    out = sb.run(["/bin/sh", "-c", "while :; do sleep 1000 & done"], lambda s, lines: None, lambda: None)
    print(f"row 8  fork loop ({backend}, {mechanism()}): stopped by {out.limit} after "
          f"{time.perf_counter() - start:.2f} s")
    kept: list[str] = []
    cap = LogCap(kept.extend, 8 * 1024 * 1024)
    start = time.perf_counter()
    sb.run(["/bin/sh", "-c", f"yes 0123456789abcdef | head -c {print_mb * 1024 * 1024}"],
           lambda s, lines: cap(lines), lambda: None)
    cap.close()
    stored = sum(len(x) + 1 for x in kept)
    print(f"row 10 a step printing {print_mb} MiB: {time.perf_counter() - start:.2f} s, stored log "
          f"{stored / 1024 / 1024:.2f} MiB ({cap.dropped_bytes / 1024 / 1024:.0f} MiB dropped)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--print-mb", type=int, default=256)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as d:
        bench_compile(Path(d))
        bench_sandbox(Path(d), args.print_mb)


if __name__ == "__main__":
    main()
