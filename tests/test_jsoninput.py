"""Finding image templates in JSON: ARM templates, nested deployments, bare resources, REST bodies."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from aibtui.compiler import check
from aibtui.compiler.diagnostics import Diagnostic, DiagnosticBag, Span
from aibtui.compiler.jsoninput import check_json_file, check_json_text, templates_from_json
from aibtui.compiler.jsonload import load_json
from aibtui.compiler.model import DEFAULT_API_VERSION, RESOURCE_TYPE, STABLE_API_VERSIONS, TemplateModel
from aibtui.compiler.nodes import Mapping, to_plain

IMAGE: dict[str, Any] = {
    "type": RESOURCE_TYPE,
    "apiVersion": "2022-07-01",
    "name": "web",
    "location": "westus2",
    "identity": {"type": "UserAssigned", "userAssignedIdentities": {"/subscriptions/x/id": {}}},
    "properties": {
        "source": {"type": "PlatformImage", "publisher": "Canonical", "offer": "o", "sku": "s",
                   "version": "latest"},
        "customize": [{"type": "Shell", "name": "a", "inline": ["echo hi"]}],
        "distribute": [{"type": "VHD", "runOutputName": "vhd"}],
    },
}


def find(doc: Any, text: str | None = None) -> tuple[list[TemplateModel], DiagnosticBag, str]:
    text = text if text is not None else json.dumps(doc, indent=2)
    diags = DiagnosticBag()
    node = load_json(text, "in.json", diags)
    assert node is not None, [d.format_text() for d in diags]
    return templates_from_json(node, "in.json", diags), diags, text


def codes(diags: DiagnosticBag) -> list[str]:
    return [d.code for d in diags]


def of(diags: DiagnosticBag, code: str) -> list[Diagnostic]:
    return [d for d in diags if d.code == code]


def source_at(text: str, span: Span | None) -> str:
    """The text a (single-line) span covers."""
    assert span is not None and span.line == span.end_line
    return text.splitlines()[span.line - 1][span.col - 1: span.end_col - 1]


def arm(*resources: Any, **extra: Any) -> dict[str, Any]:
    return {"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
            "contentVersion": "1.0.0.0", **extra, "resources": list(resources)}


# -- shapes ------------------------------------------------------------------------------------------------

def test_arm_template_with_a_resources_list() -> None:
    other = {"type": "Microsoft.ManagedIdentity/userAssignedIdentities", "apiVersion": "2018-11-30",
             "name": "id"}
    second = dict(IMAGE, name="win", type="microsoft.virtualmachineimages/IMAGETEMPLATES")
    models, diags, text = find(arm(other, IMAGE, second))
    assert [m.doc["name"] for m in models] == ["web", "win"]
    assert all(m.origin == "json" and m.file == "in.json" and m.api_version == "2022-07-01" for m in models)
    assert all(m.os_family is None for m in models)
    assert not diags.has_errors
    assert source_at(text, models[1].spans[("name",)]) == '"win"'
    assert source_at(text, models[0].key_spans[("properties", "customize")]) == '"customize"'
    assert source_at(text, models[0].spans[("properties", "customize", 0, "inline", 0)]) == '"echo hi"'


def test_arm_template_without_schema_but_with_resources() -> None:
    models, _, _ = find({"resources": [IMAGE]})
    assert len(models) == 1


def test_language_version_2_resources_object() -> None:
    doc = {"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
           "languageVersion": "2.0", "contentVersion": "1.0.0.0",
           "resources": {"id": {"type": "Microsoft.ManagedIdentity/userAssignedIdentities",
                                "apiVersion": "2018-11-30", "name": "id"},
                         "img": dict(IMAGE, dependsOn=["id"]),
                         "ref": dict(IMAGE, existing=True, name="old")}}
    models, diags, text = find(doc)
    assert [m.doc["name"] for m in models] == ["web"]
    assert models[0].doc["dependsOn"] == ["id"]
    # not deployed, so not a part left unchecked (AIB724, not AIB717)
    assert of(diags, "AIB724") and "existing" in of(diags, "AIB724")[0].message
    assert source_at(text, models[0].spans[("location",)]) == '"westus2"'


def test_nested_deployments_outer_and_inner_scope() -> None:
    inner_img = dict(IMAGE, name="inner", apiVersion="[parameters('ver')]")
    outer_img = dict(IMAGE, name="outer", apiVersion="[parameters('ver')]")
    inner_deployment = {
        "type": "Microsoft.Resources/deployments", "apiVersion": "2022-09-01", "name": "d1",
        "properties": {"mode": "Incremental", "expressionEvaluationOptions": {"scope": "inner"},
                       "parameters": {"ver": {"value": "2023-07-01"}},
                       "template": {"parameters": {"ver": {"type": "string", "defaultValue": "2021-10-01"}},
                                    "resources": [inner_img]}},
    }
    outer_deployment = {
        "type": "Microsoft.Resources/deployments", "apiVersion": "2022-09-01", "name": "d2",
        "properties": {"mode": "Incremental",
                       "template": {"resources": [{"type": "Microsoft.Resources/deployments",
                                                   "name": "deeper", "properties": {
                                                       "template": {"resources": [outer_img]}}}]}},
    }
    linked = {"type": "Microsoft.Resources/deployments", "name": "d3",
              "properties": {"templateLink": {"uri": "https://example.com/t.json"}}}
    doc = arm(inner_deployment, outer_deployment, linked,
              parameters={"ver": {"type": "string", "defaultValue": "2022-02-14"}})
    models, diags, text = find(doc)
    by_name = {m.doc["name"]: m for m in models}
    assert list(by_name) == ["inner", "outer"]
    assert by_name["inner"].api_version == "2023-07-01"  # the value passed in beats the inner default
    assert by_name["outer"].api_version == "2022-02-14"  # outer scope: the parent template's parameter
    assert source_at(text, by_name["outer"].spans[("name",)]) == '"outer"'
    assert any("templateLink" in d.message for d in of(diags, "AIB717"))
    assert not diags.has_errors


def test_inner_scope_passed_value_wins_even_when_unknown() -> None:
    img = dict(IMAGE, apiVersion="[parameters('ver')]")
    dep = {"type": "Microsoft.Resources/deployments", "name": "d",
           "properties": {"expressionEvaluationOptions": {"scope": "Inner"},
                          "parameters": {"ver": {"value": "[parameters('outerVer')]"}},
                          "template": {"parameters": {"ver": {"defaultValue": "2021-10-01"}},
                                       "resources": [img]}}}
    models, diags, _ = find(arm(dep, parameters={"outerVer": {"type": "string"}}))
    # ARM uses the passed value, which has no value here: not the inner default
    assert models[0].api_version == DEFAULT_API_VERSION
    assert of(diags, "AIB713")
    models, diags, _ = find(arm(dep))  # outerVer is not declared: ARM would refuse the deployment
    assert of(diags, "AIB721") and "outerVer" in of(diags, "AIB721")[0].message
    dep["properties"]["parameters"] = {}
    models, _, _ = find(arm(dep))
    assert models[0].api_version == "2021-10-01"


def test_bare_resource() -> None:
    models, diags, text = find(IMAGE)
    [model] = models
    assert model.api_version == "2022-07-01" and model.doc == IMAGE
    assert not list(diags)
    assert source_at(text, model.key_spans[("apiVersion",)]) == '"apiVersion"'


def test_rest_body_without_type_or_api_version() -> None:
    body = {"location": "westus2", "identity": IMAGE["identity"], "properties": IMAGE["properties"]}
    models, diags, text = find(body)
    [model] = models
    assert model.api_version == DEFAULT_API_VERSION
    assert model.doc["type"] == RESOURCE_TYPE and model.doc["apiVersion"] == DEFAULT_API_VERSION
    [note] = of(diags, "AIB713")
    assert DEFAULT_API_VERSION in note.message and note.severity.value == "note"
    assert ("type",) not in model.spans  # supplied, not read: no span of its own
    assert model.span_at(("type",)) == model.spans[()]
    assert source_at(text, model.spans[("location",)]) == '"westus2"'


def test_get_export_read_only_fields_are_removed_and_noted() -> None:
    get = {
        "id": "/subscriptions/x/resourceGroups/rg/providers/Microsoft.VirtualMachineImages/imageTemplates/web",
        "name": "web", "type": RESOURCE_TYPE, "location": "westus2",
        "systemData": {"createdBy": "me"},
        "identity": {"type": "UserAssigned", "userAssignedIdentities": {
            "/subscriptions/x/id": {"principalId": "p", "clientId": "c"}}},
        "properties": {
            "source": dict(IMAGE["properties"]["source"], exactVersion="22.04.202401010"),
            "customize": IMAGE["properties"]["customize"],
            "distribute": IMAGE["properties"]["distribute"],
            "provisioningState": "Succeeded",
            "lastRunStatus": {"runState": "Succeeded"},
            "provisioningError": {"provisioningErrorCode": "None"},
        },
    }
    text = json.dumps(get, indent=2)
    diags = DiagnosticBag()
    node = load_json(text, "in.json", diags)
    assert node is not None
    before = to_plain(node)
    [model] = templates_from_json(node, "in.json", diags)
    assert to_plain(node) == before  # the loaded nodes are not mutated
    for gone in ("id", "systemData"):
        assert gone not in model.doc
    assert model.doc["identity"]["userAssignedIdentities"] == {"/subscriptions/x/id": {}}
    props = model.doc["properties"]
    assert set(props) == {"source", "customize", "distribute"}
    assert "exactVersion" not in props["source"]
    notes = of(diags, "AIB711")
    named = sorted(d.message.split("`")[1] for d in notes)
    assert named == sorted([
        "id", "systemData", "identity.userAssignedIdentities.<id>.principalId",
        "identity.userAssignedIdentities.<id>.clientId", "properties.source.exactVersion",
        "properties.provisioningState", "properties.lastRunStatus", "properties.provisioningError",
    ])
    assert all(d.severity.value == "note" and "read-only" in d.message for d in notes)
    spans = {d.message.split("`")[1]: d.span for d in notes}
    assert source_at(text, spans["properties.provisioningState"]) == '"provisioningState"'
    assert source_at(text, spans["id"]) == '"id"'
    assert ("id",) not in model.spans and ("properties", "source", "exactVersion") not in model.spans


@pytest.mark.parametrize("version", ["2018-02-01-preview", "2019-02-01-preview", "2019-05-01-preview"])
def test_preview_version_is_checked_as_2020_02_14_with_a_warning(version: str) -> None:
    doc = dict(IMAGE, apiVersion=version)
    doc["properties"] = dict(IMAGE["properties"], customize=[{"type": "shell", "name": "a", "script": "x"}])
    models, diags, text = find(doc)
    [model] = models
    assert model.api_version == "2020-02-14" and model.doc["apiVersion"] == "2020-02-14"
    [warning] = of(diags, "AIB712")
    # S-02: an error, as AIB410 is for the same apiVersion in the dialect (issue 15: JSON and YAML agree)
    assert warning.severity.value == "error"
    assert version in warning.message and "2020-02-14" in warning.message and "retired" in warning.message
    assert warning.hint and "`shell`" in warning.hint and "`Shell`" in warning.hint
    assert source_at(text, warning.span) == f'"{version}"'
    assert source_at(text, model.spans[("apiVersion",)]) == f'"{version}"'  # points at what was written


def test_api_version_from_parameter_default_and_variable() -> None:
    doc = arm(dict(IMAGE, apiVersion="[parameters('API-Version')]"), dict(IMAGE, name="b",
              apiVersion="[variables('ver')]"),
              parameters={"api-version": {"type": "string", "defaultValue": "2023-07-01"}},
              variables={"ver": "2021-10-01"})
    models, diags, _ = find(doc)
    assert [m.api_version for m in models] == ["2023-07-01", "2021-10-01"]
    assert [m.doc["apiVersion"] for m in models] == ["2023-07-01", "2021-10-01"]
    assert not of(diags, "AIB713")


@pytest.mark.parametrize(("api_version", "params", "code", "expected"), [
    ("[parameters('v')]", {"v": {"type": "string"}}, "AIB713", DEFAULT_API_VERSION),
    ("[parameters('v')]", {"v": {"defaultValue": "[variables('x')]"}}, "AIB713", DEFAULT_API_VERSION),
    ("[reference('x').apiVersion]", {}, "AIB713", DEFAULT_API_VERSION),
    ("[concat('2021-', '10-01')]", {}, None, "2021-10-01"),
    ("<apiVersion>", {}, "AIB713", DEFAULT_API_VERSION),
    ("2021-03-01", {}, "AIB714", "2020-02-14"),
    ("2030-01-01", {}, "AIB714", "2025-10-01"),
    ("latest", {}, "AIB714", DEFAULT_API_VERSION),
])
def test_api_version_that_cannot_be_used(api_version: str, params: dict[str, Any], code: str,
                                         expected: str) -> None:
    models, diags, _ = find(arm(dict(IMAGE, apiVersion=api_version), parameters=params))
    assert models[0].api_version == expected
    if code is None:  # an expression the evaluator computes (compiler/armeval)
        assert not of(diags, "AIB713") and not of(diags, "AIB714")
        return
    [d] = of(diags, code)
    assert expected in d.message


def test_values_known_only_at_deployment_are_listed_as_not_checked() -> None:
    doc = dict(IMAGE, properties="[reference('props').value]", tags="[parameters('tags')]")
    models, diags, text = find(arm(doc, parameters={"tags": {"type": "object"}}))
    assert len(models) == 1
    notes = of(diags, "AIB720")
    assert sorted(d.message.split("`")[1] for d in notes) == ["properties", "tags"]
    assert any("reference()" in d.message for d in notes)
    assert any("parameter 'tags' has no value" in d.message for d in notes)
    doc = dict(IMAGE)
    doc["properties"] = dict(IMAGE["properties"], customize="[variables('steps')]")
    [model], diags, text = find(arm(doc, variables={"steps": "[reference('x').outputs.steps.value]"}))
    [note] = of(diags, "AIB720")
    assert "`properties.customize`" in note.message
    assert model.doc["properties"]["customize"] == "[reference('x').outputs.steps.value]"
    # a variable with literal steps is evaluated: nothing is left unchecked
    [model], diags, _ = find(arm(doc, variables={"steps": [{"type": "Shell", "name": "v", "inline": ["x"]}]}))
    assert not of(diags, "AIB720") and model.doc["properties"]["customize"][0]["name"] == "v"


def test_copy_loop_is_expanded_and_arm_only_keys_dropped() -> None:
    doc = dict(IMAGE, name="[format('web-{0}', copyIndex())]", copy={"name": "c", "count": 2}, condition=True,
               comments="x")
    models, diags, _ = find(arm(doc))
    assert [m.doc["name"] for m in models] == ["web-0", "web-1"]
    assert all("copy" not in m.doc for m in models)
    assert models[0].doc["condition"] is True and models[0].doc["comments"] == "x"


# -- not an image template ----------------------------------------------------------------------------

@pytest.mark.parametrize(("doc", "words"), [
    ([IMAGE], "is a list"),
    ("text", "is a string"),
    ({"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",
      "parameters": {"a": {"value": 1}}}, "parameters file"),
    ({"name": "x", "version": 3}, "no image template here"),
    (IMAGE["properties"], "looks like the `properties`"),
    (arm({"type": "Microsoft.Storage/storageAccounts", "name": "s"}), "has no Microsoft.VirtualMachineImages"),
])
def test_not_an_image_template(doc: Any, words: str) -> None:
    models, diags, _ = find(doc)
    assert models == []
    [err] = diags.errors
    assert err.code == "AIB710" and words in err.message
    assert err.hint
    if "storageAccounts" in json.dumps(doc):
        assert "Microsoft.Storage/storageAccounts" in err.hint


# -- check_json_text / check_json_file --------------------------------------------------------------

def test_check_json_text_checks_every_template(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[str, str]] = []

    def fake(model: TemplateModel, diags: DiagnosticBag, *, schema_engine: str = "builtin") -> None:
        seen.append((model.doc["name"], schema_engine))

    monkeypatch.setattr(check, "check_model", fake)
    diags = DiagnosticBag()
    text = "// two\n" + json.dumps(arm(IMAGE, dict(IMAGE, name="b")))
    models = check_json_text(text, "in.json", diags, schema_engine="jsonschema")
    assert len(models) == 2
    assert seen == [("web", "jsonschema"), ("b", "jsonschema")]


def test_check_json_text_runs_the_real_checks() -> None:
    diags = DiagnosticBag()
    models = check_json_text(json.dumps(IMAGE), "in.json", diags)
    assert len(models) == 1
    diags = DiagnosticBag()
    assert check_json_text('{"a": <x>}', "in.json", diags) == []
    assert codes(diags) == ["AIB700"]


def test_check_json_file_refusals(tmp_path: Path) -> None:
    diags = DiagnosticBag()
    assert check_json_file(tmp_path, diags) == []
    assert codes(diags) == ["AIB100"] and "directory" in diags.items[0].message

    diags = DiagnosticBag()
    assert check_json_file(tmp_path / "missing.json", diags) == []
    assert codes(diags) == ["AIB100"]

    bicep = tmp_path / "main.bicep"
    bicep.write_text("resource x 'Microsoft.VirtualMachineImages/imageTemplates@2024-02-01' = {}\n")
    diags = DiagnosticBag()
    assert check_json_file(bicep, diags) == []
    [d] = diags.items
    assert d.code == "AIB716" and d.severity.value == "error"
    assert "compile it with `az bicep build` and check the JSON" in d.message

    if os.name == "posix":
        fifo = tmp_path / "pipe.json"
        os.mkfifo(fifo)
        diags = DiagnosticBag()
        assert check_json_file(fifo, diags) == []  # refused, not blocked on
        assert codes(diags) == ["AIB100"] and "regular file" in diags.items[0].message

        diags = DiagnosticBag()
        assert check_json_file("/dev/zero", diags) == []
        assert codes(diags) == ["AIB100"]

    utf16 = tmp_path / "u16.json"
    utf16.write_bytes(json.dumps(IMAGE).encode("utf-16"))
    diags = DiagnosticBag()
    assert check_json_file(utf16, diags) == []
    assert codes(diags) == ["AIB108"]

    big = tmp_path / "big.json"
    big.write_bytes(b"[" + b"0," * (2 * 1024 * 1024 + 10) + b"0]")
    diags = DiagnosticBag()
    assert check_json_file(big, diags) == []
    assert codes(diags) == ["AIB702"]


def test_check_json_file_with_bom_and_crlf_keeps_positions(tmp_path: Path) -> None:
    text = json.dumps(IMAGE, indent=2).replace("\n", "\r\n")
    path = tmp_path / "t.json"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    diags = DiagnosticBag()
    [model] = check_json_file(path, diags)
    assert model.file == str(path)
    span = model.spans[("location",)]
    assert source_at(text, span) == '"westus2"'
    assert isinstance(load_json(text, "x", DiagnosticBag()), Mapping)


# -- robustness: odd shapes never raise -----------------------------------------------------------------

_KEYS = ["type", "apiVersion", "resources", "properties", "template", "parameters", "variables",
         "defaultValue", "value", "identity", "userAssignedIdentities", "principalId", "source",
         "exactVersion", "customize", "distribute", "expressionEvaluationOptions", "scope", "copy",
         "existing", "$schema", "id", "templateLink", "name"]
_STRINGS = [RESOURCE_TYPE, "Microsoft.Resources/deployments", "[parameters('v')]", "[variables('v')]",
            "2019-05-01-preview", "2024-02-01", "inner", "<apiVersion>", "deploymentTemplate", "x", "["]


def _random_value(rng: Any, depth: int) -> Any:
    roll = rng.random()
    if depth > 5 or roll < 0.3:
        return rng.choice([*_STRINGS, 1, 2.5, True, None, [], {}])
    if roll < 0.45:
        return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice(_KEYS): _random_value(rng, depth + 1) for _ in range(rng.randint(0, 6))}


def test_random_template_shapes_never_raise() -> None:
    import random

    rng = random.Random(1402)
    for _ in range(500):
        doc = _random_value(rng, 0)
        if rng.random() < 0.5:
            doc = {"$schema": "deploymentTemplate.json", "resources": [doc, dict(IMAGE, **(
                doc if isinstance(doc, dict) else {}))]}
        diags = DiagnosticBag()
        node = load_json(json.dumps(doc), "in.json", diags)
        assert node is not None
        models = templates_from_json(node, "in.json", diags)
        for model in models:
            assert model.origin == "json" and model.api_version in STABLE_API_VERSIONS
            assert model.doc.get("apiVersion") == model.api_version
        if not models:
            assert diags.has_errors


def test_json_codes_are_registered_in_their_range() -> None:
    import re as _re

    from aibtui.compiler import jsoninput, jsonload
    from aibtui.compiler.codes import CODES
    from aibtui.compiler.json_codes import JSON_CODES

    for code, info in JSON_CODES.items():
        assert code in CODES and 700 <= int(code[3:]) <= 799
        assert info.title and info.severity in ("error", "warning", "note")
    used: set[str] = set()
    for module in (jsonload, jsoninput):
        # call sites spell codes as constants of compiler/code_ids.py (issue 15)
        used |= set(_re.findall(r'\bC\.(AIB\d{3})\b', Path(module.__file__).read_text(encoding="utf-8")))
    assert used - {"AIB100", "AIB108"} <= set(JSON_CODES)
    assert "AIB700" in used
