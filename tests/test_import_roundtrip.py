"""compile(import(file)) == the original template, over the real-world corpus and the REST examples.

"The original" is the template `check` reads (read-only fields dropped), with type discriminators
spelled as the stable schema spells them (the preview versions wrote `shell`, `sharedImage`), and
each ARM reference that became a variable with a value replaced by that value. Placeholders come
back through `--set NAME=<placeholder>`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from testdata import CORPUS, corpus_files, rest_examples

from aibtui.compiler import CompileOptions, compile_file
from aibtui.compiler.diagnostics import DiagnosticBag
from aibtui.compiler.importer import ImportOptions, import_file, import_text
from aibtui.compiler.jsoninput import templates_from_json
from aibtui.compiler.jsonload import load_json
from aibtui.compiler.model import RESOURCE_TYPE
from aibtui.compiler.yamlload import decode_text

FILES = corpus_files()
# Files that cannot round-trip, and the diagnostic that says why.
REFUSED = {
    "Azure__avdaccelerator__workload__workshop__Azure Image Builder__armTemplateWinSIG.json": "AIB700",
    "Azure__bicep-registry-modules__avm__res__virtual-machine-images__image-template__main.json": "AIB800",
    "JamieTaffurelli__az-imagetemplate__arm__windowsImageTemplate.json": "AIB800",
    "bradcstevens__azvmimagebuilder__rawImageBuilderConfigTemplates__rhel73_iso_1customize_sigmdi.json": "AIB803",
    "danielsollondon__azvmimagebuilder__armTemplates__rhel_iso_image_deploy_mdi.json": "AIB803",
    "danielsollondon__azvmimagebuilder__solutions__3_rhel_sig_vhd__rhel_iso_image_deploy_sigvhd.json": "AIB803",
    "kivenkat__vmimagebuilder__helloImageTemplateRhelBYOSVhd.json": "AIB803",
}
_TYPES = {t.lower(): t for t in ("Shell", "PowerShell", "File", "WindowsRestart", "WindowsUpdate", "ManagedImage",
                                 "SharedImage", "VHD", "PlatformImage", "SharedImageVersion")}


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):
        out = {k: _canonical(v) for k, v in value.items()}
        if isinstance(out.get("type"), str) and out["type"].lower() in _TYPES:
            out["type"] = _TYPES[out["type"].lower()]
        return out
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value


def _substitute(value: Any, table: dict[str, Any]) -> Any:
    if isinstance(value, str):
        return table.get(value, value)
    if isinstance(value, dict):
        return {k: _substitute(v, table) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, table) for v in value]
    return value


_PART = re.compile(r"\.?([^.\[\]]+)|\[(\d+)\]")


def _path(dotted: str) -> list[str | int]:
    return [int(m.group(2)) if m.group(2) else m.group(1) for m in _PART.finditer(dotted)]


def _as_imported(original: dict[str, Any], diagnostics: list[Any]) -> dict[str, Any]:
    """The original with what the importer said it changed so the file compiles (issue 15): keys
    spelt in another case renamed (AIB817), keys off the schema and null values dropped (AIB818)."""
    for d in diagnostics:
        renamed = re.fullmatch(r"`([^`]+)`(?: \(a preview name\))? is written (\w+)", d.message)
        if d.code == "AIB817" and renamed:
            *parents, last = _path(renamed.group(1))
            holder: Any = original
            for part in parents:
                holder = holder[part]
            if last in holder:
                holder[renamed.group(2)] = holder.pop(last)
        elif d.code == "AIB818":
            *parents, last = _path(d.message.split("`")[1])
            holder = original
            for part in parents:
                holder = holder[part]
            holder.pop(last, None)
    return original


def _originals(text: str, file: str) -> list[dict[str, Any]]:
    diags = DiagnosticBag()
    node = load_json(text, file, diags)
    assert node is not None
    return [m.doc for m in templates_from_json(node, file, diags, as_written=True)]


def _round_trip(tmp_path: Path, text: str, file: str, options: ImportOptions | None = None) -> list[str]:
    """Import, compile each result with its --set values, compare with the original. Returns the profiles."""
    result = import_text(text, file, options)
    errors = [d.format_text() for d in result.diagnostics if d.severity.value == "error"]
    assert not errors, errors
    originals = _originals(text, file)
    assert len(originals) == len(result.templates)
    profiles = []
    for i, (tpl, original) in enumerate(zip(result.templates, originals, strict=True)):
        assert tpl.text is not None and tpl.exact
        out = tmp_path / f"t{i}.aib.yaml"
        out.write_text(tpl.text, encoding="utf-8")
        compiled = compile_file(out, CompileOptions(sets=tpl.sets))
        lowering = [d.format_text() for d in compiled.diagnostics
                    if d.severity.value == "error" and d.code[3] in "1234" and d.code != "AIB416"]
        assert not lowering, lowering
        assert compiled.model is not None
        expected = _canonical(_as_imported(original, result.diagnostics))
        expected["type"] = RESOURCE_TYPE
        expected["apiVersion"] = compiled.model.doc["apiVersion"]
        expected = _substitute(expected, {v.origin: v.value for v in tpl.variables if v.value is not None})
        expected = {k: v for k, v in expected.items() if k != "comments"}
        assert compiled.model.doc == expected
        profiles.append(tpl.profile)
    return profiles


def _read(name: str) -> str:
    diags = DiagnosticBag()
    text = decode_text((CORPUS / name).read_bytes(), name, diags)
    assert text is not None
    return text


@pytest.mark.parametrize("name", [n for n in FILES if n not in REFUSED and not n.endswith(".bicep")])
def test_corpus_file_round_trips(name: str, tmp_path: Path) -> None:
    _round_trip(tmp_path, _read(name), str(CORPUS / name))


@pytest.mark.parametrize("name", sorted(REFUSED) + [n for n in FILES if n.endswith(".bicep")])
def test_corpus_file_that_cannot_round_trip_says_why(name: str) -> None:
    result = import_file(CORPUS / name)
    code = REFUSED.get(name, "AIB716")
    errors = [d for d in result.diagnostics if d.severity.value == "error"]
    assert errors and any(d.code == code for d in errors), [d.format_text() for d in errors]
    assert all(d.span is not None and d.span.line >= 1 for d in errors)
    assert all(t.text is None for t in result.templates)


def test_every_corpus_file_is_accounted_for() -> None:
    assert set(REFUSED) <= set(FILES)


@pytest.mark.parametrize("path", rest_examples(), ids=lambda p: f"{p.parent.parent.name}/{p.stem}")
def test_rest_example_round_trips(path: Path, tmp_path: Path) -> None:
    params = json.loads(path.read_text(encoding="utf-8"))["parameters"]
    body = params.get("imageTemplate") or params.get("parameters")
    _round_trip(tmp_path, json.dumps(body, indent=2), str(path),
                ImportOptions(api_version=params["api-version"]))


def test_the_rest_examples_are_there() -> None:
    assert len(rest_examples()) >= 4
