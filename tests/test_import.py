"""`aibtui import`: shorthands, variables, ARM expressions, previews, read-only fields, bad input, CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from aibtui.cli.main import main
from aibtui.compiler import CompileOptions, compile_file
from aibtui.compiler.importer import ImportOptions, import_text

IDENTITY = "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/aib"
GALLERY = "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/web"


def template(**props: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "type": "Microsoft.VirtualMachineImages/imageTemplates", "apiVersion": "2024-02-01", "name": "web",
        "location": "westus2",
        "identity": {"type": "UserAssigned", "userAssignedIdentities": {IDENTITY: {}}},
        "properties": {
            "source": {"type": "PlatformImage", "publisher": "Canonical", "offer": "ubuntu-24_04-lts",
                       "sku": "minimal", "version": "latest"},
            "customize": [{"type": "Shell", "name": "hello", "inline": ["echo hello"]}],
            "distribute": [{"type": "SharedImage", "galleryImageId": GALLERY, "runOutputName": "web",
                            "targetRegions": [{"name": "westus2"}]}],
        },
    }
    base["properties"].update(props)
    return base


def imported(doc: Any, options: ImportOptions | None = None, file: str = "in.json") -> Any:
    text = doc if isinstance(doc, str) else json.dumps(doc, indent=2)
    return import_text(text, file, options)


def compiled(tmp_path: Path, text: str, *, sets: dict[str, str] | None = None, fmt: str = "resource") -> Any:
    path = tmp_path / "t.aib.yaml"
    path.write_text(text, encoding="utf-8")
    return compile_file(path, CompileOptions(format=fmt, sets=sets or {}))


def codes(result: Any) -> set[str]:
    return {d.code for d in result.diagnostics}


# -- shorthands ------------------------------------------------------------------------------------

def test_a_plain_template_becomes_short_idiomatic_yaml(tmp_path: Path) -> None:
    doc = template(buildTimeoutInMinutes=90, vmProfile={"vmSize": "Standard_D2s_v3", "osDiskSizeGB": 64})
    result = imported(doc)
    (tpl,) = result.templates
    assert tpl.exact and result.ok
    assert "source: Canonical:ubuntu-24_04-lts:minimal:latest" in tpl.text
    assert f"identity: {IDENTITY}" in tpl.text
    assert "build: {vmSize: Standard_D2s_v3, osDiskSizeGB: 64, timeout: 90m}" in tpl.text
    assert "- gallery: " + GALLERY in tpl.text and "runOutputName" not in tpl.text  # derived from the id
    assert "shell: |\n      echo hello" in tpl.text
    res = compiled(tmp_path, tpl.text)
    assert res.ok and res.document == doc
    assert len(tpl.text.splitlines()) < len(json.dumps(doc, indent=2).splitlines()) / 2


def test_step_order_names_and_kinds_are_kept(tmp_path: Path) -> None:
    steps = [
        {"type": "PowerShell", "name": "b", "scriptUri": "https://x/y.ps1", "runElevated": True},
        {"type": "WindowsRestart", "restartTimeout": "10m"},
        {"type": "File", "name": "a", "sourceUri": "https://x/f", "destination": "C:\\f"},
        {"type": "WindowsUpdate", "searchCriteria": "IsInstalled=0", "filters": ["include:$true"], "updateLimit": 5},
        {"type": "PowerShell", "name": "c", "inline": ["Write-Host 1", "", "Write-Host 2"], "runAsSystem": True},
        {"type": "WindowsRestart"},
        # `extra` is no key of a Shell step in the schema: dropped with a warning (AIB818), so the
        # imported file compiles (issue 15; it used to be kept verbatim and fail with AIB501)
        {"type": "Shell", "name": "odd", "inline": ["x"], "extra": 1},
    ]
    doc = template(customize=steps)
    result = imported(doc)
    (tpl,) = result.templates
    assert tpl.exact, result.diagnostics
    [dropped] = [d for d in result.diagnostics if d.code == "AIB818"]
    assert "properties.customize[6].extra" in dropped.message and dropped.severity.value == "warning"
    res = compiled(tmp_path, tpl.text)
    assert not [d for d in res.errors if d.code.startswith(("AIB4", "AIB5"))]  # (a Linux source: WR-01 errors)
    assert res.model is not None and res.model.doc["properties"]["customize"] == steps[:6] + [
        {"type": "Shell", "name": "odd", "inline": ["x"]}]


def test_quoting_survives_yaml_1_1_and_the_renderer(tmp_path: Path) -> None:
    tricky = ["no", "yes", "on", "off", "1.10", "2024-01-01", "*", "@x", "%x", "!x", "&a", "~", "null", "",
              " lead", "trail ", "a: b", "a #b", "- x", "? x", "{{.ID}}", "docker ps --format '{{.ID}}'",
              "n=${#arr[@]}", "{% x %}", "tab\there", "line\u2028sep", "del\x7f", "é ☃ 🚀", "0x1F", "1e3",
              "0o17", ".inf", "=", "<<", "|", ">", "it's", '"q"', "[not arm", "a,b", "{x}", "--", "---", "a\nb"]
    tags = {f"t{i}": v for i, v in enumerate(tricky)}
    lines = ["echo {{ not a var }}", "", "  indented", "trailing  ", "x=${#a}", "{% raw %}"]
    doc = template(customize=[{"type": "Shell", "name": "s", "inline": lines},
                              {"type": "Shell", "name": "t", "inline": ["\nstarts with a newline", "ok"]}])
    doc["tags"] = tags
    result = imported(doc)
    (tpl,) = result.templates
    assert tpl.exact, [d.format_text() for d in result.diagnostics]
    res = compiled(tmp_path, tpl.text)
    assert res.model is not None
    assert res.model.doc["tags"] == tags
    assert res.model.doc["properties"]["customize"] == doc["properties"]["customize"]
    loaded = yaml.safe_load(tpl.text)  # any YAML 1.1 reader sees strings where the template has strings
    assert all(isinstance(v, str) for v in loaded["tags"].values())


def test_a_matching_built_in_profile_is_offered_as_extends(tmp_path: Path) -> None:
    doc = template()
    doc["properties"]["source"] = {"type": "PlatformImage", "publisher": "Canonical",
                                   "offer": "0001-com-ubuntu-server-jammy", "sku": "22_04-lts-gen2",
                                   "version": "latest"}
    (tpl,) = imported(doc).templates
    assert tpl.profile == "ubuntu-22.04-gen2" and "extends: ubuntu-22.04-gen2" in tpl.text
    assert "source:" not in tpl.text
    res = compiled(tmp_path, tpl.text)
    assert res.ok and res.document == doc
    (plain,) = imported(doc, ImportOptions(profiles=False)).templates
    assert plain.profile is None and "source: Canonical:0001-com-ubuntu-server-jammy" in plain.text


def test_import_is_deterministic() -> None:
    doc = template(buildTimeoutInMinutes=100)
    assert imported(doc).templates[0].text == imported(doc).templates[0].text


# -- placeholders and ARM expressions ------------------------------------------------------------

def test_placeholders_become_set_me_variables(tmp_path: Path) -> None:
    doc = template()
    doc["location"] = "<image location>"
    doc["properties"]["distribute"][0]["galleryImageId"] = GALLERY.replace("0000", "<subscriptionID>")
    result = imported(doc)
    (tpl,) = result.templates
    assert tpl.exact
    assert {v.name: v.value for v in tpl.variables} == {"image_location": None, "subscriptionID": None}
    assert "SET ME" in tpl.text and "location: '{{ image_location }}'" in tpl.text
    res = compiled(tmp_path, tpl.text)
    unset = [d for d in res.diagnostics if d.code == "AIB309"]
    assert {d.message.split("`")[1] for d in unset} == {"image_location", "subscriptionID"}
    assert all(d.span is not None and d.span.line >= 1 and "--set" in (d.hint or "") for d in unset)
    res = compiled(tmp_path, tpl.text, sets={"image_location": "westus2", "subscriptionID": "0000"})
    assert res.ok and res.document is not None and res.document["location"] == "westus2"
    assert res.document["properties"]["distribute"][0]["galleryImageId"] == GALLERY


ARM = {
    "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
    "contentVersion": "1.0.0.0",
    "parameters": {
        "imageTemplateName": {"type": "string"},
        "api-version": {"type": "string", "defaultValue": "2022-07-01"},
        "vmSize": {"type": "string", "defaultValue": "Standard_D2s_v3",
                   "metadata": {"description": "size of the build VM"}},
        "disk": {"type": "int", "defaultValue": 64},
        "suffix": {"type": "string"},
    },
    "variables": {"region": "westus2", "runOutput": "[concat('out-', parameters('suffix'))]"},
    "resources": [{
        "type": "Microsoft.VirtualMachineImages/imageTemplates", "apiVersion": "[parameters('api-version')]",
        "name": "[parameters('imageTemplateName')]", "location": "[variables('region')]",
        "dependsOn": [], "identity": {"type": "UserAssigned", "userAssignedIdentities": {IDENTITY: {}}},
        "properties": {
            "vmProfile": {"vmSize": "[parameters('vmSize')]", "osDiskSizeGB": "[parameters('disk')]"},
            "source": {"type": "PlatformImage", "publisher": "Canonical", "offer": "ubuntu-24_04-lts",
                       "sku": "server", "version": "latest"},
            "customize": [{"type": "Shell", "name": "a", "inline": ["echo a"]}],
            "distribute": [{"type": "VHD", "runOutputName": "[variables('runOutput')]"}],
        },
    }],
}


def test_arm_references_with_values_become_variables_and_the_rest_stays_working(tmp_path: Path) -> None:
    result = imported(ARM)
    (tpl,) = result.templates
    assert tpl.exact, [d.format_text() for d in result.diagnostics]
    assert {v.name: v.value for v in tpl.variables} == {"region": "westus2", "vmSize": "Standard_D2s_v3",
                                                       "disk": 64}
    assert "size of the build VM" in tpl.text  # the parameter's description, as the variable's comment
    assert "apiVersion: '2022-07-01'" in tpl.text
    kept = [d for d in result.diagnostics if d.code == "AIB810"]
    assert {d.message.split(": ", 1)[1] for d in kept} == {"[parameters('imageTemplateName')]",
                                                           "[variables('runOutput')]"}
    arm = compiled(tmp_path, tpl.text, fmt="arm")
    assert arm.ok and arm.document is not None
    assert set(arm.document["parameters"]) == {"imageTemplateName", "suffix"}  # transitively, through runOutput
    assert arm.document["variables"] == {"runOutput": "[concat('out-', parameters('suffix'))]"}
    res = arm.document["resources"][0]
    assert res["name"] == "[parameters('imageTemplateName')]"
    assert res["properties"]["vmProfile"] == {"vmSize": "Standard_D2s_v3", "osDiskSizeGB": 64}
    body = compiled(tmp_path, tpl.text, fmt="body")
    assert body.ok and "AIB860" in {d.code for d in body.diagnostics}
    assert "parameters" not in (body.document or {})


def test_an_arm_section_of_the_wrong_shape_is_an_error(tmp_path: Path) -> None:
    text = imported(template()).templates[0].text + "arm: {outputs: {}}\n"
    res = compiled(tmp_path, text, fmt="arm")
    assert "AIB861" in {d.code for d in res.diagnostics} and not res.ok


def test_customizers_supplied_by_a_parameter_are_refused_precisely() -> None:
    arm = json.loads(json.dumps(ARM))
    arm["resources"][0]["properties"]["customize"] = "[parameters('steps')]"
    result = imported(arm)
    (err,) = [d for d in result.diagnostics if d.severity.value == "error"]
    assert err.code == "AIB800" and "properties.customize" in err.message and err.span is not None
    assert result.templates[0].text is None
    arm["resources"][0]["properties"] = "[shallowMerge(createArray(variables('a')))]"
    result = imported(arm)
    assert any(d.code == "AIB800" and "`properties`" in d.message for d in result.diagnostics)


# -- previews, exports, odd inputs -------------------------------------------------------------------

def test_a_preview_template_is_mapped_to_the_first_stable_version(tmp_path: Path) -> None:
    doc = template()
    doc["apiVersion"] = "2019-05-01-preview"
    doc["properties"]["customize"][0]["type"] = "shell"
    doc["properties"]["distribute"] = [{"type": "sharedImage", "galleryImageId": GALLERY, "runOutputName": "web",
                                        "replicationRegions": ["westus2"]}]
    result = imported(doc)
    (tpl,) = result.templates
    assert tpl.exact and {"AIB813", "AIB817"} <= codes(result)
    assert "apiVersion: '2020-02-14'" in tpl.text and "regions: [westus2]" in tpl.text
    res = compiled(tmp_path, tpl.text)
    assert res.document is not None
    assert res.document["properties"]["customize"][0]["type"] == "Shell"
    assert res.document["properties"]["distribute"][0]["type"] == "SharedImage"


def test_an_iso_source_is_refused() -> None:
    doc = template()
    doc["apiVersion"] = "2019-05-01-preview"
    doc["properties"]["source"] = {"type": "ISO", "sourceURI": "https://x/rhel.iso", "sha256Checksum": "ab"}
    result = imported(doc)
    assert "AIB803" in codes(result) and result.templates[0].text is None


def test_read_only_fields_of_a_get_export_are_dropped_with_a_note(tmp_path: Path) -> None:
    doc = template()
    doc.pop("type")
    doc.pop("apiVersion")
    doc["id"] = "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.VirtualMachineImages/imageTemplates/web"
    doc["identity"]["userAssignedIdentities"][IDENTITY] = {"principalId": "p", "clientId": "c"}
    doc["properties"].update(provisioningState="Succeeded", lastRunStatus={"runState": "Succeeded"})
    doc["properties"]["source"]["exactVersion"] = "1.2.3"
    result = imported(doc, ImportOptions(api_version="2024-02-01"))
    (tpl,) = result.templates
    assert tpl.exact
    notes = [d.message for d in result.diagnostics if d.code == "AIB711"]
    assert len(notes) == 6
    for word in ("provisioningState", "lastRunStatus", "exactVersion", "principalId", "clientId"):
        assert word not in tpl.text


def test_comments_trailing_commas_crlf_and_a_bom_are_read(tmp_path: Path) -> None:
    text = json.dumps(template(), indent=2)
    text = text.replace('"location": "westus2",', '"location": "westus2", // the region\n  /* block */')
    text = text.replace('"latest"', '"latest",')  # a trailing comma
    text = "\ufeff" + text.replace("\n", "\r\n")
    result = imported(text)
    (tpl,) = result.templates
    assert tpl.exact and result.ok
    res = compiled(tmp_path, tpl.text)
    assert res.document == template()


@pytest.mark.parametrize(("text", "line", "col"), [
    ('{\n  "name": "x",\n  "location": westus2\n}', 3, 15),
    ('{\n  "properties": {"source": {}]\n}', 2, 30),
    ('{"a": 1]}', 1, 8),
    ('{"type": "x", "name": tru}', 1, 23),
    ('{"a": "x" "b": 1}', 1, 10),
    ('{\r\n  "location": <region>\r\n}', 2, 15),
])
def test_broken_json_is_reported_at_its_line_and_column(tmp_path: Path, text: str, line: int, col: int,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    result = imported(text)
    (err,) = [d for d in result.diagnostics if d.severity.value == "error"]
    assert err.code == "AIB700" and err.span is not None and (err.span.line, err.span.col) == (line, col)
    src = tmp_path / "broken.json"
    src.write_text(text, encoding="utf-8")
    out = tmp_path / "out.aib.yaml"
    assert main(["import", str(src), "-o", str(out)]) == 1
    assert not out.exists()
    assert main(["check", str(src)]) == 1
    assert f"broken.json:{line}:{col}: error: AIB700" in capsys.readouterr().err


def test_bicep_is_refused_with_the_command_that_compiles_it(tmp_path: Path) -> None:
    src = tmp_path / "main.bicep"
    src.write_text("param x string\n", encoding="utf-8")
    assert main(["import", str(src)]) == 1


# -- several templates, the CLI ----------------------------------------------------------------------

def _two_templates() -> dict[str, Any]:
    arm = json.loads(json.dumps(ARM))
    second = json.loads(json.dumps(arm["resources"][0]))
    arm["resources"][0]["name"] = "first"
    second["name"] = "second"
    arm["resources"].append(second)
    return arm


def test_several_templates_need_a_folder_or_a_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "two.json"
    src.write_text(json.dumps(_two_templates()), encoding="utf-8")
    assert main(["import", str(src)]) == 1
    assert "AIB801" in capsys.readouterr().err
    assert main(["import", str(src), "--resource", "second", "--no-notes"]) == 0
    assert "name: second" in capsys.readouterr().out
    assert main(["import", str(src), "--resource", "third"]) == 1
    assert "AIB802" in capsys.readouterr().err
    out = tmp_path / "out"
    assert main(["import", str(src), "-o", str(out) + "/", "-W"]) == 1  # warnings (kept expressions) as errors
    assert not out.exists()
    assert main(["import", str(src), "-o", str(out) + "/"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["first.aib.yaml", "second.aib.yaml"]


def test_output_is_written_only_when_it_changes(tmp_path: Path) -> None:
    src = tmp_path / "t.json"
    src.write_text(json.dumps(template()), encoding="utf-8")
    out = tmp_path / "web.aib.yaml"
    assert main(["import", str(src), "-o", str(out)]) == 0
    first = out.stat().st_mtime_ns
    assert main(["import", str(src), "-o", str(out)]) == 0
    assert out.stat().st_mtime_ns == first
    assert compile_file(out).ok


def test_the_import_path_loads_no_ui_or_azure_code(tmp_path: Path) -> None:
    src = tmp_path / "t.json"
    src.write_text(json.dumps(template()), encoding="utf-8")
    code = ("import sys; from aibtui.compiler.importer import import_file; "
            f"r = import_file({str(src)!r}); assert r.templates[0].exact; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'azure', 'rich')]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_nested_deployment_is_evaluated_and_declares_what_its_expressions_use() -> None:
    inner = json.loads(json.dumps(ARM))
    inner["resources"][0]["apiVersion"] = "2022-07-01"
    outer = {
        "$schema": ARM["$schema"], "contentVersion": "1.0.0.0", "parameters": {}, "resources": [{
            "type": "Microsoft.Resources/deployments", "apiVersion": "2022-09-01", "name": "nested",
            "properties": {"mode": "Incremental", "expressionEvaluationOptions": {"scope": "inner"},
                           "template": inner},
        }],
    }
    result = imported(outer)
    (tpl,) = result.templates
    # evaluated (compiler/armeval): the inner parameter without a value becomes a "set me" variable,
    # and an expression over another one stays an ARM expression whose parameter `arm:` declares
    assert tpl.exact
    assert "runOutputName: '[concat(''out-'', parameters(''suffix''))]'" in tpl.text
    assert "arm:\n  parameters:\n    suffix: {type: string}" in tpl.text
    assert [(v.name, v.value) for v in tpl.variables] == [("imageTemplateName", None)]
    assert tpl.sets == {"imageTemplateName": "[parameters('imageTemplateName')]"}


def test_language_version_2_resources_are_found_with_their_parameters() -> None:
    arm = json.loads(json.dumps(ARM))
    arm["languageVersion"] = "2.0"
    arm["resources"] = {"template": arm["resources"][0]}
    (tpl,) = imported(arm).templates
    assert tpl.exact and {v.name for v in tpl.variables} == {"region", "vmSize", "disk"}


def test_a_parameter_default_holding_a_placeholder_is_a_variable_to_set(tmp_path: Path) -> None:
    arm = json.loads(json.dumps(ARM))
    arm["parameters"]["vmSize"]["defaultValue"] = "<vm size>"
    result = imported(arm)
    (tpl,) = result.templates
    assert tpl.exact and {v.name: v.value for v in tpl.variables}["vmSize"] is None
    assert tpl.sets["vmSize"] == "[parameters('vmSize')]"
    assert "SET ME" in tpl.text


def test_many_strings_with_template_marks_use_a_brace_variable(tmp_path: Path) -> None:
    steps = [{"type": "Shell", "name": f"s{i}", "inline": [f"docker ps --format '{{{{.ID}}}}' # {i}", "n=${#a}"]}
             for i in range(450)]
    steps.append({"type": "Shell", "name": "raw", "inline": ["echo '{% endraw %}' {{x}}"]})
    doc = template(customize=steps)
    (tpl,) = imported(doc).templates
    assert tpl.exact and "lbrace: '{'" in tpl.text and "{% raw %}" not in tpl.text
    res = compiled(tmp_path, tpl.text)
    assert res.model is not None and res.model.doc["properties"]["customize"] == steps
    few = template(customize=steps[:3] + steps[-1:])
    (tpl,) = imported(few).templates
    assert tpl.exact and "{% raw %}docker ps" in tpl.text and "lbrace" in tpl.text  # endraw needs the variable
