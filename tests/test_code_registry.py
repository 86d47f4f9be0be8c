"""One code registry (issue 15): codes are spelt as strings only in compiler/codes.py and the tables
it gathers; call sites use the constants of the generated compiler/code_ids.py, which stays in sync.

The allow-list of modules that may still hold bare literals lives in scripts/codes_to_constants.py
(ALLOW_LIST, each entry with the issue that was editing it); the lead empties it after merging."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from aibtui.compiler import code_ids
from aibtui.compiler.codes import CODES

REPO = Path(__file__).resolve().parents[1]


def _script():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("codes_to_constants", REPO / "scripts" / "codes_to_constants.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_code_ids_is_generated_from_the_registry() -> None:
    script = _script()
    current = (REPO / "compiler" / "code_ids.py").read_text(encoding="utf-8")
    assert current == script.generate(), "run: .venv/bin/python scripts/codes_to_constants.py"
    assert {k for k in vars(code_ids) if k.startswith("AIB")} == set(CODES)
    assert all(getattr(code_ids, code) == code for code in CODES)


def test_no_bare_code_literal_outside_the_registry() -> None:
    script = _script()
    offenders = []
    for rel in script.modules():
        if script.is_registry(rel) or rel in script.ALLOW_LIST:
            continue
        text = (REPO / rel).read_text(encoding="utf-8")
        for m in script.LITERAL.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            offenders.append(f"{rel}:{line}: {m.group(0)}")
    assert not offenders, "write C.AIBnnn (scripts/codes_to_constants.py does it): " + ", ".join(offenders)


def test_the_allow_list_names_real_modules_that_still_need_it() -> None:
    script = _script()
    for rel in script.ALLOW_LIST:
        assert (REPO / rel).is_file(), rel
        # an entry whose module no longer spells a code is stale: take it off the list
        assert script.LITERAL.search((REPO / rel).read_text(encoding="utf-8")), f"{rel} needs no allow-list entry"


def test_every_constant_used_is_a_registered_code() -> None:
    script = _script()
    used = set()
    for rel in script.modules():
        used |= set(re.findall(r"\bC\.(AIB\d{3})\b", (REPO / rel).read_text(encoding="utf-8")))
    assert used and used <= set(CODES), sorted(used - set(CODES))
