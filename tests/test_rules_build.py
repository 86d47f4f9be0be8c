"""Seed rules for vmProfile (V-01 vmSize, V-02 osDiskSizeGB, V-03 subnetId) and
buildTimeoutInMinutes (B-01 default, B-03 Windows minimum)."""

from __future__ import annotations

from rules_support import at
from rules_support import run_rules_on as run

SUBNET = "/subscriptions/0/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/s"






def test_V01_vm_size_that_is_not_an_azure_size() -> None:
    diags = run("properties:\n  vmProfile:\n    vmSize: D2s_v3\n")
    assert at(diags, "AIB010") == ["3:13"]
    (d,) = [d for d in diags if d.code == "AIB010"]
    assert "D2s_v3" in d.message and d.hint == "did you mean 'Standard_D2s_v3'?"
    assert at(run("properties:\n  vmProfile:\n    vnetConfig: {proxyVmSize: large}\n"), "AIB010") == ["3:31"]


def test_V01_real_vm_sizes_pass() -> None:
    for size in (
        "Standard_D1_v2",
        "Standard_D2s_v3",
        "Standard_E64-16ds_v4",
        "Standard_NC24ads_A100_v4",
        "Standard_NV6ads_A10_v5",
        "Basic_A1",
        "Standard_DS1_v2_Promo",
        "standard_d4s_v5",
        "",
    ):
        assert not at(run(f"properties:\n  vmProfile:\n    vmSize: '{size}'\n"), "AIB010"), size


def test_V02_os_disk_larger_than_azure_allows() -> None:
    assert at(run("properties:\n  vmProfile:\n    osDiskSizeGB: 99999\n"), "AIB011") == ["3:19"]


def test_V02_os_disk_smaller_than_the_source_image() -> None:
    assert at(run("properties:\n  vmProfile:\n    osDiskSizeGB: 8\n"), "AIB011") == ["3:19"]
    windows = """
    properties:
      source: {type: PlatformImage, publisher: MicrosoftWindowsServer, offer: WindowsServer,
               sku: 2022-datacenter, version: latest}
      vmProfile: {osDiskSizeGB: 64}
    """
    assert at(run(windows), "AIB011") == ["4:29"]
    assert not at(run(windows.replace("2022-datacenter", "2022-datacenter-smalldisk")), "AIB011")


def test_V02_plausible_os_disk_sizes_pass() -> None:
    for size in (0, 30, 64, 127, 1024):
        assert not at(run(f"properties:\n  vmProfile:\n    osDiskSizeGB: {size}\n"), "AIB011"), size


def test_V03_subnet_id_must_be_a_full_subnet_id() -> None:
    diags = run("properties:\n  vmProfile:\n    vnetConfig:\n      subnetId: my-subnet\n")
    assert at(diags, "AIB012") == ["4:17"]
    vnet = SUBNET.rsplit("/subnets/", 1)[0]
    assert at(
        run(f"properties:\n  vmProfile:\n    vnetConfig:\n      containerInstanceSubnetId: {vnet}\n"),
        "AIB012",
    ) == ["4:34"]


def test_V03_full_subnet_id_and_placeholder_pass() -> None:
    assert not at(run(f"properties:\n  vmProfile:\n    vnetConfig:\n      subnetId: {SUBNET}\n"), "AIB012")
    seed = "/subscriptions/<subscriptionID>/resourceGroups/<vnetRgName>/providers/x"
    assert not at(run(f"properties:\n  vmProfile:\n    vnetConfig:\n      subnetId: '{seed}'\n"), "AIB012")


def test_B01_zero_timeout_is_the_default_note() -> None:
    diags = run("properties:\n  buildTimeoutInMinutes: 0\n")
    assert at(diags, "AIB040") == ["2:26"]
    assert next(d for d in diags if d.code == "AIB040").severity.value == "note"


def test_B01_explicit_timeout_has_no_note() -> None:
    assert not at(run("properties:\n  buildTimeoutInMinutes: 120\n"), "AIB040")


def test_B03_windows_timeout_below_60_warns() -> None:
    diags = run("properties:\n  buildTimeoutInMinutes: 45\n", os="windows")
    assert at(diags, "AIB041") == ["2:26"]


def test_B03_windows_60_or_linux_short_timeout_passes() -> None:
    assert not at(run("properties:\n  buildTimeoutInMinutes: 60\n", os="windows"), "AIB041")
    assert not at(run("properties:\n  buildTimeoutInMinutes: 30\n", os="linux"), "AIB041")
