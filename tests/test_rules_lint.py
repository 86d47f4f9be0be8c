"""Extra lint warnings beyond the seed (AIB600-AIB606)."""

from __future__ import annotations

import functools

from rules_support import at, run_rules_on, where

run = functools.partial(run_rules_on, os="linux")

SHA = "c" * 64








def steps(*lines: str) -> str:
    return "properties:\n  customize:\n" + "".join(f"    - {line}\n" for line in lines)


def test_AIB600_external_script_without_checksum() -> None:
    text = steps(
        "{name: a, type: Shell, scriptUri: 'https://x/a.sh'}",
        "{name: f, type: File, sourceUri: 'https://x/f', destination: /tmp/f}",
    )
    assert at(run(text), "AIB600") == [where(text, "'https://x/a"), where(text, "'https://x/f")]


def test_AIB600_checksummed_or_inline_steps_pass() -> None:
    text = steps(
        f"{{name: a, type: Shell, scriptUri: 'https://x/a.sh', sha256Checksum: {SHA}}}",
        "{name: b, type: Shell, inline: [ls]}",
    )
    assert not at(run(text), "AIB600")


def test_AIB601_github_blob_url() -> None:
    text = steps(
        f"{{name: a, type: Shell, scriptUri: 'https://github.com/o/r/blob/main/s/a.sh', "
        f"sha256Checksum: {SHA}}}"
    )
    diags = run(text)
    assert at(diags, "AIB601") == [where(text, "'https://github")]
    assert (
        next(d.hint for d in diags if d.code == "AIB601")
        == "use https://raw.githubusercontent.com/o/r/main/s/a.sh"
    )


def test_AIB601_raw_github_url_passes() -> None:
    text = steps(
        f"{{name: a, type: Shell, scriptUri: 'https://raw.githubusercontent.com/o/r/main/a.sh', "
        f"sha256Checksum: {SHA}}}"
    )
    assert not at(run(text), "AIB601")


def test_AIB602_unfilled_placeholders() -> None:
    text = (
        'location: "<region>"\ntags:\n  "<name>": "<value>"\nproperties:\n  vmProfile: {vmSize: "<vmSize>"}\n'
    )
    diags = run(text)
    assert (
        at(diags, "AIB602")
        == [
            where(text, '"<region>'),
            where(text, '"<name>'),
            where(text, '"<value>'),
            where(text, '"<vmSize>'),
        ]
        == ["1:11", "3:3", "3:13", "5:23"]
    )
    assert "<region>" in next(d.message for d in diags if d.code == "AIB602")


def test_AIB602_filled_template_and_comparisons_pass() -> None:
    text = steps(
        "{name: a, type: Shell, inline: ['if [ $n -lt 3 ]; then echo a < b; fi', 'sort < in.txt > out.txt', "
        "'echo \"<h1>Hello</h1>\" | sudo tee /var/www/html/index.html']}"
    )
    assert not at(run("location: westus2\n" + text), "AIB602")


def test_AIB603_plain_http_script() -> None:
    text = steps(f"{{name: a, type: Shell, scriptUri: 'http://example.com/a.sh', sha256Checksum: {SHA}}}")
    diags = run(text)
    assert at(diags, "AIB603") == [where(text, "'http://")]
    assert next(d.hint for d in diags if d.code == "AIB603") == "use https://example.com/a.sh"


def test_AIB603_https_passes() -> None:
    text = steps(f"{{name: a, type: Shell, scriptUri: 'https://example.com/a.sh', sha256Checksum: {SHA}}}")
    assert not at(run(text), "AIB603")


def test_AIB604_install_without_yes() -> None:
    text = steps("{name: a, type: Shell, inline: ['sudo apt-get install nginx', 'sudo zypper install vim']}")
    diags = run(text)
    assert at(diags, "AIB604") == [where(text, "'sudo apt-get"), where(text, "'sudo zypper")]


def test_AIB604_non_interactive_installs_pass() -> None:
    text = steps(
        "{name: a, type: Shell, inline: ['sudo apt-get install -y nginx', 'sudo apt-get -qy upgrade', "
        "'sudo dnf --assumeyes install git', 'sudo zypper -n install vim', 'sudo apt-get update']}"
    )
    assert not at(run(text), "AIB604")


def test_AIB605_powershell_restarts_windows_itself() -> None:
    text = steps(
        "{name: a, type: PowerShell, inline: ['Install-WindowsFeature Web', 'Restart-Computer -Force']}"
    )
    assert at(run(text, os="windows"), "AIB605") == [where(text, "'Restart-Computer")]


def test_AIB605_windows_restart_step_passes() -> None:
    text = steps(
        "{name: a, type: PowerShell, inline: ['Install-WindowsFeature Web-Server']}",
        "{name: r, type: WindowsRestart}",
    )
    assert not at(run(text, os="windows"), "AIB605")


def test_AIB606_sudo_does_not_cover_redirection() -> None:
    text = steps("{name: a, type: Shell, inline: ['sudo echo net.ipv4.ip_forward=1 >> /etc/sysctl.conf']}")
    diags = run(text)
    assert at(diags, "AIB606") == [where(text, "'sudo echo")]
    assert not at(diags, "AIB057")


def test_AIB606_tee_passes() -> None:
    text = steps(
        "{name: a, type: Shell, inline: ['echo net.ipv4.ip_forward=1 | sudo tee -a /etc/sysctl.conf', "
        "\"sudo sh -c 'echo 1 > /proc/sys/vm/overcommit_memory; echo x > /etc/x'\"]}"
    )
    diags = run(text)
    assert not at(diags, "AIB606") and not at(diags, "AIB057")


def _compile_with(tmp_path, body: str, **options):  # noqa: ANN001, ANN003, ANN202
    from aibtui.compiler import CompileOptions, compile_file

    path = tmp_path / "t.aib.yaml"
    path.write_text(
        "source: Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2:latest\nos: linux\n"
        "identity: /subscriptions/x/resourceGroups/r/providers/Microsoft.ManagedIdentity/userAssignedIdentities/i\n"
        "distribute: [{vhd: true}]\n" + body
    )
    return compile_file(path, CompileOptions(**options))


def test_AIB602_from_the_compile_pipeline_in_every_outcome(tmp_path) -> None:  # noqa: ANN001
    """The pipeline scans for placeholders after emitting (on the JSON text it has then); the
    finding is the same, once, whether the compile succeeds, emits the body format (which has no
    `name`), or fails before emitting."""
    ok = _compile_with(tmp_path, "name: web\nlocation: '<region>'\ncustomize: [{name: a, shell: ls}]\n")
    assert ok.text is not None and [d.message for d in ok.diagnostics if d.code == "AIB602"] == [
        "location holds the placeholder <region>"]
    body = _compile_with(tmp_path, "name: web\nlocation: '<region>'\ncustomize: [{name: a, shell: ls}]\n",
                         format="body")
    assert body.text is not None and "name" not in (body.document or {})
    assert [d.message for d in body.diagnostics if d.code == "AIB602"] == ["location holds the placeholder <region>"]
    bad_name = _compile_with(tmp_path, "name: <image-name>\nlocation: westus2\ncustomize: [{name: a, shell: ls}]\n")
    assert bad_name.text is None
    assert [d.message for d in bad_name.diagnostics if d.code == "AIB602"] == [
        "name holds the placeholder <image-name>"]
    failed = _compile_with(tmp_path, "name: web\nlocation: '<region>'\nbuild: {vmSize: 12}\n"
                           "customize: [{name: a, shell: ls}]\n")
    assert failed.text is None and failed.errors
    assert len([d for d in failed.diagnostics if d.code == "AIB602"]) == 1
    clean = _compile_with(tmp_path, "name: web\nlocation: westus2\ncustomize: [{name: a, shell: 'echo 1 < 2'}]\n")
    assert clean.text is not None and not [d for d in clean.diagnostics if d.code == "AIB602"]
