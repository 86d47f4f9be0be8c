"""Where the tests' reference data lives: tests/data/ (origin and licence of each file: tests/data/README.md).

Every test that reads an official REST example or a real-world template finds it through this module, so
the suite runs in a fresh clone with nothing beside it. The lists are never empty by accident: a missing
data folder raises at import (collection error), it does not skip.
"""

from __future__ import annotations

import csv
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
REST_SPECS = DATA / "aib-rest-specs"
CORPUS = DATA / "corpus" / "real-world"
MANIFEST = CORPUS / "MANIFEST.tsv"

for _folder in (REST_SPECS, CORPUS):
    if not _folder.is_dir():
        raise RuntimeError(f"test data missing: {_folder} (it is part of the repository; restore it with git)")


def rest_examples() -> list[Path]:
    """The official CreateImageTemplate* REST examples, one folder per apiVersion."""
    return sorted(REST_SPECS.glob("*/examples/CreateImageTemplate*.json"))


def corpus_files() -> list[str]:
    """File names of the real-world corpus (MANIFEST.tsv excluded)."""
    return sorted(p.name for p in CORPUS.iterdir() if p.is_file() and p.name != MANIFEST.name)


def corpus_manifest() -> list[dict[str, str]]:
    """The rows of MANIFEST.tsv (file, repo, path, commit, ...)."""
    with MANIFEST.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))
