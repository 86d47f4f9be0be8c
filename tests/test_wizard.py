"""The onboarding's non-UI logic: answers -> commented YAML that compiles; id form checks; recipes."""

from __future__ import annotations

from pathlib import Path

import pytest

from aibtui.compiler import compile_file
from aibtui.compiler.yamlwriter import scalar
from aibtui.onboarding import resource_ids as ids
from aibtui.onboarding.answers import Answers, Output, default_outputs, gallery_image_id
from aibtui.onboarding.recipes import (
    RECIPE_BY_KEY,
    check_field,
    check_step_name,
    make_step,
    recipe_of_step,
    recipes_for,
    step_summary,
)
from aibtui.onboarding.writer import TargetExists, write_project

SUB = "00000000-0000-0000-0000-000000000000"


def _answers(os_family: str = "linux", profile: str = "ubuntu-22.04-gen2") -> Answers:
    a = Answers(name="web", profile=profile, os=os_family)
    a.steps = [make_step(r, r.default_name, r.defaults(os_family), os_family) for r in recipes_for(os_family)]
    a.outputs = default_outputs(a) + [Output("vhd"), Output("gallery", gallery_image_id(a), ["westus2", "eastus"])]
    return a


@pytest.mark.parametrize("os_family,profile", [("linux", "ubuntu-22.04-gen2"), ("windows", "windows-server-2022")])
def test_every_recipe_and_output_compiles(tmp_path: Path, os_family: str, profile: str) -> None:
    a = _answers(os_family, profile)
    written = write_project(tmp_path, a)
    assert written.path == tmp_path / "web.aib.yaml"
    assert written.scripts and written.scripts[0].is_file()  # the local-script recipe's starter script
    res = compile_file(written.path)
    assert res.ok, [d.format_text() for d in res.errors]
    props = res.document["properties"]
    assert [s["name"] for s in props["customize"]][:3] == ["install", "setup", "copy-file"]
    assert sorted(d["type"] for d in props["distribute"]) == ["ManagedImage", "SharedImage", "VHD"]
    text = written.path.read_text()
    assert text.count("\n# ") >= 6  # every section explains itself
    with pytest.raises(TargetExists):
        write_project(tmp_path, a)


def test_marketplace_source_without_profile(tmp_path: Path) -> None:
    a = Answers(name="img", profile=None, source="Canonical:ubuntu-24_04-lts:server:latest", os="linux",
                generation="V2")
    a.outputs = default_outputs(a)
    path = write_project(tmp_path, a).path
    res = compile_file(path)
    assert res.ok, [d.format_text() for d in res.errors]
    assert res.document["properties"]["source"]["offer"] == "ubuntu-24_04-lts"
    assert "os: linux" in path.read_text()


@pytest.mark.parametrize("value", ["yes", "no", "1.10", "on", "null", "a: b", "x #y", "", " lead", "-x", "{a}", "'q'"])
def test_scalars_read_back_as_the_same_string(value: str) -> None:
    import yaml

    assert yaml.safe_load(f"k: {scalar(value)}")["k"] == value


def test_identity_checks_explain_the_problem() -> None:
    good = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/aib"
    assert ids.check_identity(good) is None
    assert "starts with /subscriptions/" in ids.check_identity("aib")
    assert "GUID" in ids.check_identity(good.replace(SUB, "my-sub"))
    assert "resourceGroups" in ids.check_identity(f"/subscriptions/{SUB}/providers/x")
    assert "not a user-assigned identity" in ids.check_identity(good.replace("userAssignedIdentities", "identities"))
    assert ids.identity_parts(good) == (SUB, "rg", "aib")
    assert ids.check_location("West US 2")
    assert ids.check_location("westus2") is None
    assert ids.check_template_name("bad name")
    assert ids.check_gallery_image(gallery_image_id(Answers())) is None
    assert ids.check_source_id(f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/images/i") is None
    assert ids.check_urn("Canonical:x:y") is None and ids.check_urn("Canonical") is not None


def test_az_commands_create_identity_and_role() -> None:
    cmds = ids.az_commands("rg-img", "id-x", "eastus")
    assert cmds[0] == "az group create -n rg-img -l eastus"
    assert any("az identity create -g rg-img -n id-x" in c for c in cmds)
    assert any("role assignment create" in c and "--scope /subscriptions/" in c for c in cmds)


def test_recipe_field_checks() -> None:
    f = RECIPE_BY_KEY["file"]
    assert "/tmp" in check_field(f, "to", "/etc/x", "linux")
    assert check_field(f, "to", r"C:\x", "windows") is None
    assert "https" in check_field(f, "from", "ftp://x", "linux")
    assert "required" in check_field(RECIPE_BY_KEY["commands"], "commands", " ", "linux")
    assert check_field(RECIPE_BY_KEY["windowsRestart"], "timeout", "5x", "windows")
    assert check_step_name("a b", set())
    assert "exists" in check_step_name("a", {"a"})


def test_recipe_of_step_round_trips() -> None:
    for os_family in ("linux", "windows"):
        for r in recipes_for(os_family):
            values = r.defaults(os_family)
            step = make_step(r, "s", values, os_family)
            again, vals = recipe_of_step(step)
            assert again is r
            if r.key != "windowsUpdate":
                assert make_step(r, "s", vals, os_family) == step
            assert step_summary(step)
    assert recipe_of_step({"name": "x", "type": "Shell", "inline": ["a"]}) == (None, {})
