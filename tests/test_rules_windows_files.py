"""Seed rules for Windows steps (WR-01, WR-02, WU-01, WU-02), the File step (F-01, F-03) and the
deprovisioning override (G-04)."""

from __future__ import annotations

from rules_support import at, where
from rules_support import run_rules_on as run

SHA = "b" * 64








def steps(*lines: str) -> str:
    return "properties:\n  customize:\n" + "".join(f"    - {line}\n" for line in lines)


RESTART = "{name: restart, type: WindowsRestart, restartTimeout: 10m}"


# -- WindowsRestart ------------------------------------------------------------------------------
def test_WR01_windows_restart_on_linux() -> None:
    text = steps(RESTART)
    diags = run(text, os="linux")
    assert at(diags, "AIB060") == [where(text, "WindowsRestart")]
    assert "WR-02" in (next(d for d in diags if d.code == "AIB060").hint or "")


def test_WR01_windows_restart_on_windows_passes() -> None:
    assert not at(run(steps(RESTART), os="windows"), "AIB060")


def test_WR01_restart_timeout_format() -> None:
    text = steps(
        "{name: r, type: WindowsRestart, restartTimeout: 5 minutes}",
        "{name: s, type: WindowsRestart, restartTimeout: '10'}",
    )
    diags = run(text, os="windows")
    assert at(diags, "AIB061") == [where(text, "5 minutes"), where(text, "'10'")]
    hints = [d.hint for d in diags if d.code == "AIB061"]
    assert hints == ["did you mean '5m'?", "give a unit: 10m for minutes"]


def test_WR01_go_durations_pass() -> None:
    for value in ("5m", "2h", "1h30m", "90s", "1.5h"):
        text = steps(f"{{name: r, type: WindowsRestart, restartTimeout: '{value}'}}")
        assert not at(run(text, os="windows"), "AIB061"), value


# -- WindowsUpdate --------------------------------------------------------------------------------
def test_WU01_windows_update_on_linux() -> None:
    text = steps("{name: wu, type: WindowsUpdate}")
    assert at(run(text, os="linux"), "AIB065") == [where(text, "WindowsUpdate")]


def test_WU01_filter_without_prefix_warns() -> None:
    text = steps(RESTART, "{name: wu, type: WindowsUpdate, filters: ['$_.BrowseOnly', 'include:$true']}")
    assert at(run(text, os="windows"), "AIB066") == [where(text, "'$_")]


def test_WU01_windows_update_on_windows_passes() -> None:
    text = steps(
        RESTART, "{name: wu, type: WindowsUpdate, filters: ['exclude:$_.Title -like \"*Preview*\"']}"
    )
    diags = run(text, os="windows")
    assert not at(diags, "AIB065") and not at(diags, "AIB066")


def test_WU02_windows_update_not_after_a_restart() -> None:
    text = steps(
        "{name: tools, type: PowerShell, inline: ['choco install git -y']}",
        "{name: wu, type: WindowsUpdate}",
        "{name: wu2, type: WindowsUpdate}",
    )
    diags = run(text, os="windows")
    assert at(diags, "AIB067") == [where(text, "WindowsUpdate"), where(text, "WindowsUpdate", 2)]


def test_WU02_windows_update_after_restart_or_sleep_passes() -> None:
    text = steps(
        "{name: tools, type: PowerShell, inline: ['choco install git -y']}",
        RESTART,
        "{name: wu, type: WindowsUpdate}",
        "{name: wait, type: PowerShell, inline: ['Start-Sleep -Seconds 300']}",
        "{name: wu2, type: WindowsUpdate}",
    )
    assert not at(run(text, os="windows"), "AIB067")
    assert not at(run(steps("{name: wu, type: WindowsUpdate}"), os="windows"), "AIB067")


# -- File -----------------------------------------------------------------------------------------
def test_F01_file_needs_source_and_destination() -> None:
    text = steps("{name: f, type: File, destination: /tmp/x}")
    diags = run(text, os="linux")
    assert at(diags, "AIB070") == [where(text, "{name: f")]
    assert "sourceUri" in next(d.message for d in diags if d.code == "AIB070")


def test_F01_source_uri_is_a_directory() -> None:
    text = steps(
        f"{{name: f, type: File, sourceUri: 'https://x.blob.core.windows.net/c/dir/', "
        f"destination: /tmp/x, sha256Checksum: {SHA}}}",
        "{name: g, type: File, sourceUri: 'https://github.com/o/r/tree/main/conf', destination: /tmp/y}",
    )
    diags = run(text, os="linux")
    assert at(diags, "AIB071") == [where(text, "'https://x"), where(text, "'https://github")]


def test_F01_destination_must_name_a_file() -> None:
    text = steps(
        f"{{name: f, type: File, sourceUri: 'https://x/app.conf', destination: /tmp/conf/, "
        f"sha256Checksum: {SHA}}}"
    )
    diags = run(text, os="linux")
    assert at(diags, "AIB074") == [where(text, "/tmp/conf/")]
    assert next(d.hint for d in diags if d.code == "AIB074") == "for example /tmp/conf/app.conf"


def test_F01_complete_file_step_passes() -> None:
    text = steps(
        f"{{name: f, type: File, sourceUri: 'https://x/app.conf', destination: /tmp/app.conf, "
        f"sha256Checksum: {SHA}}}"
    )
    diags = run(text, os="linux")
    assert not [d for d in diags if d.code in ("AIB070", "AIB071", "AIB072", "AIB074")]


def test_F03_linux_file_destination_outside_tmp() -> None:
    text = steps(
        f"{{name: f, type: File, sourceUri: 'https://x/a', destination: /etc/nginx/nginx.conf, "
        f"sha256Checksum: {SHA}}}",
        f"{{name: g, type: File, sourceUri: 'https://x/b', destination: /tmp/../etc/b, "
        f"sha256Checksum: {SHA}}}",
    )
    diags = run(text, os="linux")
    assert at(diags, "AIB072") == [where(text, "/etc/nginx"), where(text, "/tmp/../")]
    assert "/tmp/nginx.conf" in (next(d for d in diags if d.code == "AIB072").hint or "")


def test_F03_windows_file_destination_must_be_absolute() -> None:
    text = steps(
        f"{{name: f, type: File, sourceUri: 'https://x/a.zip', destination: 'buildArtifacts\\a.zip', "
        f"sha256Checksum: {SHA}}}"
    )
    assert at(run(text, os="windows"), "AIB073") == [where(text, "'buildArtifacts")]


def test_F03_allowed_destinations_pass() -> None:
    linux = steps(
        f"{{name: f, type: File, sourceUri: 'https://x/a', destination: /tmp/sub/a, sha256Checksum: {SHA}}}"
    )
    assert not at(run(linux, os="linux"), "AIB072")
    win = steps(
        f"{{name: f, type: File, sourceUri: 'https://x/a', destination: 'c:\\buildArtifacts\\a', "
        f"sha256Checksum: {SHA}}}"
    )
    assert not at(run(win, os="windows"), "AIB073")


# -- Generalize -----------------------------------------------------------------------------------
def test_G04_misspelt_deprovisioning_script() -> None:
    text = steps(
        f"{{name: f, type: File, sourceUri: 'https://x/d.sh', destination: /tmp/deprovisioningScript.sh, "
        f"sha256Checksum: {SHA}}}"
    )
    diags = run(text, os="linux")
    assert at(diags, "AIB078") == [where(text, "/tmp/deprovisioning")]
    assert "/tmp/DeprovisioningScript.sh" in (next(d for d in diags if d.code == "AIB078").hint or "")
    win = steps(
        "{name: p, type: PowerShell, inline: ['Set-Content -Path c:\\DeprovisionScript.ps1 -Value $s']}"
    )
    assert at(run(win, os="windows"), "AIB078") == [where(win, "'Set-Content")]


def test_G04_exact_deprovisioning_paths_pass() -> None:
    text = steps(
        f"{{name: f, type: File, sourceUri: 'https://x/d.sh', destination: /tmp/DeprovisioningScript.sh, "
        f"sha256Checksum: {SHA}}}"
    )
    assert not at(run(text, os="linux"), "AIB078")
    win = steps(
        "{name: p, type: PowerShell, inline: ['Set-Content -Path C:\\DeprovisioningScript.ps1 -Value $s']}"
    )
    assert not at(run(win, os="windows"), "AIB078")
    waagent = steps("{name: s, type: Shell, inline: ['sudo /usr/sbin/waagent -force -deprovision+user']}")
    assert not at(run(waagent, os="linux"), "AIB078")
