"""The builtin schema engine agrees with the jsonschema reference implementation.

Over the REST examples and rich templates that touch every definition, plus generated mutations of
them (wrong types, out-of-range numbers, unknown keys, bad enum and discriminator values, missing
keys, at every position), both engines must agree on valid vs invalid and on every path with a problem.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
from testdata import rest_examples

from aibtui.compiler import schema
from aibtui.compiler.model import RESOURCE_TYPE, STABLE_API_VERSIONS

IDENTITY = "/subscriptions/0/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/aib"


def _rich(source: dict[str, Any], versioning: dict[str, Any], regions: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": RESOURCE_TYPE, "apiVersion": "", "name": "rich", "location": "westus2",
        "tags": {"team": "images"}, "dependsOn": ["[resourceId('x', 'y')]"],
        "identity": {"type": "UserAssigned", "userAssignedIdentities": {IDENTITY: {}}},
        "properties": {
            "buildTimeoutInMinutes": 120,
            "stagingResourceGroup": "/subscriptions/0/resourceGroups/staging",
            "managedResourceTags": {"owner": "images"},
            "autoRun": {"state": "Enabled"},
            "errorHandling": {"onCustomizerError": "abort", "onValidationError": "cleanup"},
            "optimize": {"vmBoot": {"state": "Enabled"}},
            "additionalDataDisks": [{"sizeGB": 32}],
            "vmProfile": {"vmSize": "Standard_D2s_v3", "osDiskSizeGB": 64, "userAssignedIdentities": [IDENTITY],
                          "vnetConfig": {"subnetId": "/s/subnet", "proxyVmSize": "Standard_A1_v2"}},
            "source": source,
            "customize": [
                {"type": "Shell", "name": "inline", "inline": ["echo 1", "echo 2"]},
                {"type": "Shell", "name": "remote", "scriptUri": "https://x/s.sh", "sha256Checksum": "ab"},
                {"type": "PowerShell", "name": "ps", "inline": ["Write-Host 1"], "runElevated": True,
                 "runAsSystem": True, "validExitCodes": [0, 3010]},
                {"type": "File", "name": "file", "sourceUri": "https://x/f", "destination": "/tmp/f",
                 "sha256Checksum": "cd"},
                {"type": "WindowsRestart", "name": "restart", "restartCommand": "shutdown /r",
                 "restartCheckCommand": "echo", "restartTimeout": "10m"},
                {"type": "WindowsUpdate", "name": "update", "searchCriteria": "IsInstalled=0",
                 "filters": ["$_.BrowseOnly"], "updateLimit": 40},
            ],
            "validate": {
                "continueDistributeOnFailure": False, "sourceValidationOnly": False,
                "inVMValidations": [
                    {"type": "Shell", "name": "v1", "inline": ["test -f /tmp/f"]},
                    {"type": "PowerShell", "name": "v2", "scriptUri": "https://x/v.ps1", "validExitCodes": [0]},
                    {"type": "File", "name": "v3", "sourceUri": "https://x/f", "destination": "/tmp/g"},
                ],
            },
            "distribute": [
                {"type": "ManagedImage", "runOutputName": "managed", "imageId": "/x/images/i",
                 "location": "westus2", "artifactTags": {"a": "b"}},
                {"type": "SharedImage", "runOutputName": "gallery", "galleryImageId": "/x/galleries/g/images/i",
                 "excludeFromLatest": False, "versioning": versioning, **regions},
                {"type": "VHD", "runOutputName": "vhd", "uri": "https://x/vhd"},
            ],
        },
        "resources": [{"type": "triggers", "apiVersion": "", "name": "t1", "properties": {"kind": "SourceImage"}}],
    }


RICH = {
    "platform": _rich(
        {"type": "PlatformImage", "publisher": "Canonical", "offer": "ubuntu", "sku": "server", "version": "latest",
         "planInfo": {"planName": "p", "planProduct": "q", "planPublisher": "r"}},
        {"scheme": "Latest", "major": 1},
        {"targetRegions": [{"name": "westus2", "replicaCount": 2, "storageAccountType": "Standard_ZRS"}]}),
    "gallery": _rich(
        {"type": "SharedImageVersion", "imageVersionId": "/x/galleries/g/images/i/versions/1.0.0"},
        {"scheme": "Source"},
        {"replicationRegions": ["westus2", "eastus"], "storageAccountType": "Standard_LRS"}),
    "managed": _rich({"type": "ManagedImage", "imageId": "/x/images/src"}, {"scheme": "Latest"},
                     {"replicationRegions": ["westus2"]}),
}


def _delete(doc: Any, path: tuple[Any, ...]) -> None:
    parent = doc
    for p in path[:-1]:
        parent = parent[p]
    del parent[path[-1]]


def _set(doc: Any, path: tuple[Any, ...], value: Any) -> None:
    parent = doc
    for p in path[:-1]:
        parent = parent[p]
    parent[path[-1]] = value


def rich_doc(kind: str, version: str) -> dict[str, Any]:
    """The rich template, cut down to what ``version`` has (keys, step types), and valid there."""
    doc = copy.deepcopy(RICH[kind])
    doc["apiVersion"] = version
    doc["resources"][0]["apiVersion"] = version
    for _ in range(6):
        errs = schema.builtin_errors(doc, version)
        if not errs:
            break
        for e in sorted(errs, key=lambda e: e.path, reverse=True):
            if e.code in ("AIB501", "AIB507"):
                _delete(doc, e.path if e.code == "AIB501" else e.path[:-1])
            elif e.code == "AIB506" and "replicationRegions" in e.message:
                _set(doc, e.path + ("replicationRegions",), ["westus2"])
            else:
                raise AssertionError(f"{kind} {version}: {e}")
    return doc


def _rest_examples() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for path in rest_examples():
        params = json.loads(path.read_text(encoding="utf-8"))["parameters"]
        version = params.get("api-version") or path.parent.parent.name
        out.append((version, {"type": RESOURCE_TYPE, "apiVersion": version, "name": params["imageTemplateName"],
                              **params["parameters"]}))
    return out


def _walk(doc: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    yield path, doc
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _walk(v, path + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _walk(v, path + (i,))


def _wrong_type(value: Any) -> Any:
    if isinstance(value, bool):
        return "maybe"
    if isinstance(value, (int, float)):
        return "12"
    if isinstance(value, str):
        return 12345
    if isinstance(value, list):
        return "not a list"
    if isinstance(value, dict):
        return ["not", "a", "mapping"]
    return {"x": 1}


def mutations(doc: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every generated mutation of ``doc``: (what, mutated copy)."""
    for path, value in list(_walk(doc)):
        if not path:
            continue
        changes: list[tuple[str, Any]] = [("wrong type", _wrong_type(value))]
        if isinstance(value, str):
            changes += [("bogus string", "Bogus Value!"), ("expression", "[parameters('p')]"),
                        ("case", value.lower() if value != value.lower() else value.upper())]
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            changes += [("negative", -5), ("huge", 100000)]
        if isinstance(value, list):
            changes += [("list of numbers", [1, 2])]
        for what, new in changes:
            mutated = copy.deepcopy(doc)
            _set(mutated, path, new)
            yield f"{what} at {path}", mutated
        if isinstance(value, dict):
            mutated = copy.deepcopy(doc)
            _set(mutated, path + ("bogusKey",), 1)
            yield f"unknown key at {path}", mutated
            for k in value:
                mutated = copy.deepcopy(doc)
                _delete(mutated, path + (k,))
                yield f"without {k!r} at {path}", mutated


def _paths(errs: list[Any]) -> set[tuple[Any, ...]]:
    return {tuple(e.path) for e in errs}


def agree(doc: dict[str, Any], version: str) -> tuple[bool, str]:
    ours = schema.builtin_errors(doc, version)
    ref = schema.jsonschema_errors(doc, version)
    if bool(ours) != bool(ref):
        return False, f"builtin says {'invalid' if ours else 'valid'}: {ours} / jsonschema: {ref}"
    if _paths(ours) != _paths(ref):
        return False, f"error paths differ: {sorted(_paths(ours))} vs {sorted(_paths(ref))}"
    return True, ""


@pytest.mark.parametrize(("version", "doc"), _rest_examples(), ids=lambda x: x if isinstance(x, str) else "")
def test_rest_examples_agree_and_are_valid(version: str, doc: dict[str, Any]) -> None:
    assert schema.builtin_errors(doc, version) == []
    assert schema.jsonschema_errors(doc, version) == []


@pytest.mark.parametrize("kind", sorted(RICH))
@pytest.mark.parametrize("version", STABLE_API_VERSIONS)
def test_rich_templates_are_valid_in_both(kind: str, version: str) -> None:
    doc = rich_doc(kind, version)
    assert schema.builtin_errors(doc, version) == []
    assert schema.jsonschema_errors(doc, version) == []
    assert len(doc["properties"]["customize"]) == 6


# jsonschema needs ~30 ms per rich template, so by default each case checks a sample of its mutations
# (a different slice per case); AIBTUI_FULL_SCHEMA_DIFF=1 checks all of them (a few thousand, minutes).
FULL = os.environ.get("AIBTUI_FULL_SCHEMA_DIFF") == "1"
SWEEP = [(kind, v, 16) for kind in sorted(RICH) for v in (STABLE_API_VERSIONS[0], STABLE_API_VERSIONS[-1])]
SWEEP += [("platform", v, 24) for v in STABLE_API_VERSIONS[1:-1]]


def _sample(items: list[Any], stride: int, offset: int) -> list[Any]:
    return items if FULL else items[offset % stride::stride]


@pytest.mark.parametrize(("kind", "version", "stride"), SWEEP)
def test_mutations_agree(kind: str, version: str, stride: int) -> None:
    base = rich_doc(kind, version)
    offset = SWEEP.index((kind, version, stride))
    cases = _sample(list(mutations(base)), stride, offset)
    invalid = 0
    problems = []
    for what, doc in cases:
        ok, why = agree(doc, version)
        invalid += bool(schema.builtin_errors(doc, version))
        if not ok:
            problems.append(f"{what}: {why}")
    assert not problems, f"{len(problems)} of {len(cases)} disagree:\n" + "\n".join(problems[:20])
    assert len(cases) >= 14 and invalid >= len(cases) // 3, (len(cases), invalid)


def test_rest_example_mutations_agree() -> None:
    total = 0
    for n, (version, base) in enumerate(_rest_examples()):
        for what, doc in _sample(list(mutations(base)), 12, n):
            total += 1
            ok, why = agree(doc, version)
            assert ok, f"{version} {what}: {why}"
    assert total >= 30
