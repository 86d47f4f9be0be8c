"""Seed rules for identity (I-01..I-04) and source (SRC-01..SRC-05)."""

from __future__ import annotations

from rules_support import at
from rules_support import run_rules_on as run

from aibtui.compiler.diagnostics import DiagnosticBag
from aibtui.compiler.model import model_from_node
from aibtui.compiler.yamlload import load_yaml

UAI = "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/aib"
IMG = "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Compute/images/base"
VER = "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/d/versions/1.0.0"






def test_I01_identity_missing_is_an_error() -> None:
    diags = run("name: t\nlocation: westus2\n", origin="json")
    assert at(diags, "AIB020") == ["1:1"]
    assert next(d for d in diags if d.code == "AIB020").severity.value == "error"


def test_I01_identity_type_none_is_an_error() -> None:
    diags = run("identity:\n  type: None\n")
    assert at(diags, "AIB020") == ["2:9"]


def test_I01_identity_present_passes() -> None:
    assert not at(
        run(f"identity:\n  type: UserAssigned\n  userAssignedIdentities:\n    {UAI}: {{}}\n"), "AIB020"
    )


def test_I02_two_identities_is_an_error() -> None:
    other = UAI.replace("/aib", "/other")
    diags = run(
        f"identity:\n  type: UserAssigned\n  userAssignedIdentities:\n    {UAI}: {{}}\n    {other}: {{}}\n"
    )
    assert at(diags, "AIB021") == ["3:3"]


def test_I02_one_identity_passes() -> None:
    assert not at(
        run(f"identity:\n  type: UserAssigned\n  userAssignedIdentities:\n    {UAI}: {{}}\n"), "AIB021"
    )


def test_I04_identity_type_must_be_user_assigned() -> None:
    diags = run(f"identity:\n  type: SystemAssigned\n  userAssignedIdentities:\n    {UAI}: {{}}\n")
    assert at(diags, "AIB022") == ["2:9"]


def test_I04_identity_key_must_be_a_full_resource_id() -> None:
    diags = run("identity:\n  type: UserAssigned\n  userAssignedIdentities:\n    aib-identity: {}\n")
    assert at(diags, "AIB023") == ["4:5"]
    assert "aib-identity" in next(d.message for d in diags if d.code == "AIB023")


def test_I03_custom_domain_name_is_not_an_identity() -> None:
    diags = run("identity:\n  type: UserAssigned\n  userAssignedIdentities:\n    aib.contoso.com: {}\n")
    assert at(diags, "AIB023") == ["4:5"]
    assert "custom domain" in next(d.message for d in diags if d.code == "AIB023")


def test_I03_identity_resource_id_is_not_a_custom_domain() -> None:
    diags = run(f"identity:\n  type: UserAssigned\n  userAssignedIdentities:\n    {UAI}: {{}}\n")
    assert not [d for d in diags if d.code == "AIB023" and "custom domain" in d.message]


def test_I04_full_identity_id_passes_also_for_the_build_vm() -> None:
    text = f"""
    identity:
      type: UserAssigned
      userAssignedIdentities:
        {UAI}: {{}}
    properties:
      vmProfile:
        userAssignedIdentities: [{UAI}]
    """
    diags = run(text)
    assert not at(diags, "AIB023") and not at(diags, "AIB022")
    assert at(run("properties:\n  vmProfile:\n    userAssignedIdentities: [aib]\n"), "AIB023") == ["3:30"]


def test_SRC01_gen2_source_with_2020_02_14_warns() -> None:
    text = """
    properties:
      source:
        type: PlatformImage
        publisher: Canonical
        offer: 0001-com-ubuntu-server-jammy
        sku: 22_04-lts-gen2
        version: latest
    """
    diags = run(text, api="2020-02-14")
    assert at(diags, "AIB030") == ["6:10"]
    assert next(d for d in diags if d.code == "AIB030").severity.value == "warning"
    assert at(
        run("properties:\n  source: {type: ManagedImage, imageId: x}\n", api="2020-02-14", generation="V2"),
        "AIB030",
    ) == ["2:11"]


def test_SRC01_gen2_source_with_later_api_passes() -> None:
    text = (
        "properties:\n"
        "  source: {type: PlatformImage, publisher: Canonical, offer: o, sku: 22_04-lts-gen2, version: x}\n"
    )
    text = text.replace("version: x", "version: latest")
    assert not at(run(text, api="2022-07-01"), "AIB030")
    assert not at(run(text.replace("-gen2", ""), api="2020-02-14"), "AIB030")


def test_SRC02_platform_image_needs_all_four_fields() -> None:
    diags = run("properties:\n  source:\n    type: PlatformImage\n    publisher: Canonical\n    sku: ''\n")
    assert at(diags, "AIB031") == ["3:5"]
    assert "offer, sku, version" in next(d.message for d in diags if d.code == "AIB031")


def test_SRC02_version_must_be_latest_or_major_minor_build() -> None:
    text = "properties:\n  source: {type: PlatformImage, publisher: p, offer: o, sku: s, version: '22.04'}\n"
    assert at(run(text), "AIB032") == ["2:74"]


def test_SRC02_complete_platform_image_passes() -> None:
    for version in ("latest", "22.04.202310110"):
        source = f"{{type: PlatformImage, publisher: p, offer: o, sku: s, version: '{version}'}}"
        text = f"properties:\n  source: {source}\n"
        diags = run(text)
        assert not at(diags, "AIB031") and not at(diags, "AIB032")


def test_SRC03_plan_info_values_must_not_be_empty() -> None:
    text = """
    properties:
      source:
        type: PlatformImage
        publisher: RedHat
        offer: rhel-byos
        sku: rhel-lvm75
        version: latest
        planInfo: {planName: rhel-lvm75, planProduct: "", planPublisher: redhat}
    """
    assert at(run(text), "AIB033") == ["8:51"]
    assert not at(run(text.replace('planProduct: ""', "planProduct: rhel-byos")), "AIB033")


def test_SRC04_managed_image_source_id_format() -> None:
    bad = "properties:\n  source:\n    type: ManagedImage\n    imageId: /subscriptions/0/images/base\n"
    assert at(run(bad), "AIB034") == ["4:14"]
    assert not at(run(f"properties:\n  source:\n    type: ManagedImage\n    imageId: {IMG}\n"), "AIB034")


def test_SRC05_shared_image_version_id_format() -> None:
    definition = VER.rsplit("/versions/", 1)[0]
    diags = run(f"properties:\n  source:\n    type: SharedImageVersion\n    imageVersionId: {definition}\n")
    assert at(diags, "AIB035") == ["4:21"]
    assert "/versions/latest" in (next(d for d in diags if d.code == "AIB035").hint or "")
    ok = run(f"properties:\n  source:\n    type: SharedImageVersion\n    imageVersionId: {VER}\n")
    assert not at(ok, "AIB035") and not at(ok, "AIB036")


def test_SRC05_seed_spelling_image_version_ID_is_an_error() -> None:
    diags = run(f"properties:\n  source:\n    type: SharedImageVersion\n    imageVersionID: {VER}\n")
    assert at(diags, "AIB036") == ["4:5"]
    assert "imageVersionId" in (next(d for d in diags if d.code == "AIB036").hint or "")


def test_SRC05_seed_spelling_is_reported_once_with_the_schema_stage() -> None:
    """With the schema stage (which suggests imageVersionId for the unknown key) AIB036 stays quiet."""
    from aibtui.compiler.check import check_model

    text = f"properties:\n  source:\n    type: SharedImageVersion\n    imageVersionID: {VER}\n"
    diags = DiagnosticBag()
    node = load_yaml(text, "t.json", diags)
    assert node is not None
    check_model(model_from_node(node, "t.json", api_version="2024-02-01"), diags)
    said = [d for d in diags if d.span and (d.span.line, d.span.col) == (4, 5)]
    assert len(said) == 1 and "imageVersionId" in (said[0].message + (said[0].hint or ""))


def test_I01_missing_identity_is_reported_once_with_the_schema_stage() -> None:
    """The schema stage requires `identity` too; with it, AIB020 stays quiet (the error is still there)."""
    from aibtui.compiler.check import check_model

    text = "type: Microsoft.VirtualMachineImages/imageTemplates\nname: t\nlocation: westus2\n"
    diags = DiagnosticBag()
    node = load_yaml(text, "t.json", diags)
    assert node is not None
    check_model(model_from_node(node, "t.json", api_version="2024-02-01"), diags)
    said = [d for d in diags if "identity" in d.message and d.severity.value == "error"]
    assert len(said) == 1 and said[0].span and (said[0].span.line, said[0].span.col) == (1, 1)
