"""The docs stay true: the generated code list matches the registry."""

from __future__ import annotations

import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_diagnostics_doc_is_up_to_date():
    spec = importlib.util.spec_from_file_location("gen", REPO / "scripts" / "gen_diagnostics_doc.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    current = (REPO / "docs" / "diagnostics.md").read_text()
    assert current == gen.render(), "run: .venv/bin/python scripts/gen_diagnostics_doc.py"
