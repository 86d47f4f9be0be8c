"""`build` compares the deployed template with the compiled body: what counts as a change."""

from __future__ import annotations

import copy

from service_support import sample_body

from aibtui.arm.diff import differences


def _deployed(body: dict) -> dict:
    d = copy.deepcopy(body)
    d.update(id="/subscriptions/x/.../imageTemplates/t", name="t", type="Microsoft.VirtualMachineImages/imageTemplates")
    d["location"] = "West US 2"
    d["identity"]["userAssignedIdentities"] = {k.upper(): {"principalId": "p", "clientId": "c"}
                                               for k in d["identity"]["userAssignedIdentities"]}
    d["properties"].update(provisioningState="Succeeded", lastRunStatus={"runState": "Succeeded"},
                           exactStagingResourceGroup="/subscriptions/x/resourceGroups/IT_rg_t")
    d["properties"]["vmProfile"].update(osDiskSizeGB=0, vnetConfig=None)
    d["properties"]["source"]["exactVersion"] = "22.04.202411010"
    d["properties"].update(autoRun={"state": "Disabled"}, stagingResourceGroup="",
                           errorHandling={"onCustomizerError": "cleanup", "onValidationError": "cleanup"})
    d["systemData"] = {"createdBy": "me"}
    return d


def test_service_additions_are_not_changes() -> None:
    body = sample_body(location="westus2")
    assert differences(_deployed(body), body) == []


def test_changes_are_listed_with_paths() -> None:
    body = sample_body()
    new = sample_body(steps=("install", "harden", "extra"))
    new["properties"]["vmProfile"]["vmSize"] = "Standard_D4s_v3"
    new["tags"] = {"team": "img"}
    del new["properties"]["buildTimeoutInMinutes"]
    text = [c.format() for c in differences(_deployed(body), new)]
    assert any(t.startswith('~ properties.customize: [{"inline": ["echo install"]') for t in text)
    assert "- properties.buildTimeoutInMinutes: 60" in text
    assert '~ properties.vmProfile.vmSize: "Standard_D2s_v3" -> "Standard_D4s_v3"' in text
    assert '+ tags: {"team": "img"}' in text


def test_same_length_lists_compare_item_by_item() -> None:
    body = sample_body()
    new = copy.deepcopy(body)
    new["properties"]["customize"][1]["inline"] = ["echo other"]
    assert [c.format() for c in differences(_deployed(body), new)] == [
        '~ properties.customize[1].inline[0]: "echo harden" -> "echo other"']


def test_identity_change_is_a_change() -> None:
    body = sample_body()
    new = copy.deepcopy(body)
    new["identity"]["userAssignedIdentities"] = {"/subscriptions/x/other": {}}
    changes = differences(_deployed(body), new)
    assert [c.path for c in changes] == ["identity.userAssignedIdentities[0]"]
    assert changes[0].new == "/subscriptions/x/other"


def test_a_non_default_service_value_is_a_change() -> None:
    body = sample_body()
    dep = _deployed(body)
    dep["properties"]["errorHandling"] = {"onCustomizerError": "abort"}
    assert [c.format() for c in differences(dep, body)] == [
        '- properties.errorHandling: {"onCustomizerError": "abort"}']
