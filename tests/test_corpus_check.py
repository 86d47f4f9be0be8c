"""``check_json_file`` over the real-world corpus (tests/data/corpus/real-world, described by MANIFEST.tsv)."""

from __future__ import annotations

import json
import re

import pytest
from testdata import CORPUS, corpus_files, corpus_manifest

from aibtui.compiler.diagnostics import DiagnosticBag
from aibtui.compiler.jsoninput import check_json_file
from aibtui.compiler.jsonload import load_json
from aibtui.compiler.model import DEFAULT_API_VERSION, STABLE_API_VERSIONS
from aibtui.compiler.nodes import to_plain
from aibtui.compiler.yamlload import decode_text

_STRICT_ERROR = re.compile(r"not valid strict JSON \((.*?): line (\d+) column (\d+)\)")


ROWS = corpus_manifest()
BY_FILE = {r["file"]: r for r in ROWS}
INPUTS = corpus_files()
NON_BICEP = [n for n in INPUTS if not n.endswith(".bicep")]
BICEP = [n for n in INPUTS if n.endswith(".bicep")]
NOT_STRICT = [r for r in ROWS if _STRICT_ERROR.search(r["notes"])]


def _text(name: str) -> str:
    diags = DiagnosticBag()
    text = decode_text((CORPUS / name).read_bytes(), name, diags)
    assert text is not None
    return text


def test_the_corpus_is_what_the_manifest_lists() -> None:
    assert len(INPUTS) >= 40
    assert set(INPUTS) == set(BY_FILE)
    assert any(n.endswith(".dist") for n in NON_BICEP) and BICEP


@pytest.mark.parametrize("name", NON_BICEP)
def test_check_never_raises_and_finds_templates(name: str) -> None:
    diags = DiagnosticBag()
    models = check_json_file(CORPUS / name, diags)
    path = str(CORPUS / name)
    if any(d.code == "AIB700" for d in diags):
        assert models == []
        return
    assert len(models) >= 1, [d.format_text() for d in diags]
    lines = _text(name).splitlines()
    for model in models:
        assert model.origin == "json" and model.file == path
        assert model.api_version in STABLE_API_VERSIONS
        assert model.os_family is None or model.os_family in ("linux", "windows")
        span = model.span_at(())
        assert span is not None and span.file == path and 1 <= span.line <= len(lines)
        # the span of `properties` points at the text of that key in the original file
        key = model.key_spans[("properties",)]
        assert lines[key.line - 1][key.col - 1: key.end_col - 1] == '"properties"'
    for d in diags:
        assert d.span is None or d.span.file == path


@pytest.mark.parametrize("name", [n for n in NON_BICEP if not _STRICT_ERROR.search(BY_FILE[n]["notes"])])
def test_strict_json_files_read_the_same_as_the_json_module(name: str) -> None:
    text = _text(name)
    diags = DiagnosticBag()
    node = load_json(text, name, diags)
    assert node is not None and not diags.has_errors
    assert to_plain(node) == json.loads(text)


@pytest.mark.parametrize("row", NOT_STRICT, ids=[r["file"][:60] for r in NOT_STRICT])
def test_not_strict_json_files(row: dict[str, str]) -> None:
    m = _STRICT_ERROR.search(row["notes"])
    assert m is not None
    line, col = int(m.group(2)), int(m.group(3))
    text = _text(row["file"])
    diags = DiagnosticBag()
    node = load_json(text, row["file"], diags)
    at = text.splitlines()[line - 1][col - 1:]
    if "unquoted" in row["notes"]:
        # an unfilled <placeholder> outside quotes: a syntax error exactly there, saying why
        assert at.startswith("<")
        assert node is None
        [err] = diags.errors
        assert err.code == "AIB700" and err.span is not None
        assert (err.span.line, err.span.col) == (line, col)
        assert "placeholder" in err.message and err.hint and "quote it" in err.hint
    else:
        # only comments and trailing commas, which ARM tooling accepts: loads without an error
        assert at.startswith(("//", "/*", "}", "]")) or "trailing comma" in row["notes"]
        assert node is not None and not diags.has_errors, [d.format_text() for d in diags]


def test_unquoted_placeholder_file_is_reported_through_check_json_file() -> None:
    rows = [r for r in NOT_STRICT if "unquoted" in r["notes"]]
    assert rows
    for row in rows:
        m = _STRICT_ERROR.search(row["notes"])
        assert m is not None
        diags = DiagnosticBag()
        assert check_json_file(CORPUS / row["file"], diags) == []
        assert [(d.code, d.span.line if d.span else 0) for d in diags.errors] == [("AIB700", int(m.group(2)))]


@pytest.mark.parametrize("name", BICEP)
def test_bicep_files_are_refused_with_a_hint(name: str) -> None:
    diags = DiagnosticBag()
    assert check_json_file(CORPUS / name, diags) == []
    [d] = diags.items
    assert d.code == "AIB716" and "az bicep build" in d.message


_LITERAL_VERSION = re.compile(r"\d{4}-\d{2}-\d{2}(-preview)?")


@pytest.mark.parametrize("name", [n for n in NON_BICEP if "unquoted" not in BY_FILE[n]["notes"]])
def test_api_version_chosen_as_the_manifest_says(name: str) -> None:
    declared = BY_FILE[name]["apiVersion(s)"]
    diags = DiagnosticBag()
    models = check_json_file(CORPUS / name, diags)
    assert models
    version = models[0].api_version
    codes = {d.code for d in diags}
    if "=" in declared:  # e.g. [variables('api-version')]=2021-10-01
        assert version == declared.split("=")[-1]
    elif _LITERAL_VERSION.fullmatch(declared):
        if declared.endswith("-preview"):
            assert version == "2020-02-14" and "AIB712" in codes
        else:
            assert version == declared
    else:  # an expression without a literal default, or a placeholder
        assert version == DEFAULT_API_VERSION and "AIB713" in codes


def test_portal_export_read_only_fields_are_noted() -> None:
    name = next(n for n in NON_BICEP if "exported from Azure portal" in BY_FILE[n]["notes"])
    diags = DiagnosticBag()
    [model] = check_json_file(CORPUS / name, diags)
    notes = [d for d in diags if d.code == "AIB711"]
    assert sorted(d.message.split("`")[1].rsplit(".", 1)[-1] for d in notes) == ["clientId", "principalId"]
    identities = model.doc["identity"]["userAssignedIdentities"]
    assert all(v == {} for v in identities.values())
    lines = _text(name).splitlines()
    assert all('"principalId"' in lines[d.span.line - 1] or '"clientId"' in lines[d.span.line - 1]
               for d in notes if d.span)


def test_get_output_exact_version_is_noted() -> None:
    name = next(n for n in NON_BICEP if "read-only source.exactVersion" in BY_FILE[n]["notes"])
    diags = DiagnosticBag()
    [model] = check_json_file(CORPUS / name, diags)
    assert "exactVersion" not in model.doc["properties"]["source"]
    assert any(d.code == "AIB711" and "exactVersion" in d.message for d in diags)


def test_language_version_2_and_whole_properties_expression() -> None:
    name = next(n for n in NON_BICEP if "languageVersion 2.0" in BY_FILE[n]["notes"])
    diags = DiagnosticBag()
    [model] = check_json_file(CORPUS / name, diags)
    assert model.api_version == "2024-02-01"
    # evaluated (compiler/armeval): `properties` is built; what needs the module's required
    # parameters is listed as not checked, one line per section
    assert isinstance(model.doc["properties"], dict) and "vmProfile" in model.doc["properties"]
    not_checked = {d.message.split("`")[1] for d in diags if d.code == "AIB720"}
    assert {"properties.source", "properties.distribute", "identity"} <= not_checked


def test_nested_deployment_template_is_found() -> None:
    name = next(n for n in NON_BICEP if "nested deployments" in BY_FILE[n]["notes"])
    diags = DiagnosticBag()
    [model] = check_json_file(CORPUS / name, diags)
    span = model.span_at(())
    assert span is not None
    lines = _text(name).splitlines()
    assert "Microsoft.VirtualMachineImages/imageTemplates" in lines[model.spans[("type",)].line - 1]
    assert span.line > 300  # inside the nested deployment, not the outer template
    # the steps are passed into the nested deployment and evaluated: they are checked
    customize = model.doc["properties"]["customize"]
    assert isinstance(customize, list) and len(customize) > 5
    assert any(d.code == "AIB051" for d in diags)
