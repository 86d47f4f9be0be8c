"""Seed rules for steps: C-01 names, C-04 URIs, C-05 secrets, SH-01..SH-04 Shell, PS-01 PowerShell."""

from __future__ import annotations

from rules_support import at, where
from rules_support import run_rules_on as run

SHA = "a" * 64








def block(*lines: str) -> str:
    return "properties:\n  customize:\n" + "".join(f"    {line}\n" for line in lines)


def steps(*lines: str, validate: bool = False) -> str:
    head = "properties:\n  validate:\n    inVMValidations:\n" if validate else "properties:\n  customize:\n"
    pad = "      " if validate else "    "
    return head + "".join(f"{pad}- {line}\n" for line in lines)


def test_C01_duplicate_step_names() -> None:
    text = steps("{name: a, type: Shell, inline: [ls]}", "{name: a, type: Shell, inline: [ls]}")
    assert at(run(text), "AIB050") == [where(text, "a,", 2)] == ["4:14"]


def test_C01_duplicate_names_are_per_list() -> None:
    text = (
        steps("{name: a, type: Shell, inline: [ls]}") + "  validate:\n    inVMValidations:\n"
        "      - {name: a, type: Shell, inline: [ls]}\n"
    )
    assert not at(run(text), "AIB050")
    dup = steps("{name: v, type: Shell, inline: [ls]}", "{name: v, type: Shell, inline: [ls]}", validate=True)
    assert at(run(dup), "AIB050") == [where(dup, "v,", 2)]


def test_C01_missing_step_name() -> None:
    diags = run(steps("{type: Shell, inline: [ls]}", "{name: '', type: Shell, inline: [ls]}"))
    assert at(diags, "AIB051") == ["3:7", "4:14"]


def test_C01_named_steps_pass() -> None:
    diags = run(steps("{name: a, type: Shell, inline: [ls]}", "{name: b, type: Shell, inline: [ls]}"))
    assert not at(diags, "AIB050") and not at(diags, "AIB051")


def test_C04_script_uri_must_be_http_or_https() -> None:
    text = steps(
        "{name: a, type: Shell, scriptUri: scripts/setup.sh}",
        "{name: b, type: PowerShell, scriptUri: 'C:\\tmp\\x.ps1'}",
        "{name: c, type: File, sourceUri: 's3://bucket/x', destination: /tmp/x}",
    )
    diags = run(text, os="linux")
    assert at(diags, "AIB052") == [where(text, "scripts/"), where(text, "'C:"), where(text, "'s3:")]
    assert "relative path" in next(d.message for d in diags if d.code == "AIB052")


def test_C04_https_and_expression_uris_pass() -> None:
    diags = run(
        steps(
            f"{{name: a, type: Shell, scriptUri: 'https://x.blob.core.windows.net/s/a.sh', "
            f"sha256Checksum: {SHA}}}",
            "{name: b, type: Shell, scriptUri: \"[parameters('uri')]\"}",
        )
    )
    assert not at(diags, "AIB052")


def test_C05_secret_in_inline_command() -> None:
    text = block(
        "- name: db",
        "  type: Shell",
        "  inline:",
        "    - sudo apt-get install -y mysql-client",
        "    - mysql -u root -pS3cretPass -e 'select 1'",
    )
    diags = run(text)
    assert at(diags, "AIB053") == [where(text, "mysql -u")] == ["7:11"]
    (d,) = [d for d in diags if d.code == "AIB053"]
    assert "S3cretPass" not in d.message and "S3" in d.message  # redacted, but names the value


def test_C05_secret_in_restart_command() -> None:
    text = steps("{name: r, type: WindowsRestart, restartCommand: 'net user admin P4ssw0rd! /add'}")
    assert at(run(text), "AIB053") == [where(text, "'net user")]


def test_C05_variable_references_are_not_secrets() -> None:
    diags = run(
        steps(
            "{name: a, type: Shell, inline: ['export DB_PASSWORD=$DB_PASSWORD', "
            "'docker login -u me -p \"$TOKEN\" acr.io', 'mkdir -p /tmp/x', 'docker run -p 80:80 x', "
            "'export SECRET_NAME=db-password', 'docker login --password-stdin acr.io']}"
        )
    )
    assert not at(diags, "AIB053")
    ps = steps(
        "{name: p, type: PowerShell, inline: ['$pw = ConvertTo-SecureString $env:PW -AsPlainText -Force']}"
    )
    assert not at(run(ps), "AIB053")


def test_C05_kinds_of_secrets() -> None:
    """C-05: each kind of secret is found, and the message shows only a masked excerpt."""
    lines = [
        "export DB_PASSWORD=hunter22",
        "curl -H 'Authorization: Bearer abcdefghijklmnopqrstuv' https://x",
        "openssl pkcs12 -export -passout pass:hunter2 -in a.pem",
        "git clone https://ghp_abcdefghijklmnopqrstuvwxyz0123456789@github.com/o/r",
        "az storage blob list --connection-string 'AccountName=a;AccountKey=abcdefghijklmnop=='",
        "wget 'https://a.blob.core.windows.net/c/x?sv=2020&sig=abcdefghijklmnopqrstuv%3D'",
        "echo 'root:toor' | sudo chpasswd",
        "az storage blob download --account-name sa --account-key " + "Zm9v" * 21 + "ab==",
    ]
    text = "properties:\n  customize:\n    - name: s\n      type: Shell\n      inline:\n" + "".join(
        f"        - {line!r}\n".replace("\\'", "''") for line in lines
    )
    diags = [d for d in run(text) if d.code == "AIB053"]
    assert [f"{d.span.line}:{d.span.col}" for d in diags if d.span] == [
        f"{6 + i}:11" for i in range(len(lines))
    ]
    assert not any(secret in d.message for d in diags for secret in ("hunter22", "hunter2", "toor"))


def test_SH01_both_script_uri_and_inline() -> None:
    text = steps(
        f"{{name: a, type: Shell, scriptUri: 'https://x/a.sh', sha256Checksum: {SHA}, inline: [ls]}}"
    )
    assert at(run(text), "AIB054") == [where(text, "inline")]


def test_SH01_neither_script_uri_nor_inline() -> None:
    assert at(run(steps("{name: a, type: PowerShell}")), "AIB054") == ["3:7"]
    text = steps("{name: a, type: Shell, inline: []}")
    assert at(run(text), "AIB054") == [where(text, "[]")]


def test_SH01_exactly_one_passes() -> None:
    diags = run(
        steps("{name: a, type: Shell, inline: [ls]}", "{name: b, type: PowerShell, scriptUri: 'https://x/a'}")
    )
    assert not at(diags, "AIB054")


def test_SH02_checksum_must_be_64_hex() -> None:
    text = steps("{name: a, type: Shell, scriptUri: 'https://x/a.sh', sha256Checksum: 'sha256:abc'}")
    diags = run(text)
    assert at(diags, "AIB055") == [where(text, "'sha256:")]
    assert "prefix" in (next(d for d in diags if d.code == "AIB055").hint or "")


def test_SH02_checksum_on_inline_step_warns() -> None:
    text = steps(f"{{name: a, type: Shell, inline: [ls], sha256Checksum: {SHA}}}")
    assert at(run(text), "AIB056") == [where(text, SHA)]


def test_SH02_valid_checksum_passes() -> None:
    diags = run(
        steps(f"{{name: a, type: Shell, scriptUri: 'https://x/a.sh', sha256Checksum: {SHA.upper()}}}")
    )
    assert not at(diags, "AIB055") and not at(diags, "AIB056")


def test_SH03_root_commands_without_sudo() -> None:
    text = block(
        "- name: setup",
        "  type: Shell",
        "  inline:",
        "    - apt-get update",
        "    - echo 'x' | tee /etc/motd",
        "    - systemctl enable nginx",
        "    - echo hi > /etc/issue",
        "    - mkdir -p /tmp/work",
    )
    diags = run(text, os="linux")
    assert at(diags, "AIB057") == ["6:11", "7:11", "8:11", "9:11"]
    assert next(d for d in diags if d.code == "AIB057").hint == "write: sudo apt-get update"
    redirect_hint = [d.hint for d in diags if d.code == "AIB057"][3] or ""
    assert "sudo tee /etc/issue" in redirect_hint


def test_SH03_sudo_and_harmless_commands_pass() -> None:
    text = block(
        "- name: setup",
        "  type: Shell",
        "  inline:",
        "    - sudo apt-get update",
        "    - echo 'x' | sudo tee /etc/motd",
        "    - DEBIAN_FRONTEND=noninteractive sudo -E apt-get install -y nginx",
        "    - if command -v dnf >/dev/null; then sudo dnf -y upgrade; fi",
        "    - systemctl status nginx",
        "    - cp app.conf /tmp/app.conf",
        "    - curl -fsSL https://x/y -o /tmp/y",
        "    - cat <<EOF > /tmp/notes",
        "    - apt-get is only text in a heredoc",
        "    - EOF",
    )
    assert not at(run(text, os="linux"), "AIB057")


def test_SH04_shell_step_on_windows() -> None:
    text = steps("{name: a, type: Shell, inline: [ls]}")
    assert at(run(text, os="windows"), "AIB058") == [where(text, "Shell")]


def test_SH04_shell_step_on_linux_passes() -> None:
    assert not at(run(steps("{name: a, type: Shell, inline: [ls]}"), os="linux"), "AIB058")


def test_PS01_run_as_system_requires_run_elevated() -> None:
    text = steps("{name: a, type: PowerShell, inline: [dir], runAsSystem: true}")
    assert at(run(text, os="windows"), "AIB063") == [where(text, "true")]


def test_PS01_valid_exit_codes_without_zero_and_out_of_range() -> None:
    text = steps("{name: a, type: PowerShell, inline: [dir], validExitCodes: [3010, 99999999999]}")
    diags = run(text)
    assert at(diags, "AIB062") == [where(text, "[3010")]
    assert at(diags, "AIB064") == [where(text, "9999")]


def test_PS01_valid_options_pass() -> None:
    diags = run(
        steps(
            "{name: a, type: PowerShell, inline: [dir], runElevated: true, runAsSystem: true, "
            "validExitCodes: [0, 3010]}"
        )
    )
    assert not at(diags, "AIB062") and not at(diags, "AIB063") and not at(diags, "AIB064")
