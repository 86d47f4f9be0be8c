"""Lowering: dialect shorthands -> the official JSON, with spans pointing back at the YAML."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from aibtui.compiler.diagnostics import DiagnosticBag
from aibtui.compiler.lower import OFFICIAL_PROPERTIES, LowerOptions, lower
from aibtui.compiler.yamlload import load_yaml

IDENT = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/"
         "Microsoft.ManagedIdentity/userAssignedIdentities/aib")
GALLERY = "/subscriptions/0/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/web"


def run(text: str, tmp_path: Path | None = None, **opts):
    diags = DiagnosticBag()
    file = str((tmp_path / "t.aib.yaml") if tmp_path else Path("t.aib.yaml"))
    node = load_yaml(text, file, diags)
    model = lower(node, file, diags, LowerOptions(root=tmp_path, **opts))
    return model, diags.sorted()


def only(diags, code):
    return [d for d in diags if d.code == code]


def test_official_property_list_matches_the_schemas():
    import json

    names: set[str] = set()
    for f in (Path(__file__).resolve().parents[1] / "compiler" / "schemas").glob("*.json"):
        names |= set(json.loads(f.read_text())["definitions"]["ImageTemplateProperties"]["properties"])
    assert names == set(OFFICIAL_PROPERTIES)


def test_urn_source_and_defaults():
    model, diags = run("source: Canonical:ubuntu-24_04-lts:server\n")
    assert model.doc["properties"]["source"] == {
        "type": "PlatformImage", "publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server",
        "version": "latest"}
    assert model.doc["apiVersion"] == "2024-02-01"
    assert model.span_at(("properties", "source", "sku")).line == 1


@pytest.mark.parametrize("source,expected", [
    ("/subscriptions/0/resourceGroups/rg/providers/Microsoft.Compute/images/base",
     {"type": "ManagedImage", "imageId": "/subscriptions/0/resourceGroups/rg/providers/Microsoft.Compute/images/base"}),
    (GALLERY + "/versions/1.0.0", {"type": "SharedImageVersion", "imageVersionId": GALLERY + "/versions/1.0.0"}),
])
def test_resource_id_sources(source, expected):
    model, diags = run(f"source: {source}\n")
    assert model.doc["properties"]["source"] == expected


def test_gallery_source_without_version_is_refused_with_hint():
    _, diags = run(f"source: {GALLERY}\n")
    (d,) = only(diags, "AIB403")
    assert d.rule == "SRC-05" and "versions/latest" in d.hint


def test_urn_with_plan():
    model, _ = run("source: {urn: 'a:b:c:1.0', plan: {name: n, product: p, publisher: q}}\n")
    assert model.doc["properties"]["source"]["planInfo"] == {"planName": "n", "planProduct": "p", "planPublisher": "q"}


def test_quote_it_for_yaml11_values():
    _, diags = run("name: x\ntags: {on: yes, v: 1.10}\n")
    msgs = only(diags, "AIB104")
    assert [(d.span.line, d.span.col) for d in msgs] == [(2, 12), (2, 20)]
    assert "'yes'" in msgs[0].hint and "'1.10'" in msgs[1].hint


def test_unquoted_api_version_date_is_read_as_written():
    model, diags = run("apiVersion: 2020-02-14\n")
    assert model.api_version == "2020-02-14" and not only(diags, "AIB401")


def test_api_version_flag_wins_and_unknown_is_refused():
    model, _ = run("apiVersion: '2020-02-14'\n", api_version="2025-10-01")
    assert model.api_version == "2025-10-01"
    _, diags = run("apiVersion: '2019-05-01-preview'\n")
    (d,) = only(diags, "AIB410")
    assert "retired" in d.hint and (d.span.line, d.span.col) == (1, 13)


def test_build_shorthands():
    model, diags = run("build: {vmSize: Standard_D2s_v3, osDiskSizeGB: 64, timeout: 1h30m, subnet: /s/x,"
                       " proxyVmSize: Standard_A1_v2, identities: [/id/1]}\n")
    props = model.doc["properties"]
    assert props["buildTimeoutInMinutes"] == 90
    assert props["vmProfile"] == {"vmSize": "Standard_D2s_v3", "osDiskSizeGB": 64,
                                  "userAssignedIdentities": ["/id/1"],
                                  "vnetConfig": {"subnetId": "/s/x", "proxyVmSize": "Standard_A1_v2"}}


@pytest.mark.parametrize("value,minutes", [("90", 90), ("4h", 240), ("'90m'", 90), ("2h 15m", 135), (120, 120)])
def test_durations(value, minutes):
    model, diags = run(f"build: {{timeout: {value}}}\n")
    assert model.doc["properties"]["buildTimeoutInMinutes"] == minutes


def test_bad_duration():
    _, diags = run("build: {timeout: 1.5h}\n")
    assert only(diags, "AIB405")[0].span.line == 1


def test_steps_every_kind(tmp_path):
    (tmp_path / "s.sh").write_text("#!/bin/sh\necho local\n")
    (tmp_path / "copy.ps1").write_text("Write-Host hi\n")
    digest = hashlib.sha256(b"Write-Host hi\n").hexdigest()
    text = """
customize:
  - name: a
    shell: |
      echo one
      echo two
  - name: b
    shell: [echo x]
  - name: c
    shell: {script: s.sh}
  - name: d
    powershell: {uri: https://example.com/copy.ps1, local: copy.ps1, runElevated: true}
    validExitCodes: [0, 3010]
  - name: e
    file: {from: https://example.com/f, to: /tmp/f}
  - name: f
    windowsRestart: {timeout: 10m, command: shutdown /r}
  - name: g
    windowsUpdate: {searchCriteria: IsInstalled=0, filters: ["include:$true"], updateLimit: 20}
  - name: h
    windowsRestart: true
"""
    model, diags = run(text, tmp_path)
    steps = model.doc["properties"]["customize"]
    assert steps[0] == {"type": "Shell", "name": "a", "inline": ["echo one", "echo two"]}
    assert steps[1]["inline"] == ["echo x"]
    assert steps[2]["inline"] == ["#!/bin/sh", "echo local"]
    assert steps[3] == {"type": "PowerShell", "name": "d", "scriptUri": "https://example.com/copy.ps1",
                        "sha256Checksum": digest, "runElevated": True, "validExitCodes": [0, 3010]}
    assert steps[4] == {"type": "File", "name": "e", "sourceUri": "https://example.com/f", "destination": "/tmp/f"}
    assert steps[5] == {"type": "WindowsRestart", "name": "f", "restartCommand": "shutdown /r",
                        "restartTimeout": "10m"}
    assert steps[6]["updateLimit"] == 20 and steps[6]["filters"] == ["include:$true"]
    assert steps[7] == {"type": "WindowsRestart", "name": "h"}
    note = only(diags, "AIB407")[0]
    assert note.rule == "C-05" and note.span.line == 10
    assert str(tmp_path / "s.sh") in model.dependencies


def test_local_copy_checksum_mismatch(tmp_path):
    (tmp_path / "x.sh").write_text("echo\n")
    text = "customize:\n  - name: x\n    shell: {uri: https://e.com/x.sh, sha256: abc, local: x.sh}\n"
    _, diags = run(text, tmp_path)
    assert only(diags, "AIB415")


def test_local_file_outside_root_and_missing(tmp_path):
    sub = tmp_path / "proj"
    sub.mkdir()
    (tmp_path / "secret.sh").write_text("x")
    diags = DiagnosticBag()
    node = load_yaml("customize:\n  - name: x\n    shell: {script: ../secret.sh}\n", str(sub / "t.yaml"), diags)
    lower(node, "t.yaml", diags, LowerOptions(root=sub))
    assert [d.code for d in diags.sorted()] == ["AIB412"]
    _, diags2 = run("customize:\n  - name: x\n    shell: {script: nope.sh}\n", tmp_path)
    assert only(diags2, "AIB406")[0].span.line == 3


def test_step_errors():
    _, diags = run("customize:\n  - name: a\n    shel: x\n  - name: b\n    shell: x\n    file: {}\n")
    kinds = only(diags, "AIB404")
    assert kinds[0].hint == "did you mean 'shell' instead of 'shel'?"
    assert len(kinds) == 2


def test_unknown_top_level_key_did_you_mean():
    _, diags = run("locaton: westus\nvmSize: x\n")
    hints = {d.span.line: d.hint for d in only(diags, "AIB400")}
    assert hints[1] == "did you mean 'location'?"
    assert hints[2] == "did you mean build.vmSize?"


def test_distribute_targets_and_region_lowering_by_version():
    text = f"""location: westus2
distribute:
  - gallery: {GALLERY}
    regions: [westus2, {{name: eastus, replicas: 2}}]
    storageAccountType: Standard_ZRS
  - managedImage: /subscriptions/0/resourceGroups/rg/providers/Microsoft.Compute/images/img
  - vhd: true
    name: raw
"""
    model, diags = run(text)
    gallery, managed, vhd = model.doc["properties"]["distribute"]
    assert gallery["targetRegions"] == [{"name": "westus2", "storageAccountType": "Standard_ZRS"},
                                        {"name": "eastus", "replicaCount": 2, "storageAccountType": "Standard_ZRS"}]
    assert gallery["runOutputName"] == "web" and "storageAccountType" not in gallery
    assert managed == {"type": "ManagedImage",
                       "imageId": "/subscriptions/0/resourceGroups/rg/providers/Microsoft.Compute/images/img",
                       "location": "westus2", "runOutputName": "img"}
    assert vhd == {"type": "VHD", "runOutputName": "raw"}
    old, diags = run("apiVersion: '2020-02-14'\n" + text.replace("{name: eastus, replicas: 2}", "eastus"))
    g = old.doc["properties"]["distribute"][0]
    assert g["replicationRegions"] == ["westus2", "eastus"] and g["storageAccountType"] == "Standard_ZRS"
    _, diags = run("apiVersion: '2020-02-14'\n" + text)
    assert only(diags, "AIB409")[0].rule == "DI-04"


def test_identity_forms():
    model, _ = run(f"identity: {IDENT}\n")
    assert model.doc["identity"] == {"type": "UserAssigned", "userAssignedIdentities": {IDENT: {}}}
    model, _ = run("identity: {type: UserAssigned, userAssignedIdentities: {x: {}}}\n")
    assert model.doc["identity"]["userAssignedIdentities"] == {"x": {}}


def test_verbatim_properties_and_conflicts():
    model, diags = run("properties:\n  buildTimeoutInMinutes: 30\n  stagingResourceGroup: /s/rg\n")
    assert model.doc["properties"] == {"buildTimeoutInMinutes": 30, "stagingResourceGroup": "/s/rg"}
    _, diags = run("build: {timeout: 30}\nbuildTimeoutInMinutes: 40\n")
    assert only(diags, "AIB408")
    _, diags = run("customize: []\nproperties: {customize: []}\n")
    assert only(diags, "AIB408")


def test_validate_forms():
    model, _ = run("validate:\n  continueOnFailure: true\n  steps:\n    - name: v\n      shell: test -f /x\n")
    assert model.doc["properties"]["validate"] == {
        "continueDistributeOnFailure": True,
        "inVMValidations": [{"type": "Shell", "name": "v", "inline": ["test -f /x"]}]}
    _, diags = run("validate:\n  - name: r\n    windowsRestart: true\n")
    assert only(diags, "AIB404")


def test_autorun_and_optimize():
    model, _ = run("autoRun: true\noptimize: {vmBoot: false}\n")
    assert model.doc["properties"]["autoRun"] == {"state": "Enabled"}
    assert model.doc["properties"]["optimize"] == {"vmBoot": {"state": "Disabled"}}


def test_block_scalar_lines_get_their_own_spans():
    model, _ = run("customize:\n  - name: a\n    shell: |\n      echo one\n\n      apt-get install x\n")
    assert model.doc["properties"]["customize"][0]["inline"] == ["echo one", "", "apt-get install x"]
    span = model.span_at(("properties", "customize", 0, "inline", 2))
    assert (span.line, span.col) == (6, 7)
