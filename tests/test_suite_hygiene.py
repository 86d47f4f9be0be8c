"""The suite is self-contained: no test, script or CI step reads a sibling `shared/` folder or a path
of one machine; everything a test reads is in tests/data/ (tests/testdata.py finds it)."""

from __future__ import annotations

import re
from pathlib import Path

from testdata import CORPUS, MANIFEST, REST_SPECS, corpus_files, corpus_manifest, rest_examples

REPO = Path(__file__).resolve().parents[1]
# the sibling folder (dot-dot-slash shared), a `"shared"` path part next to parents[...] / parent, or a literal
# absolute path into a machine's folders (test inputs such as "/tmp/x" inside templates are fine: never opened)
OUTSIDE = re.compile(r"\.\./shared|parents?\[?\d?\]?\s*/\s*[\"']shared[\"']|[\"']/(work|home)/")


def _scanned() -> list[Path]:
    files = [p for p in (REPO / "tests").glob("*.py")]
    files += [p for p in (REPO / "scripts").iterdir() if p.is_file()]
    files += [p for p in (REPO / ".ci").iterdir() if p.is_file()]
    return files


def test_nothing_reads_outside_the_repository() -> None:
    here = Path(__file__).resolve()
    hits = [f"{p.relative_to(REPO)}:{n}: {line.strip()}"
            for p in _scanned() if p.resolve() != here
            for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if OUTSIDE.search(line)]
    assert hits == [], "copy what a test needs into tests/data/ (tests/data/README.md):\n" + "\n".join(hits)


def test_the_pattern_catches_what_it_should() -> None:
    up = ".." + "/"  # spelled in two parts so that a grep of the suite for the pattern finds nothing here
    for bad in (f'SPECS = Path("/{"work"}/x/reference")', 'ROOT.parent / "shared" / "corpus"',
                'Path(__file__).resolve().parents[2] / "shared"', f"cp {up}shared/x ."):
        assert OUTSIDE.search(bad), bad
    assert not OUTSIDE.search('destination: "/tmp/a.conf"')


def test_the_data_is_there_and_described() -> None:
    assert len(rest_examples()) == 4 and {p.parent.parent.name for p in rest_examples()} == {"2020-02-14", "2025-10-01"}
    rows = corpus_manifest()
    assert sorted(r["file"] for r in rows) == corpus_files() and len(rows) == 46  # MANIFEST.tsv covers every file
    readme = (REPO / "tests" / "data" / "README.md").read_text(encoding="utf-8")
    for name in corpus_files():
        assert f"`{name}`" in readme, f"{name}: name its origin and licence in tests/data/README.md"
    for path in rest_examples():
        assert f"`{path.relative_to(REST_SPECS).as_posix()}`" in readme, path
    assert MANIFEST.parent == CORPUS
