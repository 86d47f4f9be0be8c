"""Import benchmark: prints figures, asserts nothing (timings never belong in tests).

  .venv/bin/python benchmarks/import_.py [--corpus DIR] [--runs N] [--table]

For every JSON file of the real-world corpus (tests/data/corpus/real-world) that imports:
  1. the line ratio  lines(*.aib.yaml) / lines(original JSON file), and its median;
  2. the in-process time to import the largest corpus file (median of N runs, with the
     verification compile the importer always does), and of a cold `aibtui import` process.
`--table` prints the per-file status table used in docs/import.md.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "tests" / "data" / "corpus" / "real-world"  # the copy the tests use (tests/data/README.md)


def _lines(text: str) -> int:
    return len(text.splitlines())


_SAID = {
    "AIB810": "{n} ARM expression(s) kept (AIB810)",
    "AIB811": "{n} ARM parameter(s)/variable(s) → vars",
    "AIB812": "{n} placeholder(s) → SET ME vars",
    "AIB711": "{n} read-only field(s) dropped",
    "AIB813": "preview apiVersion → 2020-02-14",
    "AIB814": "apiVersion without a value → the default",
    "AIB816": "dependsOn on resources not imported (AIB816)",
    "AIB701": "duplicate JSON key (AIB701)",
    "AIB815": "ARM-only key dropped (AIB815)",
}


def _summary(result) -> str:  # type: ignore[no-untyped-def]
    counts: dict[str, int] = {}
    for d in result.diagnostics:
        counts[d.code] = counts.get(d.code, 0) + 1
    parts = [f"extends {t.profile}" for t in result.templates if t.profile]
    parts += [text.format(n=counts[code]) for code, text in _SAID.items() if code in counts]
    return "; ".join(parts)


def main() -> int:
    from aibtui.compiler.importer import import_file

    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--table", action="store_true")
    args = parser.parse_args()
    files = sorted(p for p in args.corpus.iterdir() if p.name != "MANIFEST.tsv")
    ratios: list[float] = []
    rows: list[str] = []
    imported: list[Path] = []
    for path in files:
        result = import_file(path)
        json_lines = _lines(path.read_text(encoding="utf-8-sig", errors="replace"))
        errors = [d for d in result.diagnostics if d.severity.value == "error"]
        texts = [t.text for t in result.templates if t.text is not None]
        if texts and not errors:
            yaml_lines = sum(_lines(t) for t in texts)
            ratios.append(yaml_lines / json_lines)
            imported.append(path)
            warnings = [d for d in result.diagnostics if d.severity.value == "warning"]
            status = "imported with notes" if warnings else "imported exactly"
            why = _summary(result) or "–"
            rows.append(f"| {path.name} | {status} | {json_lines} → {yaml_lines} | {why} |")
        else:
            first = errors[0] if errors else None
            why = f"{first.code}: {first.message}" if first else "no template"
            built = [d.message.split("`")[1] for d in errors if d.code == "AIB800"]
            if len(built) > 1:
                why = f"AIB800: {', '.join(built)} are built by ARM expressions (parameters, variables, functions)"
            rows.append(f"| {path.name} | refused | {json_lines} | {why[:160].replace('|', '/')} |")
    largest = max((p for p in files if p.suffix != ".bicep"), key=lambda p: p.stat().st_size)
    largest_imported = max(imported, key=lambda p: p.stat().st_size)
    timed: dict[Path, float] = {}
    for path in dict.fromkeys([largest, largest_imported]):
        times = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            import_file(path)
            times.append(time.perf_counter() - t0)
        timed[path] = statistics.median(times)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "aibtui", "import", str(largest)], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=False)
    cold = time.perf_counter() - t0
    if args.table:
        print("| file | result | lines (JSON → YAML) | why / notes |")
        print("|---|---|---|---|")
        print("\n".join(rows))
        print()
    print(f"imported: {len(ratios)} of {len(files)} corpus files")
    print(f"median line ratio (YAML / JSON): {statistics.median(ratios):.4f}  "
          f"(min {min(ratios):.3f}, max {max(ratios):.3f})")
    for label, path in (("largest file", largest), ("largest imported file", largest_imported)):
        print(f"{label}: {path.name} ({path.stat().st_size} bytes, {_lines(path.read_text())} lines): "
              f"import in process, median of {args.runs}: {timed[path] * 1000:.1f} ms")
    print(f"cold `aibtui import` process of the largest file: {cold * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
