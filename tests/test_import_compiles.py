"""Import never writes a file that does not compile (issue 15): over every real-world file in
tests/data/corpus/real-world, the imported *.aib.yaml compiles (with its --set values) to no error
that `aibtui check` does not already report for the original; and the held-out shape that once broke
it (an AVD Windows 11 template with `Tags` and `vmProfile.tags`) compiles with warnings only."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest

from aibtui.compiler import CompileOptions, compile_file
from aibtui.compiler.importer import import_file, import_text
from aibtui.compiler.pipeline import check_file

CORPUS = Path(__file__).resolve().parent / "data" / "corpus" / "real-world"
FILES = sorted(p.name for p in CORPUS.iterdir() if p.name != "MANIFEST.tsv") if CORPUS.is_dir() else []


def _errors(diagnostics) -> set[str]:  # type: ignore[no-untyped-def]
    return {d.code for d in diagnostics if d.severity.value == "error"}


def test_the_corpus_copy_is_here() -> None:
    assert len(FILES) >= 40 and (CORPUS / "MANIFEST.tsv").is_file()


@pytest.mark.parametrize("name", FILES)
def test_imported_file_compiles_or_the_import_says_why(name: str, tmp_path: Path) -> None:
    result = import_file(CORPUS / name)
    if not result.ok:  # refused (Bicep, an ISO source, no literal template): nothing written, a reason given
        assert all(t.text is None for t in result.templates)
        assert any(d.span is not None for d in result.diagnostics if d.severity.value == "error")
        return
    original = _errors(check_file(CORPUS / name).diagnostics)
    for i, template in enumerate(result.templates):
        assert template.text is not None and template.exact
        out = tmp_path / f"t{i}.aib.yaml"
        out.write_text(template.text, encoding="utf-8")
        compiled = compile_file(out, CompileOptions(sets=template.sets))
        new = _errors(compiled.diagnostics) - original - {"AIB416"}  # AIB416: a name given by ARM at deploy
        assert not new, [d.format_text() for d in compiled.diagnostics if d.code in new]


def test_median_line_ratio_is_at_most_a_third() -> None:
    ratios = []
    for name in FILES:
        result = import_file(CORPUS / name)
        texts = [t.text for t in result.templates if t.text is not None]
        if result.ok and texts:
            json_lines = len((CORPUS / name).read_text(encoding="utf-8-sig", errors="replace").splitlines())
            ratios.append(sum(len(t.splitlines()) for t in texts) / json_lines)
    assert len(ratios) >= 25
    assert statistics.median(ratios) <= 1 / 3, statistics.median(ratios)


AVD = {
    "type": "Microsoft.VirtualMachineImages/imageTemplates",
    "apiVersion": "2022-02-14",
    "name": "avd11",
    "location": "westeurope",
    "Tags": {"imagebuilderTemplate": "AzureImageBuilderSIG", "userIdentity": "enabled"},
    "identity": {"type": "UserAssigned", "userAssignedIdentities": {
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/"
        "Microsoft.ManagedIdentity/userAssignedIdentities/id": {}}},
    "properties": {
        "buildTimeoutInMinutes": 120,
        "VmProfile": {"vmSize": "Standard_D4s_v3", "osDiskSizeGB": 127, "tags": {"a": "b"}, "vnetConfig": None},
        "source": {"type": "PlatformImage", "publisher": "MicrosoftWindowsDesktop", "offer": "windows-11",
                   "sku": "win11-22h2-avd", "version": "latest"},
        "customize": [{"type": "PowerShell", "name": "a", "runElevated": True, "inline": ["Write-Host hi"]}],
        "distribute": [{"type": "SharedImage", "runOutputName": "r", "replicationRegions": ["westeurope"],
                        "galleryImageId": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/"
                        "providers/Microsoft.Compute/galleries/g/images/d"}],
    },
}


def test_avd_template_with_vmprofile_tags_imports_to_a_file_that_compiles(tmp_path: Path) -> None:
    text = json.dumps(AVD, indent=2)
    result = import_text(text, str(tmp_path / "avd.json"))
    assert result.ok, [d.format_text() for d in result.diagnostics]
    [template] = result.templates
    assert template.text is not None and template.exact
    said = {(d.code, d.message.split("`")[1]) for d in result.diagnostics if "`" in d.message}
    assert ("AIB818", "properties.vmProfile.tags") in said  # dropped: not in the 2022-02-14 schema
    assert ("AIB818", "properties.vmProfile.vnetConfig") in said  # null: ARM reads it as absent
    assert ("AIB817", "Tags") in said and ("AIB817", "properties.VmProfile") in said  # ARM ignores case
    dropped = next(d for d in result.diagnostics if d.code == "AIB818" and "tags" in d.message)
    assert dropped.severity.value == "warning" and dropped.span is not None
    assert text.splitlines()[dropped.span.line - 1].strip().startswith('"tags"')
    assert "tags: {imagebuilderTemplate: AzureImageBuilderSIG" in template.text
    assert "build: {vmSize: Standard_D4s_v3, osDiskSizeGB: 127, timeout: 2h}" in template.text
    out = tmp_path / "avd.aib.yaml"
    out.write_text(template.text, encoding="utf-8")
    compiled = compile_file(out)
    assert compiled.ok, [d.format_text() for d in compiled.diagnostics]
    assert compiled.document is not None
    assert compiled.document["tags"] == AVD["Tags"]
    assert compiled.document["properties"]["vmProfile"] == {"vmSize": "Standard_D4s_v3", "osDiskSizeGB": 127}
