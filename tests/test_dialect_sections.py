"""The dialect, section by section (compiler/dialect/): generated from each section's declaration.

Per example of each section: lowering gives the declared JSON, and importing that template and
lowering the import again is the identity (lower ∘ import), with the section's short key written.
Per section: docs/dialect.md documents it (its heading or top-level row mentions every short form),
its module emits exactly the codes it declares, and the editor schema's entry is its fragment."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path
from typing import Any

import pytest

from aibtui.compiler.codes import CODES
from aibtui.compiler.diagnostics import DiagnosticBag
from aibtui.compiler.dialect import SECTION_MODULES, Section, sections
from aibtui.compiler.dialect_schema import dialect_json_schema
from aibtui.compiler.importer import ImportOptions, import_text
from aibtui.compiler.lower import TOP_KEYS, LowerOptions, lower
from aibtui.compiler.nodes import Mapping
from aibtui.compiler.yamlload import load_yaml

REPO = Path(__file__).resolve().parents[1]
DIALECT_DOC = (REPO / "docs" / "dialect.md").read_text(encoding="utf-8")
RG = "/subscriptions/s/resourceGroups/rg/providers"
BASE = {
    "name": "name: t",
    "location": "location: westus2",
    "identity": f"identity: {RG}/Microsoft.ManagedIdentity/userAssignedIdentities/id",
    "source": "source: Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2:latest",
    "customize": "customize: [{name: base, shell: 'echo base'}]",
    "distribute": f"distribute: [{{managedImage: {RG}/Microsoft.Compute/images/base}}]",
}
SECTIONS = sections()
EXAMPLES = [(s, i, yaml_text, expected) for s in SECTIONS for i, (yaml_text, expected) in enumerate(s.examples)]


def _lower(text: str, api: str = "2024-02-01") -> dict[str, Any]:
    diags = DiagnosticBag()
    node = load_yaml(text, "t.aib.yaml", diags)
    assert isinstance(node, Mapping), [d.format_text() for d in diags]
    model = lower(node, "t.aib.yaml", diags, LowerOptions(api_version=api))
    errors = [d.format_text() for d in diags if d.severity.value == "error"]
    assert model is not None and not errors, errors
    return model.doc


def _template(example: str) -> str:
    key = example.split(":", 1)[0]
    lines = [line for k, line in BASE.items() if k != key] + [example]
    return "\n".join(lines) + "\n"


def _at(doc: dict[str, Any], dotted: str) -> Any:
    value: Any = doc
    for part in dotted.split("."):
        value = value[part]
    return value


def test_every_section_module_is_declared() -> None:
    folder = REPO / "compiler" / "dialect"
    modules = {p.stem for p in folder.glob("*.py")} - {"__init__", "common", "shaping"}
    assert modules == set(SECTION_MODULES)
    assert [s.name for s in SECTIONS] == list(SECTION_MODULES)
    assert all(isinstance(s, Section) and s.examples for s in SECTIONS)


def test_section_keys_are_top_level_keys_owned_once() -> None:
    owned = [key for s in SECTIONS for key in s.keys]
    assert len(owned) == len(set(owned))
    assert set(owned) <= set(TOP_KEYS)


@pytest.mark.parametrize(("section", "index", "yaml_text", "expected"), EXAMPLES,
                         ids=[f"{s.name}-{i}" for s, i, _y, _e in EXAMPLES])
def test_example_lowers_to_its_json(section: Section, index: int, yaml_text: str, expected: Any) -> None:
    doc = _lower(_template(yaml_text))
    assert _at(doc, section.official[0]) == expected


@pytest.mark.parametrize(("section", "index", "yaml_text", "expected"), EXAMPLES,
                         ids=[f"{s.name}-{i}" for s, i, _y, _e in EXAMPLES])
def test_lower_after_import_is_the_identity(section: Section, index: int, yaml_text: str, expected: Any) -> None:
    doc = _lower(_template(yaml_text))
    result = import_text(json.dumps(doc, indent=2), "t.json", ImportOptions(profiles=False))
    assert result.ok, [d.format_text() for d in result.diagnostics]
    [template] = result.templates
    assert template.text is not None and template.exact
    again = _lower(template.text)
    assert again == doc
    written = load_yaml(template.text, "t.aib.yaml", DiagnosticBag())
    assert isinstance(written, Mapping)
    assert set(section.keys) & set(written.items), f"the import did not write {section.keys}: {template.text}"


def _doc_part(heading: str) -> str:
    m = re.search(rf"^## {re.escape(heading)}\b.*?(?=^## |\Z)", DIALECT_DOC, flags=re.M | re.S)
    if m:
        return m.group(0)
    row = next((line for line in DIALECT_DOC.splitlines() if line.startswith(f"| `{heading}` |")), None)
    assert row is not None, f"docs/dialect.md has no section or top-level row for {heading!r}"
    return row


@pytest.mark.parametrize("section", SECTIONS, ids=lambda s: s.name)
def test_docs_describe_the_section(section: Section) -> None:
    part = _doc_part(section.heading)
    missing = [term for term in section.doc_terms if term not in part]
    assert not missing, f"docs/dialect.md ({section.heading}) does not mention {missing}"
    for key in section.keys:
        assert f"| `{key}` |" in DIALECT_DOC, f"{key} is missing from the top-level table of docs/dialect.md"


@pytest.mark.parametrize("section", SECTIONS, ids=lambda s: s.name)
def test_section_emits_the_codes_it_declares(section: Section) -> None:
    source = (REPO / "compiler" / "dialect" / f"{section.name}.py").read_text(encoding="utf-8")
    body = source.split("\nSECTION = ", 1)[0] + source.split("\n)\n", 1)[-1]  # without the declaration
    emitted = set(re.findall(r"\bC\.(AIB\d{3})\b", body))
    assert emitted == set(section.codes)
    assert set(section.codes) <= set(CODES)


@pytest.mark.parametrize("section", SECTIONS, ids=lambda s: s.name)
def test_editor_schema_entry_is_the_section_fragment(section: Section) -> None:
    module = importlib.import_module(f"aibtui.compiler.dialect.{section.name}")
    schema = dialect_json_schema()["properties"]
    for key in section.keys:
        assert schema[key] == module.schema()


@pytest.mark.parametrize("section", SECTIONS, ids=lambda s: s.name)
def test_the_inverse_named_exists(section: Section) -> None:
    from aibtui.compiler.import_shape import Shaper

    cls, method = section.inverse.split(".")
    assert cls == "Shaper" and callable(getattr(Shaper, method))
