"""Seed rules for the template skeleton: S-01 type, S-02 apiVersion, L-01 location, T-01 tags,
D-01 dependsOn; and the OS-family inference the OS-specific rules rely on."""

from __future__ import annotations

import json

from rules_support import at
from rules_support import run_rules_on as run

from aibtui.compiler.rules.osfamily import infer_os_family


def test_S01_wrong_resource_type() -> None:
    diags = run('{\n  "type": "Microsoft.VirtualMachineImages/imageTemplate",\n  "location": "westus2"\n}')
    assert at(diags, "AIB001") == ["2:11"]
    (d,) = [d for d in diags if d.code == "AIB001"]
    assert "imageTemplate'" in d.message and d.hint and d.rule == "S-01"


def test_S01_right_type_or_expression_passes() -> None:
    assert not at(run('{"type": "Microsoft.VirtualMachineImages/imageTemplates"}'), "AIB001")
    assert not at(run('{"type": "[variables(\'t\')]"}'), "AIB001")


def test_S02_seed_api_version_gets_a_note() -> None:
    diags = run(
        'type: Microsoft.VirtualMachineImages/imageTemplates\napiVersion: "2020-02-14"\n', api="2020-02-14"
    )
    assert at(diags, "AIB002") == ["2:13"]
    assert [d.severity.value for d in diags if d.code == "AIB002"] == ["note"]


def test_S02_later_api_version_has_no_note() -> None:
    assert not at(run('apiVersion: "2024-02-01"\n'), "AIB002")


def test_L01_unknown_region_warns_with_did_you_mean() -> None:
    diags = run("name: t\nlocation: westuss2\n")
    assert at(diags, "AIB005") == ["2:11"]
    (d,) = [d for d in diags if d.code == "AIB005"]
    assert d.severity.value == "warning" and "westuss2" in d.message and d.hint == "did you mean 'westus2'?"


def test_L01_known_regions_pass_public_sovereign_and_display_names() -> None:
    for region in (
        "westus2",
        "swedencentral",
        "usgovvirginia",
        "chinanorth3",
        "West US 2",
        "newzealandnorth",
    ):
        assert not at(run(f"location: {region}\n"), "AIB005"), region


def test_L01_placeholder_and_expression_regions_are_skipped() -> None:
    assert not at(run('location: "<region>"\n'), "AIB005")
    assert not at(run('location: "[resourceGroup().location]"\n'), "AIB005")


def test_T01_tag_limits() -> None:
    long_value = "v" * 257
    diags = run(f"tags:\n  owner: {long_value}\n  a/b: x\n")
    assert at(diags, "AIB008") == ["2:10", "3:3"]
    many = {f"t{i}": "x" for i in range(51)}
    diags = run(json.dumps({"tags": many}))
    assert at(diags, "AIB008") == ["1:2"]
    assert "51 tags" in next(d.message for d in diags if d.code == "AIB008")


def test_T01_tags_within_limits_pass() -> None:
    assert not at(run("tags:\n  owner: team-a\n  env: prod\n"), "AIB008")


def test_D01_depends_on_entries_must_be_strings() -> None:
    diags = run("dependsOn:\n  - 42\n  - \"\"\n  - \"[resourceId('Microsoft.Compute/galleries', 'g')]\"\n")
    assert at(diags, "AIB009") == ["2:5", "3:5"]


def test_D01_valid_depends_on_passes() -> None:
    text = (
        "dependsOn:\n  - \"[resourceId('Microsoft.Compute/galleries', 'g')]\"\n"
        "  - Microsoft.Compute/galleries/g\n"
    )
    assert not at(run(text), "AIB009")


def test_infer_os_family_from_publisher_then_steps() -> None:
    assert infer_os_family({"properties": {"source": {"publisher": "MicrosoftWindowsServer"}}}) == "windows"
    assert infer_os_family({"properties": {"source": {"publisher": "Canonical"}}}) == "linux"
    assert infer_os_family({"properties": {"source": {"publisher": "almalinux"}}}) == "linux"
    assert infer_os_family({"properties": {"customize": [{"type": "WindowsRestart"}]}}) == "windows"
    assert infer_os_family({"properties": {"customize": [{"type": "Shell"}]}}) == "linux"
    assert infer_os_family({"properties": {"customize": [{"type": "File"}]}}) is None
    sql_linux = {"publisher": "MicrosoftSQLServer", "offer": "sql2022-ubuntupro2004", "sku": "ent"}
    sql_windows = {"publisher": "MicrosoftSQLServer", "offer": "sql2022-ws2022", "sku": "ent"}
    assert infer_os_family({"properties": {"source": sql_linux}}) == "linux"
    assert infer_os_family({"properties": {"source": sql_windows}}) == "windows"
    both = {"source": {"publisher": "Canonical"}, "customize": [{"type": "WindowsRestart"}]}
    assert infer_os_family({"properties": both}) == "linux"  # the publisher wins over the steps
    assert infer_os_family({"properties": []}) is None
    assert infer_os_family([]) is None
