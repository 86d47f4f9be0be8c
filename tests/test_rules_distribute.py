"""Seed rules for distribute: DI-01 at least one target, DI-02 unique runOutputName, DI-03 managed
image, DI-04 gallery image (ids, storageAccountType, regions), DI-05 region note, DI-06 VHD note."""

from __future__ import annotations

import functools

from rules_support import at, run_rules_on, where

from aibtui.compiler.diagnostics import DiagnosticBag
from aibtui.compiler.model import model_from_node
from aibtui.compiler.yamlload import load_yaml

run = functools.partial(run_rules_on, os="linux")

IMG = "/subscriptions/0/resourceGroups/rg/providers/Microsoft.Compute/images/web"
DEF = "/subscriptions/0/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/web"








def targets(*lines: str, location: str = "westus2") -> str:
    return f"location: {location}\nproperties:\n  distribute:\n" + "".join(
        f"    - {line}\n" for line in lines
    )


def test_DI01_empty_distribute() -> None:
    text = "properties:\n  distribute: []\n"
    assert at(run(text), "AIB080") == [where(text, "[]")]


def test_DI01_one_target_passes() -> None:
    assert not at(run(targets("{type: VHD, runOutputName: vhd}")), "AIB080")


def test_DI02_duplicate_run_output_name() -> None:
    text = targets(
        "{type: VHD, runOutputName: out}",
        f"{{type: ManagedImage, runOutputName: OUT, imageId: {IMG}, location: westus2}}",
    )
    assert at(run(text), "AIB081") == [where(text, "OUT")]


def test_DI02_unique_run_output_names_pass() -> None:
    text = targets(
        "{type: VHD, runOutputName: a}",
        f"{{type: ManagedImage, runOutputName: b, imageId: {IMG}, location: westus2}}",
    )
    assert not at(run(text), "AIB081")


def test_DI03_managed_image_id_and_location() -> None:
    text = targets("{type: ManagedImage, runOutputName: m, imageId: /images/web, location: ''}")
    diags = run(text)
    assert at(diags, "AIB082") == [where(text, "/images/web")]
    assert at(diags, "AIB083") == [where(text, "''")]


def test_DI03_managed_image_passes_and_unknown_location_warns() -> None:
    ok = targets(f"{{type: ManagedImage, runOutputName: m, imageId: {IMG}, location: westus2}}")
    diags = run(ok)
    assert not at(diags, "AIB082") and not at(diags, "AIB083") and not at(diags, "AIB005")
    typo = targets(f"{{type: ManagedImage, runOutputName: m, imageId: {IMG}, location: westu2}}")
    assert at(run(typo), "AIB005") == [where(typo, "westu2")]


def test_DI04_gallery_image_id_format_and_version_name() -> None:
    text = targets(
        "{type: SharedImage, runOutputName: g, galleryImageId: /galleries/g/images/web}",
        f"{{type: SharedImage, runOutputName: h, galleryImageId: {DEF}/versions/1.2}}",
    )
    diags = run(text)
    assert at(diags, "AIB084") == [where(text, "/galleries/g")]
    assert at(diags, "AIB089") == [where(text, DEF)]


def test_DI04_gallery_definition_and_version_ids_pass() -> None:
    text = targets(
        f"{{type: SharedImage, runOutputName: g, galleryImageId: {DEF}, targetRegions: [{{name: westus2}}]}}",
        f"{{type: SharedImage, runOutputName: h, galleryImageId: {DEF}/versions/1.2.3, "
        "targetRegions: [{name: westus2}]}",
    )
    diags = run(text)
    assert not at(diags, "AIB084") and not at(diags, "AIB089")


def test_DI04_premium_storage_needs_a_later_api_version() -> None:
    text = targets(
        f"{{type: SharedImage, runOutputName: g, galleryImageId: {DEF}, replicationRegions: [westus2], "
        "storageAccountType: Premium_LRS}"
    )
    assert at(run(text, api="2021-10-01"), "AIB085") == [where(text, "Premium_LRS")]
    assert not at(run(text, api="2022-07-01"), "AIB085")


def test_DI04_duplicate_regions_and_both_region_lists() -> None:
    text = targets(
        f"{{type: SharedImage, runOutputName: g, galleryImageId: {DEF}, replicationRegions: "
        "[westus2, eastus, WestUS2], targetRegions: [{name: eastus}]}"
    )
    diags = run(text)
    assert at(diags, "AIB086") == [where(text, "WestUS2"), where(text, "eastus", 2)]
    assert at(diags, "AIB087") == [where(text, "replicationRegions")]


def test_DI04_empty_region_list_warns() -> None:
    text = targets(f"{{type: SharedImage, runOutputName: g, galleryImageId: {DEF}, targetRegions: []}}")
    assert at(run(text), "AIB088") == [where(text, "[]")]


def test_DI04_distinct_regions_pass() -> None:
    text = targets(
        f"{{type: SharedImage, runOutputName: g, galleryImageId: {DEF}, "
        "targetRegions: [{name: westus2}, {name: eastus, replicaCount: 2}]}"
    )
    diags = run(text)
    assert not [d for d in diags if d.code in ("AIB085", "AIB086", "AIB087", "AIB088", "AIB005")]


def test_DI05_other_region_is_a_note() -> None:
    text = targets(f"{{type: ManagedImage, runOutputName: m, imageId: {IMG}, location: eastus}}")
    diags = run(text)
    assert at(diags, "AIB090") == [where(text, "eastus")]
    assert next(d for d in diags if d.code == "AIB090").severity.value == "note"
    gallery = targets(
        f"{{type: SharedImage, runOutputName: g, galleryImageId: {DEF}, replicationRegions: [eastus]}}"
    )
    assert at(run(gallery), "AIB090") == [where(gallery, "[eastus]")]


def test_DI05_same_region_has_no_note() -> None:
    text = targets(f"{{type: ManagedImage, runOutputName: m, imageId: {IMG}, location: West US 2}}")
    assert not at(run(text), "AIB090")


def test_DI06_vhd_note() -> None:
    text = targets("{type: VHD, runOutputName: vhd}")
    diags = run(text)
    assert at(diags, "AIB091") == [where(text, "VHD")]
    assert "artifactUri" in (next(d for d in diags if d.code == "AIB091").hint or "")


def test_DI06_vhd_with_own_uri_has_no_note() -> None:
    text = targets("{type: VHD, runOutputName: vhd, uri: 'https://sa.blob.core.windows.net/vhds/web.vhd'}")
    assert not at(run(text, api="2022-07-01"), "AIB091")


def test_DI04_premium_storage_is_reported_once_with_the_schema_stage() -> None:
    from aibtui.compiler.check import check_model

    text = targets(
        f"{{type: SharedImage, runOutputName: g, galleryImageId: {DEF}, replicationRegions: [westus2], "
        "storageAccountType: Premium_LRS}"
    )
    diags = DiagnosticBag()
    node = load_yaml(text, "t.json", diags)
    assert node is not None
    check_model(model_from_node(node, "t.json", api_version="2021-10-01"), diags)
    line, col = (int(x) for x in where(text, "Premium_LRS").split(":"))
    said = [d for d in diags if d.span and (d.span.line, d.span.col) == (line, col)]
    assert len(said) == 1 and "2022-07-01" in said[0].message
