"""Seeded random templates: import never raises, and what it calls exact compiles back exactly."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

from aibtui.compiler import CompileOptions, compile_file
from aibtui.compiler.importer import import_text

BASE: dict[str, Any] = {
    "type": "Microsoft.VirtualMachineImages/imageTemplates", "apiVersion": "2022-07-01", "name": "t",
    "location": "westus2", "tags": {"a": "b"},
    "identity": {"type": "UserAssigned", "userAssignedIdentities": {"/subscriptions/0/x/aib": {}}},
    "properties": {
        "buildTimeoutInMinutes": 60,
        "vmProfile": {"vmSize": "Standard_D2s_v3", "osDiskSizeGB": 30,
                      "vnetConfig": {"subnetId": "/subscriptions/0/s"}},
        "source": {"type": "PlatformImage", "publisher": "Canonical", "offer": "o", "sku": "s", "version": "latest"},
        "customize": [
            {"type": "Shell", "name": "a", "inline": ["echo a", "echo b"]},
            {"type": "PowerShell", "name": "b", "scriptUri": "https://x/y.ps1", "runElevated": True},
            {"type": "File", "name": "c", "sourceUri": "https://x/f", "destination": "/tmp/f"},
            {"type": "WindowsRestart", "restartTimeout": "5m"},
            {"type": "WindowsUpdate", "filters": ["include:$true"]},
        ],
        "validate": {"inVMValidations": [{"type": "Shell", "name": "v", "inline": ["true"]}]},
        "distribute": [
            {"type": "SharedImage", "galleryImageId": "/subscriptions/0/galleries/g/images/i", "runOutputName": "i",
             "targetRegions": [{"name": "westus2", "replicaCount": 1}], "versioning": {"scheme": "Latest"}},
            {"type": "ManagedImage", "imageId": "/subscriptions/0/providers/Microsoft.Compute/images/m",
             "location": "westus2", "runOutputName": "m"},
            {"type": "VHD", "runOutputName": "vhd"},
        ],
        "autoRun": {"state": "Enabled"},
        "optimize": {"vmBoot": {"state": "Disabled"}},
    },
}
VALUES: list[Any] = [None, 0, -1, 7, 2.5, True, False, "", "no", "1.10", "[parameters('x')]", "<ph>", "<a b>",
                     [], {}, [1], {"a": 1}, ["x", "y"], "{{ x }}", "{% raw %}", "Shell", "shell", "sharedImage",
                     "x" * 300, "a\nb", "/subscriptions/<s>/providers/Microsoft.Compute/images/<i>", "latest",
                     "a:b:c:d", "Enabled", {"state": "Enabled"}, {"scheme": "Source"}, "5m", "\u2028", " x "]


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            out.extend(_paths(v, path + (k,)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.extend(_paths(v, path + (i,)))
    return out


def _mutate(doc: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    for _ in range(rng.randint(1, 4)):
        paths = [p for p in _paths(doc) if p]
        path = rng.choice(paths)
        parent: Any = doc
        for part in path[:-1]:
            parent = parent[part]
        if isinstance(parent, dict) and rng.random() < 0.25:
            del parent[path[-1]]
        else:
            parent[path[-1]] = copy.deepcopy(rng.choice(VALUES))
    return doc


def test_random_templates_never_raise_and_exact_means_exact(tmp_path: Path) -> None:
    rng = random.Random(20261125)
    exact = 0
    for i in range(250):
        doc = _mutate(BASE, rng)
        result = import_text(json.dumps(doc), f"r{i}.json")
        for tpl in result.templates:
            if not tpl.exact:
                assert tpl.text is None or any(d.severity.value == "error" for d in result.diagnostics)
                continue
            exact += 1
            out = tmp_path / "t.aib.yaml"
            out.write_text(tpl.text or "", encoding="utf-8")
            compiled = compile_file(out, CompileOptions(sets=tpl.sets))
            assert compiled.model is not None, [d.format_text() for d in compiled.diagnostics]
            assert compiled.model.doc == tpl.expected, (doc, tpl.text)
    assert exact > 100  # the mutations leave most templates importable
