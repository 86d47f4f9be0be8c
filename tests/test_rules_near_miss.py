"""Near misses for the seed rules (issue 15): each missed finding and each false alarm that was
measured, beside its twin that must stay quiet (or stay flagged). Test names carry the rule id."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from rules_support import at, where
from rules_support import run_rules_on as run

from aibtui.compiler.diagnostics import Severity
from aibtui.compiler.pipeline import check_file, compile_file
from aibtui.compiler.rules.secrets import find_secret
from aibtui.compiler.rules.source import gen2_sku

IDENTITY = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/"
            "Microsoft.ManagedIdentity/userAssignedIdentities/id")
IMAGE = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Compute/images/i"
GALLERY = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Compute/"
           "galleries/g/images/d")


def steps(*lines: str) -> str:
    return "properties:\n  customize:\n" + "".join(f"    - {line}\n" for line in lines)


def shell(*commands: str) -> str:
    return steps("{name: s, type: Shell, inline: " + json.dumps(list(commands)) + "}")


def powershell(*commands: str) -> str:
    return steps("{name: p, type: PowerShell, inline: " + json.dumps(list(commands)) + "}")


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def codes(result) -> list[str]:
    return [d.code for d in result.diagnostics]


# -- C-05: secrets in inline commands -------------------------------------------------------------
@pytest.mark.parametrize("command", [
    "$pw = ConvertTo-SecureString 'P@ssw0rd' -AsPlainText -Force",
    'ConvertTo-SecureString -String "Sup3r&Secret" -AsPlainText -Force',
    "cmdkey /generic:fileserver /user:svc /pass:S3cr3t!",
    "echo 'root:P@ss&w$rd' | chpasswd",
    "echo 'azureuser:Sup3r$ecret@&' | sudo chpasswd",
    "echo root:P@ss&w0rd | sudo chpasswd",
    "echo -e 'P@ss$1\\nP@ss$1' | passwd root",
    "printf '%s\\n' 'bob:P@ss$w0rd' | chpasswd",
    'echo "root:P@ss&w$rd" | chpasswd',  # in double quotes `$rd` expands, `root:P@ss&w` stays literal
    'ConvertTo-SecureString -AsPlainText -Force -String "Sup3r$ecret!"',
    'usermod -p $(openssl passwd -1 -salt xyz "P@ssw0rd") bob',
])
def test_C05_inline_secrets_are_flagged(command: str) -> None:
    assert find_secret(command) is not None, command
    text = powershell(command) if "SecureString" in command or "cmdkey" in command else shell(command)
    diags = run(text)
    assert at(diags, "AIB053"), command
    # the secret itself is never repeated in the message
    message = next(d.message for d in diags if d.code == "AIB053")
    assert "w0rd" not in message and "S3cr3t!" not in message and "ecret@&" not in message


@pytest.mark.parametrize("command", [
    "grep PASSWORD= /etc/app.conf",
    "grep -q PASSWORD= /etc/app/env",
    "grep -q '^PASSWORD=' /etc/app/env",
    'sed -i "s/^PASSWORD=.*/PASSWORD=/" /tmp/app.env',
    "ConvertTo-SecureString $env:ADMIN_PW -AsPlainText -Force",
    'ConvertTo-SecureString "$pw" -AsPlainText -Force',
    "cmdkey /list",
    'echo "bob:$PW" | chpasswd',
    'echo "$PASS" | passwd --stdin bob',
    "echo $(cat /run/secrets/pw) | chpasswd",
    'echo "bob:${PW}" | chpasswd',
    "ConvertTo-SecureString -AsPlainText -Force $pw",
    "usermod -p $(openssl passwd -6 $PW) bob",
    "sudo apt-get -qq install -o Dpkg::Options::=--force-confold nginx",
])
def test_C05_near_misses_are_not_secrets(command: str) -> None:
    assert find_secret(command) is None, command
    assert not at(run(shell(command)), "AIB053")


# -- SH-03 / AIB604: apt-get -qq, sudo after chown ------------------------------------------------
def test_AIB604_apt_get_qq_implies_yes() -> None:
    for command in ("sudo apt-get -qq install nginx", "sudo apt-get -q=2 upgrade", "sudo apt -qq install jq"):
        assert not at(run(shell(command)), "AIB604"), command
    # a single -q is only quieter: the prompt still comes
    text = shell("sudo apt-get -q install nginx")
    assert at(run(text), "AIB604") == [where(text, "\"sudo apt-get")]


def test_SH03_no_AIB057_under_a_folder_chowned_to_the_build_user() -> None:
    text = shell("sudo mkdir -p /opt/app", "sudo chown -R $USER /opt/app", "cp x /opt/app/x", "mkdir /opt/app/y",
                 "touch /opt/other")
    diags = run(text)
    assert at(diags, "AIB057") == [where(text, "\"touch /opt/other")]


def test_SH03_chown_to_root_or_a_later_chown_does_not_hand_over() -> None:
    text = shell("cp x /opt/app/x", "sudo chown -R $USER /opt/app")  # the copy came first
    assert at(run(text), "AIB057") == [where(text, "\"cp x")]
    text = shell("sudo chown root:root /opt/app", "cp x /opt/app/x")
    assert at(run(text), "AIB057") == [where(text, "\"cp x")]
    text = shell("sudo chmod 777 /srv/drop", "cp x /srv/drop/x")
    assert not at(run(text), "AIB057")


# -- S-01: a resource type in another case --------------------------------------------------------
LOWER_TYPE = {
    "type": "microsoft.virtualmachineimages/imagetemplates",
    "apiVersion": "2024-02-01",
    "name": "x",
    "location": "westus2",
    "identity": {"type": "UserAssigned", "userAssignedIdentities": {IDENTITY: {}}},
    "properties": {
        "source": {"type": "PlatformImage", "publisher": "Canonical", "offer": "0001-com-ubuntu-server-jammy",
                   "sku": "22_04-lts-gen2", "version": "latest"},
        "customize": [{"type": "Shell", "name": "a", "inline": ["echo hi"]}],
        "distribute": [{"type": "ManagedImage", "imageId": IMAGE, "location": "westus2", "runOutputName": "r"}],
    },
}


def test_S01_lower_case_type_is_one_warning_in_check_and_in_import(tmp_path: Path) -> None:
    from aibtui.compiler.importer import import_file

    path = tmp_path / "t.json"
    path.write_text(json.dumps(LOWER_TYPE, indent=2))
    result = check_file(path)
    s01 = [d for d in result.diagnostics if d.rule == "S-01"]
    assert [(d.code, d.severity) for d in s01] == [("AIB001", Severity.WARNING)]
    assert s01[0].span is not None and s01[0].span.line == 2
    assert result.ok
    imported = import_file(path)
    found = [d for d in imported.diagnostics if d.rule == "S-01"]
    assert [d.severity for d in found] == [Severity.WARNING]


def test_S01_lower_case_type_in_the_dialect_is_the_same_warning(tmp_path: Path) -> None:
    path = write(tmp_path, "t.aib.yaml", f"""
        name: x
        type: microsoft.virtualmachineimages/imagetemplates
        location: westus2
        identity: {IDENTITY}
        source: Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2:latest
        customize:
          - {{name: a, shell: echo hi}}
        distribute:
          - managedImage: {IMAGE}
        """)
    result = compile_file(path)
    [d] = [d for d in result.diagnostics if d.rule == "S-01"]
    assert (d.code, d.severity, d.span.line if d.span else 0) == ("AIB001", Severity.WARNING, 2)
    assert result.ok and result.document is not None
    assert result.document["type"] == "Microsoft.VirtualMachineImages/imageTemplates"


def test_S01_another_type_is_still_an_error() -> None:
    text = 'type: Microsoft.VirtualMachineImages/imageTemplate\nproperties: {}\n'
    [d] = [d for d in run(text) if d.code == "AIB001"]
    assert d.severity is Severity.ERROR


# -- S-02: unknown or preview apiVersion, the same severity from JSON and YAML ----------------------
@pytest.mark.parametrize("version", ["2019-05-01-preview", "2099-01-01", "2022-01-01"])
def test_S02_json_and_yaml_agree_on_an_unsupported_api_version(tmp_path: Path, version: str) -> None:
    doc = dict(LOWER_TYPE, type="Microsoft.VirtualMachineImages/imageTemplates", apiVersion=version)
    json_path = tmp_path / "t.json"
    json_path.write_text(json.dumps(doc, indent=2))
    yaml_path = write(tmp_path, "t.aib.yaml", f"""
        name: x
        location: westus2
        apiVersion: '{version}'
        identity: {IDENTITY}
        source: Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2:latest
        customize:
          - {{name: a, shell: echo hi}}
        distribute:
          - managedImage: {IMAGE}
        """)
    from_json = [d for d in check_file(json_path).diagnostics if d.rule == "S-02"]
    from_yaml = [d for d in compile_file(yaml_path).diagnostics if d.rule == "S-02"]
    worst = {d.code: d.severity for d in from_json if d.code != "AIB002"}  # AIB002: the seed-version note
    assert set(worst.values()) == {d.severity for d in from_yaml} == {Severity.ERROR}, (worst, from_yaml)


# -- SRC-01: Gen2 detection -----------------------------------------------------------------------
@pytest.mark.parametrize(("offer", "sku", "gen2"), [
    ("WindowsServer", "2019-datacenter-gensecond", True),
    ("WindowsServer", "2022-datacenter-g2", True),
    ("ubuntu-24_04-lts", "server", True),
    ("ubuntu-24_04-lts", "minimal", True),
    ("ubuntu-24_04-lts", "server-gen1", False),
    ("ubuntu-24_04-lts", "server-arm64", True),
    ("0001-com-ubuntu-server-jammy", "22_04-lts", False),
    ("0001-com-ubuntu-server-jammy", "22_04-lts-gen2", True),
    ("windows-11", "win11-24h2-avd", True),
    ("WindowsServer", "2019-Datacenter", False),
    ("RHEL", "9-lvm-gen2", True),
    ("RHEL", "9-lvm", False),
])
def test_SRC01_gen2_skus(offer: str, sku: str, gen2: bool) -> None:
    assert gen2_sku(offer, sku) is gen2
    text = ("properties:\n  source: {type: PlatformImage, publisher: P, offer: " + offer + ", sku: " + sku
            + ", version: latest}\n")
    assert bool(at(run(text, api="2020-02-14"), "AIB030")) is gen2
    assert not at(run(text, api="2021-10-01"), "AIB030")  # the first stable version after the seed's


def test_SRC01_docs_state_the_threshold_the_code_uses() -> None:
    rules = (Path(__file__).resolve().parents[1] / "docs" / "rules.md").read_text(encoding="utf-8")
    row = next(line for line in rules.splitlines() if line.startswith("| AIB030 "))
    assert "2021-10-01" in row and "2022-07-01" not in row
    from aibtui.compiler.codes import CODES

    assert "2021-10-01" in (CODES["AIB030"].hint or "")


# -- F-04: an oversized local File copy -----------------------------------------------------------
def _file_template(tmp_path: Path, size: int) -> Path:
    with (tmp_path / "big.bin").open("wb") as fh:
        fh.truncate(size)
    return write(tmp_path, "t.aib.yaml", f"""
        name: x
        location: westus2
        identity: {IDENTITY}
        source: Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2:latest
        customize:
          - name: big
            file: {{from: 'https://example.blob.core.windows.net/c/big.bin', to: /tmp/big.bin, local: big.bin}}
        distribute:
          - managedImage: {IMAGE}
        """)


def test_F04_oversized_local_file_copy_is_noted(tmp_path: Path) -> None:
    result = compile_file(_file_template(tmp_path, 21_000_000))
    [d] = [d for d in result.diagnostics if d.code == "AIB417"]
    assert d.rule == "F-04" and d.severity is Severity.WARNING and "21.0 MB" in d.message
    assert d.span is not None and d.span.line == 7
    assert result.ok and result.document is not None  # advice: the template still compiles


def test_F04_a_small_local_copy_is_fine(tmp_path: Path) -> None:
    assert "AIB417" not in codes(compile_file(_file_template(tmp_path, 19_000_000)))


# -- G-05: Hyper-V role without the deprovisioning override ---------------------------------------
@pytest.mark.parametrize("command", [
    "Install-WindowsFeature -Name Hyper-V -IncludeManagementTools",
    "Enable-WindowsOptionalFeature -Online -FeatureName Microsoft-Hyper-V-All -NoRestart",
    "dism.exe /online /enable-feature /FeatureName:Microsoft-Hyper-V /all /norestart",
])
def test_G05_hyper_v_role_without_override(command: str) -> None:
    text = powershell("Write-Host start", command)
    assert at(run(text, os="windows"), "AIB079") == [where(text, json.dumps(command))]


def test_G05_near_misses() -> None:
    # Hyper-V PowerShell tools only, or the override is written: quiet
    assert not at(run(powershell("Install-WindowsFeature -Name Hyper-V-PowerShell"), os="windows"), "AIB079")
    text = steps(
        "{name: p, type: PowerShell, inline: ['Install-WindowsFeature -Name Hyper-V']}",
        "{name: o, type: File, sourceUri: 'https://x.blob.core.windows.net/c/d.ps1', "
        "destination: 'c:\\DeprovisioningScript.ps1'}",
    )
    assert not at(run(text, os="windows"), "AIB079")
    assert not at(run(powershell("Install-WindowsFeature -Name Hyper-V"), os="linux"), "AIB079")


# -- DI-04 / L-01: said once ----------------------------------------------------------------------
def test_DI04_AIB086_once_per_region() -> None:
    text = ("properties:\n  distribute:\n    - {type: SharedImage, runOutputName: g, galleryImageId: " + GALLERY
            + ", replicationRegions: [westus2, eastus, westus2, WestUS2]}\n")
    diags = run(text)
    assert at(diags, "AIB086") == [where(text, "westus2", 2)]
    assert "3 times" in next(d.message for d in diags if d.code == "AIB086")


def test_L01_unknown_location_said_once(tmp_path: Path) -> None:
    path = write(tmp_path, "t.aib.yaml", f"""
        name: x
        location: westus9
        identity: {IDENTITY}
        source: Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2:latest
        customize:
          - {{name: a, shell: echo hi}}
        distribute:
          - managedImage: {IMAGE}
          - gallery: {GALLERY}
            regions: [westus9, eastus, westus9]
        """)
    found = [d for d in compile_file(path).diagnostics if d.code == "AIB005"]
    assert [d.span.line for d in found] == [2, 10]
    assert [d.code for d in compile_file(path).diagnostics].count("AIB086") == 1


# -- profile findings at the user's extends: line ---------------------------------------------------
def test_SRC01_profile_warning_points_at_the_users_extends_line(tmp_path: Path) -> None:
    path = write(tmp_path, "t.aib.yaml", f"""
        name: x
        location: westus2
        apiVersion: '2020-02-14'
        extends: [linux-apt-upgrade, ubuntu-22.04-gen2]
        identity: {IDENTITY}
        customize:
          - {{name: a, shell: echo hi}}
        distribute:
          - managedImage: {IMAGE}
        """)
    [d] = [d for d in compile_file(path).diagnostics if d.code == "AIB030"]
    assert d.span is not None and d.span.file == str(path)
    text = path.read_text()
    assert f"{d.span.line}:{d.span.col}" == where(text, "ubuntu-22.04-gen2")
    assert "from profile ubuntu-22.04-gen2" in d.message and "ubuntu-22.04-gen2.aib.yaml:" in d.message


# -- WU-02: the line of the WindowsUpdate step ------------------------------------------------------
def test_WU02_points_at_the_windows_update_key(tmp_path: Path) -> None:
    path = write(tmp_path, "t.aib.yaml", f"""
        name: x
        location: westus2
        extends: windows-server-2022
        identity: {IDENTITY}
        customize:
          - name: a
            powershell: Write-Host hi
          - name: upd
            windowsUpdate:
              updateLimit: 20
        distribute:
          - managedImage: {IMAGE}
        """)
    [d] = [d for d in compile_file(path).diagnostics if d.code == "AIB067"]
    assert d.span is not None and (d.span.line, d.span.col) == (9, 5)
