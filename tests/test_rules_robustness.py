"""The rules as a whole: the official REST examples raise no rule errors; partial and wrongly typed
documents never crash a rule; every code is registered with a seed rule id and a hint and is
documented in docs/rules.md; a 1,000-step template is checked quickly."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from testdata import rest_examples

from aibtui.compiler.diagnostics import DiagnosticBag
from aibtui.compiler.model import TemplateModel, model_from_node
from aibtui.compiler.nodes import Mapping
from aibtui.compiler.rule_codes import RULE_CODES
from aibtui.compiler.rules import run_rules
from aibtui.compiler.yamlload import load_yaml

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = rest_examples()
UAI = "/subscriptions/0/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/aib"

GOOD: dict[str, Any] = {
    "type": "Microsoft.VirtualMachineImages/imageTemplates",
    "apiVersion": "2024-02-01",
    "location": "westus2",
    "tags": {"owner": "team"},
    "identity": {"type": "UserAssigned", "userAssignedIdentities": {UAI: {}}},
    "dependsOn": [],
    "properties": {
        "buildTimeoutInMinutes": 90,
        "vmProfile": {"vmSize": "Standard_D2s_v3", "osDiskSizeGB": 64},
        "source": {
            "type": "PlatformImage",
            "publisher": "Canonical",
            "offer": "ubuntu-24_04-lts",
            "sku": "server",
            "version": "latest",
        },
        "customize": [
            {"type": "Shell", "name": "update", "inline": ["sudo apt-get update", "sudo apt-get -y upgrade"]},
            {
                "type": "File",
                "name": "conf",
                "sourceUri": "https://example.com/app.conf",
                "destination": "/tmp/app.conf",
                "sha256Checksum": "d" * 64,
            },
        ],
        "validate": {
            "inVMValidations": [{"type": "Shell", "name": "check", "inline": ["test -f /tmp/app.conf"]}]
        },
        "distribute": [
            {
                "type": "SharedImage",
                "runOutputName": "gallery",
                "galleryImageId": "/subscriptions/0/resourceGroups/rg/providers/Microsoft.Compute/"
                "galleries/g/images/u",
                "targetRegions": [{"name": "westus2"}, {"name": "eastus"}],
            },
        ],
    },
}


def _model(doc: Any, **kw: Any) -> tuple[TemplateModel, DiagnosticBag]:
    diags = DiagnosticBag()
    node = load_yaml(json.dumps(doc, indent=2), "t.json", diags)
    assert node is not None
    return model_from_node(node, "t.json", **kw), diags


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_official_rest_examples_have_no_rule_errors(path: Path) -> None:
    """C-01, DI-03, L-01 ...: the service's own examples must pass every rule (warnings allowed)."""
    diags = DiagnosticBag()
    root = load_yaml(path.read_text(encoding="utf-8"), str(path), diags)
    assert isinstance(root, Mapping)
    params = root.items["parameters"]
    assert isinstance(params, Mapping)
    body = params.items["parameters"]
    api = params.items["api-version"].value  # type: ignore[attr-defined]
    model = model_from_node(body, str(path), api_version=api, origin="json")
    run_rules(model, diags)
    errors = [d.format_text() for d in diags if d.code in RULE_CODES and d.severity.value == "error"]
    assert errors == []


def test_a_good_template_has_no_rule_diagnostics_but_notes() -> None:
    model, diags = _model(GOOD, api_version="2024-02-01", os_family="linux")
    run_rules(model, diags)
    assert [d.format_text() for d in diags if d.severity.value != "note"] == []


_WRONG: tuple[Any, ...] = (None, 0, -1, True, "x", "", [], {}, [1, "a", None], {"a": [None]}, {1: 2}, 1.5)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            out.extend(_paths(v, path + (k,)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.extend(_paths(v, path + (i,)))
    return out


def _replace(doc: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    doc = copy.deepcopy(doc)
    cur = doc
    for part in path[:-1]:
        cur = cur[part]
    cur[path[-1]] = new
    return doc


SUBNET = "/subscriptions/0/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/s"
RICH: dict[str, Any] = {
    "type": "Microsoft.VirtualMachineImages/imageTemplates",
    "apiVersion": "2020-02-14",
    "location": "westus2",
    "tags": {"a": "b"},
    "identity": {"type": "UserAssigned", "userAssignedIdentities": {UAI: {}}},
    "dependsOn": ["x"],
    "properties": {
        "buildTimeoutInMinutes": 30,
        "vmProfile": {
            "vmSize": "x",
            "osDiskSizeGB": 8,
            "userAssignedIdentities": [UAI],
            "vnetConfig": {"subnetId": SUBNET, "proxyVmSize": "y", "containerInstanceSubnetId": "z"},
        },
        "source": {
            "type": "PlatformImage",
            "publisher": "MicrosoftWindowsServer",
            "offer": "WindowsServer",
            "sku": "2022-datacenter-g2",
            "version": "1",
            "planInfo": {"planName": "", "planProduct": "p", "planPublisher": "q"},
        },
        "customize": [
            {
                "type": "PowerShell",
                "name": "p",
                "inline": ["Restart-Computer", "net user a b12345 /add"],
                "runAsSystem": True,
                "validExitCodes": [3010, 2**40],
                "sha256Checksum": "x",
            },
            {"type": "WindowsRestart", "name": "r", "restartTimeout": "5 minutes", "restartCommand": "x"},
            {"type": "WindowsUpdate", "name": "u", "filters": ["x"], "updateLimit": 5},
            {"type": "WindowsUpdate", "name": "u", "filters": ["include:$true"]},
            {
                "type": "File",
                "name": "f",
                "sourceUri": "http://github.com/o/r/blob/m/x/",
                "destination": "x/",
            },
            {"type": "Shell", "name": "s", "scriptUri": "ftp://x", "inline": ["apt-get install x > /etc/y"]},
        ],
        "validate": {"inVMValidations": [{"type": "File", "sourceUri": "<uri>", "destination": "/etc/x"}]},
        "distribute": [
            {"type": "ManagedImage", "runOutputName": "m", "imageId": "x", "location": "eastus"},
            {
                "type": "SharedImage",
                "runOutputName": "M",
                "galleryImageId": "y/versions/1",
                "replicationRegions": ["eastus", "eastus"],
                "targetRegions": [{"name": "x", "storageAccountType": "Premium_LRS"}],
                "storageAccountType": "Premium_LRS",
            },
            {"type": "VHD", "runOutputName": "v"},
        ],
    },
}


@pytest.mark.parametrize("os_family", [None, "linux", "windows"])
@pytest.mark.parametrize("base", [GOOD, RICH], ids=["good", "rich"])
def test_wrongly_typed_documents_never_crash(os_family: str | None, base: dict[str, Any]) -> None:
    """Every value of a full template, replaced by every wrong type: the rules report or stay silent."""
    for path in _paths(base):
        for wrong in _WRONG:
            model = TemplateModel(doc=_replace(base, path, wrong), os_family=os_family)  # no spans at all
            run_rules(model, DiagnosticBag())
    for doc in ({}, {"properties": None}, {"properties": {"customize": {"a": 1}, "distribute": "x"}}):
        run_rules(TemplateModel(doc=doc), DiagnosticBag())


def test_rules_do_not_mutate_the_document() -> None:
    model, diags = _model(GOOD, os_family="linux")
    before = copy.deepcopy(model.doc)
    run_rules(model, diags)
    assert model.doc == before


def test_every_rule_code_is_registered_with_rule_and_hint() -> None:
    for code, info in RULE_CODES.items():
        n = int(code[3:])
        assert re.fullmatch(r"AIB\d{3}", code) and (0 <= n <= 99 or 600 <= n <= 699), code
        assert info.severity in ("error", "warning", "note"), code
        assert info.hint, f"{code} has no default hint"
        if n <= 99:
            assert info.rule and re.fullmatch(r"[A-Z]+-\d\d", info.rule), code
        else:
            assert info.rule is None, code


def test_every_rule_code_is_documented() -> None:
    text = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    for code, info in RULE_CODES.items():
        row = next((line for line in text.splitlines() if line.startswith(f"| {code} ")), None)
        assert row is not None, f"{code} missing from docs/rules.md"
        assert f"| {info.severity} |" in row, code
        if info.rule:
            assert info.rule in row, code


def test_every_emitted_code_is_registered() -> None:
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "compiler" / "rules").glob("*.py"))
    # call sites name codes through compiler/code_ids.py (C.AIB030), the registry spells them out
    emitted = {a or b for a, b in re.findall(r'"(AIB\d{3})"|\bC\.(AIB\d{3})\b', source)}
    assert emitted <= set(RULE_CODES)
    assert set(RULE_CODES) <= emitted, sorted(set(RULE_CODES) - emitted)


def _thousand_steps(noisy: bool) -> dict[str, Any]:
    doc = copy.deepcopy(GOOD)
    steps: list[dict[str, Any]] = []
    for i in range(1000):
        kind = i % 4
        if kind == 0:
            inline = [
                "sudo apt-get update",
                "sudo apt-get install -y nginx",
                "echo done",
                "cd /tmp && ls -la",
            ]
            if noisy:
                inline = ["apt-get install nginx", "echo x | tee /etc/x", "export PASSWORD=hunter22", "ls"]
            steps.append({"type": "Shell", "name": f"s{i}", "inline": inline})
        elif kind == 1:
            src = f"https://github.com/o/r/blob/main/{i}" if noisy else f"https://example.com/{i}"
            steps.append(
                {
                    "type": "File",
                    "name": f"f{i}",
                    "sourceUri": src,
                    "destination": f"/etc/f{i}" if noisy else f"/tmp/f{i}",
                    "sha256Checksum": "e" * 64,
                }
            )
        elif kind == 2:
            steps.append(
                {
                    "type": "Shell",
                    "name": f"u{i}",
                    "scriptUri": f"http{'' if noisy else 's'}://x.org/{i}.sh",
                    "sha256Checksum": "e" * 64,
                }
            )
        else:
            steps.append(
                {
                    "type": "PowerShell",
                    "name": f"p{i}",
                    "inline": ["Write-Output <placeholder>"],
                    "validExitCodes": [3010] if noisy else [0, 3010],
                }
            )
    doc["properties"]["customize"] = steps
    return doc


def _findings(noisy: bool, steps: int) -> int:
    doc = _thousand_steps(noisy)
    doc["properties"]["customize"] = doc["properties"]["customize"][:steps]
    model, _ = _model(doc, os_family="linux")
    diags = DiagnosticBag()
    run_rules(model, diags)
    return len(diags)


@pytest.mark.parametrize("noisy", [False, True], ids=["few-findings", "many-findings"])
def test_a_thousand_steps_findings_grow_linearly(noisy: bool) -> None:
    """1,000 steps are checked, and findings scale with the steps (no pairwise blow-up between steps).

    Speed itself is measured by benchmarks/compile.py, never asserted in a test.
    """
    n100, n200, n1000 = (_findings(noisy, n) for n in (100, 200, 1000))
    assert (n1000 > 1000) is noisy
    assert n1000 - n100 == 9 * (n200 - n100)
