"""The compiler commands as a user runs them: compile, check, config, profiles."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aibtui.cli.main import main

IDENT = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/"
         "Microsoft.ManagedIdentity/userAssignedIdentities/aib")
GOOD = f"""# a small, valid template
name: web
location: westus2
identity: {IDENT}
source: Canonical:ubuntu-24_04-lts:server:latest
vars: {{pkg: nginx}}
include: [frag.aib.yaml]
customize:
  - name: install
    shell: sudo apt-get install -y {{{{ pkg }}}}
  - name: app
    shell: {{script: app.sh}}
distribute:
  - vhd: true
"""
FRAG = "customize:\n  - name: first\n    shell: echo first\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()  # the project root
    (tmp_path / "web.aib.yaml").write_text(GOOD)
    (tmp_path / "frag.aib.yaml").write_text(FRAG)
    (tmp_path / "app.sh").write_text("echo app\n")
    return tmp_path


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "aibtui", *args], capture_output=True, text=True, cwd=cwd)


def test_compile_to_stdout(project, capsys):
    assert main(["compile", str(project / "web.aib.yaml")]) == 0
    out = capsys.readouterr()
    doc = json.loads(out.out)
    assert doc["type"] == "Microsoft.VirtualMachineImages/imageTemplates"
    names = [s["name"] for s in doc["properties"]["customize"]]
    assert names == ["first", "install", "app"]
    assert doc["properties"]["customize"][1]["inline"] == ["sudo apt-get install -y nginx"]
    assert "AIB407" in out.err  # the inlined local script is noted (C-05)


def test_formats(project, capsys):
    for fmt, key in (("arm", "$schema"), ("body", "properties"), ("resource", "apiVersion")):
        assert main(["compile", str(project / "web.aib.yaml"), "--format", fmt, "--no-notes"]) == 0
        doc = json.loads(capsys.readouterr().out)
        assert key in doc
    assert main(["compile", str(project / "web.aib.yaml"), "--format", "body", "--no-notes"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert set(body) == {"location", "identity", "properties"}


def test_output_file_atomic_unchanged_mtime_and_depfile(project):
    out = project / "out" / "web.json"
    dep = project / "out" / "web.json.d"
    args = ["compile", str(project / "web.aib.yaml"), "-o", str(out), "--depfile", str(dep)]
    assert main(args) == 0
    first = out.read_bytes()
    # an mtime a rewrite could not keep (no sleep), newer than every input so that make's refresh of an
    # unchanged output (issue 15, item 5) has nothing to do
    later = (int(time.time()) + 3600) * 1_000_000_000
    os.utime(out, ns=(later, later))
    mtime = out.stat().st_mtime_ns
    assert main(args) == 0
    assert out.read_bytes() == first  # deterministic
    assert out.stat().st_mtime_ns == mtime  # unchanged output keeps its mtime
    deps = dep.read_text()
    assert deps.startswith(f"{out}: ")
    for name in ("web.aib.yaml", "frag.aib.yaml", "app.sh"):
        assert str(project / name) in deps
    assert f"{project / 'frag.aib.yaml'}:\n" in deps  # phony rule for make
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no temp files left


def test_error_removes_stale_output(project, capsys):
    out = project / "web.json"
    assert main(["compile", str(project / "web.aib.yaml"), "-o", str(out)]) == 0
    (project / "web.aib.yaml").write_text(GOOD.replace("location: westus2", "location: [westus2]"))
    assert main(["compile", str(project / "web.aib.yaml"), "-o", str(out)]) == 1
    assert not out.exists()
    err = capsys.readouterr().err
    assert f"{project / 'web.aib.yaml'}:3:11: error:" in err


def test_check_mode(project, capsys):
    out = project / "web.json"
    assert main(["compile", str(project / "web.aib.yaml"), "-o", str(out), "--check"]) == 1
    assert "missing" in capsys.readouterr().err
    assert main(["compile", str(project / "web.aib.yaml"), "-o", str(out)]) == 0
    assert main(["compile", str(project / "web.aib.yaml"), "-o", str(out), "--check"]) == 0
    out.write_text("{}\n")
    assert main(["compile", str(project / "web.aib.yaml"), "-o", str(out), "--check"]) == 1
    assert out.read_text() == "{}\n"  # --check writes nothing


def test_folder_output_for_several_inputs(project):
    (project / "b.aib.yaml").write_text(GOOD.replace("name: web", "name: b"))
    assert main(["compile", str(project / "web.aib.yaml"), str(project / "b.aib.yaml"),
                 "-o", str(project / "out")]) == 0
    assert sorted(p.name for p in (project / "out").iterdir()) == ["b.json", "web.json"]


def test_set_overrides_vars(project, capsys):
    assert main(["compile", str(project / "web.aib.yaml"), "--set", "pkg=apache2", "--no-notes"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["properties"]["customize"][1]["inline"] == ["sudo apt-get install -y apache2"]


@pytest.mark.parametrize("args", [
    ["compile"],                           # no file
    ["compile", "a.aib.yaml", "b.aib.yaml"],  # several inputs, no -o
    ["compile", "x.aib.yaml", "--set", "novalue"],
    ["compile", "x.aib.yaml", "--format", "xml"],
    ["compil"],
])
def test_usage_errors_exit_2(args, project):
    proc = run(*args, cwd=project)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr


def test_missing_file_and_broken_yaml_exit_1_without_traceback(project):
    proc = run("compile", "nope.aib.yaml", cwd=project)
    assert proc.returncode == 1 and "AIB100" in proc.stderr and "Traceback" not in proc.stderr
    (project / "bad.aib.yaml").write_text("name: [unclosed\n")
    proc = run("compile", "bad.aib.yaml", "-o", "bad.json", cwd=project)
    assert proc.returncode == 1 and "bad.aib.yaml:2:1: error: AIB101" in proc.stderr
    assert not (project / "bad.json").exists()


def test_diagnostics_json_and_sarif(project, capsys):
    (project / "bad.aib.yaml").write_text(GOOD.replace("location: westus2", "locaton: westus2"))
    assert main(["compile", str(project / "bad.aib.yaml"), "--diagnostics-format", "json"]) == 1
    data = json.loads(capsys.readouterr().err)
    d = next(x for x in data["diagnostics"] if x["code"] == "AIB400")
    assert d["span"]["line"] == 3 and "location" in d["hint"]
    assert main(["compile", str(project / "bad.aib.yaml"), "--diagnostics-format", "sarif"]) == 1
    sarif = json.loads(capsys.readouterr().err)
    assert sarif["version"] == "2.1.0"
    result = next(r for r in sarif["runs"][0]["results"] if r["ruleId"] == "AIB400")
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 3


def test_warnings_as_errors(project, capsys):
    # an external script without sha256 is a warning; -W makes it fail
    (project / "w.aib.yaml").write_text(GOOD.replace("shell: {script: app.sh}",
                                                     "shell: {uri: 'https://example.com/app.sh'}"))
    assert main(["compile", str(project / "w.aib.yaml")]) == 0
    assert main(["compile", str(project / "w.aib.yaml"), "-W"]) == 1


def test_check_dialect_and_json(project, capsys):
    tpl = project / "t.json"
    tpl.write_text('{\n  // a comment\n  "type": "Microsoft.VirtualMachineImages/imageTemplates",\n'
                   '  "apiVersion": "2022-02-14",\n  "location": "westus2",\n'
                   '  "properties": {"buildTimeoutInMinutes": 1000,},\n}\n')
    assert main(["check", str(project / "web.aib.yaml"), str(tpl)]) == 1
    err = capsys.readouterr().err
    assert f"{tpl}:6:" in err and "checked 2 files" in err


def test_config_shows_provenance(project, capsys):
    assert main(["config", str(project / "web.aib.yaml")]) == 0
    out = capsys.readouterr().out
    assert 'shell: "echo first"  # ' in out and "frag.aib.yaml:3" in out
    assert "location: \"westus2\"  # " in out and "web.aib.yaml:3" in out


def test_profiles_list_and_show(capsys):
    assert main(["profiles"]) == 0
    listing = capsys.readouterr().out
    for name in ("ubuntu-22.04", "ubuntu-24.04-gen2", "rhel-9", "windows-server-2022", "windows-11-avd"):
        assert name in listing
    assert main(["profiles", "show", "ubuntu-22.04"]) == 0
    assert "Canonical" in capsys.readouterr().out
    assert main(["profiles", "show", "ubuntu-22.4"]) == 1
    assert "did you mean" in capsys.readouterr().err


def test_extends_builtin_profile(project, capsys):
    (project / "p.aib.yaml").write_text(
        f"extends: windows-server-2022\nname: w\nlocation: westus2\nidentity: {IDENT}\n"
        "customize:\n  - name: hello\n    powershell: Write-Host hi\ndistribute:\n  - vhd: true\n")
    assert main(["compile", str(project / "p.aib.yaml"), "--no-notes"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["properties"]["source"]["publisher"] == "MicrosoftWindowsServer"


def test_no_color_and_cli_entry_point(project):
    env = dict(os.environ, NO_COLOR="1")
    proc = subprocess.run([sys.executable, "-m", "aibtui", "--help"], capture_output=True, text=True, env=env)
    assert proc.returncode == 0 and "compile" in proc.stdout


def test_output_to_a_fifo_is_refused_and_never_replaced(project, capsys):
    """`-o /dev/null` (as root) must not swap the device node for a regular file: shown on a FIFO here,
    since a test must never touch the real /dev/null. A non-regular output is refused (AIB121, issue 13)."""
    import stat

    fifo = project / "out.fifo"
    os.mkfifo(fifo)
    assert main(["compile", str(project / "web.aib.yaml"), "-o", str(fifo)]) == 1
    assert "AIB121" in capsys.readouterr().err
    assert stat.S_ISFIFO(os.stat(fifo).st_mode), "the FIFO was replaced by a regular file"
    assert [p.name for p in project.iterdir() if p.name.startswith(".out.fifo")] == []  # no temp file left
