"""Issue 13, rows 1-6: output budget, safe -o, I/O failures as located diagnostics, confined extends.

Every case runs the real CLI in a subprocess and checks: exit 1, a located `file:line:col: error:
CODE:` line, no traceback, and that nothing outside the test's own folder was touched. Device
nodes are never used: a FIFO, a socket and symlinks to /dev/null stand in (made in tmp).
"""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

HEAD = """name: x
location: westus2
identity: /subscriptions/0/resourceGroups/r/providers/Microsoft.ManagedIdentity/userAssignedIdentities/i
source: Canonical:ubuntu-24_04-lts:server
distribute: [{vhd: true}]
"""


def aib(*args: str, cwd: Path | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "aibtui", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd, errors="replace")


def clean_error(proc: subprocess.CompletedProcess[str], code: str) -> None:
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr
    assert f": error: {code}:" in proc.stderr, proc.stderr


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / "web.aib.yaml").write_text(HEAD + "customize: [{name: a, shell: [echo hi]}]\n")
    return tmp_path


# -- row 1: a doubling chain of variables ----------------------------------------------------------


def doubling_chain(levels: int, refs: int) -> str:
    lines = [HEAD, "vars:", "  v0: " + "x" * 64]
    for i in range(1, levels + 1):
        lines.append(f'  v{i}: "{{{{ v{i-1} }}}}{{{{ v{i-1} }}}}"')
    lines.append("customize:")
    for j in range(refs):
        lines.append(f'  - {{name: s{j}, shell: ["echo {{{{ v{levels} }}}}"]}}')
    return "\n".join(lines) + "\n"


def test_row1_doubling_chain_is_refused_quickly_with_low_memory(project: Path) -> None:
    src = project / "bomb.aib.yaml"
    src.write_text(doubling_chain(levels=16, refs=200))  # v16: 4 MiB, under the per-string limit
    assert src.stat().st_size < 16_000
    code = ("import resource, subprocess, sys, time; t = time.monotonic(); "
            "p = subprocess.run([sys.executable, '-m', 'aibtui', 'compile', sys.argv[1], '-o', sys.argv[2]], "
            "capture_output=True, text=True); "
            "ru = resource.getrusage(resource.RUSAGE_CHILDREN); "
            "print(p.returncode, round(time.monotonic() - t, 2), ru.ru_maxrss); sys.stderr.write(p.stderr)")
    proc = subprocess.run([sys.executable, "-c", code, str(src), str(project / "bomb.json")],
                          capture_output=True, text=True, timeout=120)
    rc, _seconds, maxrss_kb = proc.stdout.split()
    assert rc == "1", proc.stderr
    assert ": error: AIB120:" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert "using `v16`" in proc.stderr  # names the variable that crossed the budget
    assert int(maxrss_kb) < 600 * 1024, f"peak RSS {maxrss_kb} KiB"
    assert not (project / "bomb.json").exists()


def test_row1_budget_is_located_at_the_reference_that_crossed_it(project: Path) -> None:
    # Each variable is small; 200 references to a 256 KiB value cross a 1M budget in the tags.
    src = project / "many.aib.yaml"
    src.write_text(doubling_chain(levels=12, refs=200))
    proc = aib("compile", str(src), "--max-output", "1M")
    clean_error(proc, "AIB120")
    line = next(ln for ln in proc.stderr.splitlines() if "AIB120" in ln)
    assert line.startswith(f"{src}:") and "this value (using `v12`" in line, line
    lineno = int(line.split(":")[1])
    assert src.read_text().splitlines()[lineno - 1].lstrip().startswith("- {name: s")
    # The same file within a bigger budget compiles.
    assert aib("compile", str(src), "--max-output", "64M").returncode == 0


def test_row1_emitted_json_counts_too(project: Path) -> None:
    src = project / "wide.aib.yaml"
    src.write_text(HEAD + "customize:\n" + "".join(f"  - {{name: s{i}, shell: [echo {'y' * 200}]}}\n"
                                                   for i in range(100)))
    clean_error(aib("compile", str(src), "--max-output", "10K"), "AIB120")
    assert aib("compile", str(src)).returncode == 0


# -- rows 2-4: what -o may name -------------------------------------------------------------------


def test_row2_symlink_to_dev_null_is_refused_and_left_alone(project: Path) -> None:
    link = project / "null.json"
    link.symlink_to("/dev/null")
    assert stat.S_ISCHR(os.stat(link).st_mode)  # really resolves to a character device
    before = os.stat("/dev/null")
    proc = aib("compile", str(project / "web.aib.yaml"), "-o", str(link))
    clean_error(proc, "AIB121")
    assert "character device" in proc.stderr
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and (after.st_ino, after.st_rdev) == (before.st_ino, before.st_rdev)
    assert link.is_symlink() and os.readlink(link) == "/dev/null"


def test_row3_fifo_is_refused_without_blocking(project: Path) -> None:
    fifo = project / "pipe.json"
    os.mkfifo(fifo)
    start = time.monotonic()
    proc = aib("compile", str(project / "web.aib.yaml"), "-o", str(fifo), timeout=30)
    clean_error(proc, "AIB121")
    assert "FIFO" in proc.stderr and time.monotonic() - start < 30
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    # --check must not read it either (it would block forever)
    proc = aib("compile", str(project / "web.aib.yaml"), "-o", str(fifo), "--check", timeout=30)
    clean_error(proc, "AIB121")


def test_row3_socket_and_folder_are_refused(project: Path) -> None:
    sock_path = project / "s.json"
    s = socket.socket(socket.AF_UNIX)
    try:
        s.bind(str(sock_path))
        proc = aib("compile", str(project / "web.aib.yaml"), "-o", str(sock_path))
        clean_error(proc, "AIB121")
        assert "socket" in proc.stderr
    finally:
        s.close()
    (project / "out").mkdir()
    (project / "out" / "web.json").mkdir()  # folder mode: the computed output is a folder
    proc = aib("compile", str(project / "web.aib.yaml"), "-o", str(project / "out") + "/")
    clean_error(proc, "AIB121")
    assert (project / "out" / "web.json").is_dir()


def test_row3_symlink_to_a_fifo_depfile_is_refused(project: Path) -> None:
    fifo = project / "fifo"
    os.mkfifo(fifo)
    (project / "dep.d").symlink_to(fifo)
    proc = aib("compile", str(project / "web.aib.yaml"), "-o", str(project / "web.json"),
               "--depfile", str(project / "dep.d"), timeout=30)
    clean_error(proc, "AIB121")


def test_row4_output_is_an_input(project: Path) -> None:
    src = project / "web.aib.yaml"
    original = src.read_text()
    proc = aib("compile", str(src), "-o", str(src))
    clean_error(proc, "AIB121")
    assert "input" in proc.stderr and src.read_text() == original
    # an include and a profile are inputs too; a hard link to the source as well
    (project / "frag.aib.yaml").write_text("tags: {a: b}\n")
    (project / "prof.aib.yaml").write_text("tags: {c: d}\n")
    top = project / "top.aib.yaml"
    top.write_text(HEAD + "extends: ./prof.aib.yaml\ninclude: frag.aib.yaml\n")
    for victim in ("frag.aib.yaml", "prof.aib.yaml"):
        text = (project / victim).read_text()
        clean_error(aib("compile", str(top), "-o", str(project / victim)), "AIB121")
        assert (project / victim).read_text() == text
    os.link(src, project / "hard.json")
    clean_error(aib("compile", str(src), "-o", str(project / "hard.json")), "AIB121")
    assert src.read_text() == original
    # on a compile error the "stale output" clean-up must not delete the input either
    bad = project / "bad.aib.yaml"
    bad.write_text(HEAD + "tags: {a: \"{{ nope }}\"}\n")
    clean_error(aib("compile", str(bad), "-o", str(bad)), "AIB121")
    assert bad.exists()


def test_regular_file_is_replaced_atomically_and_symlinked_file_keeps_its_link(project: Path) -> None:
    real = project / "real.json"
    real.write_text("old\n")
    link = project / "link.json"
    link.symlink_to(real)
    proc = aib("compile", str(project / "web.aib.yaml"), "-o", str(link))
    assert proc.returncode == 0, proc.stderr
    assert link.is_symlink() and real.read_text().startswith("{")
    assert not [p for p in project.iterdir() if p.name.endswith(".tmp")]


# -- row 5: I/O failures ------------------------------------------------------------------------


def test_row5_parent_is_a_file(project: Path) -> None:
    (project / "afile").write_text("x")
    proc = aib("compile", str(project / "web.aib.yaml"), "-o", str(project / "afile" / "web.json"))
    clean_error(proc, "AIB122")
    assert "is a file, not a folder" in proc.stderr
    assert f"{project / 'afile' / 'web.json'}:1:1: error: AIB122" in proc.stderr


@pytest.mark.skipif(os.geteuid() == 0 and not os.path.exists("/usr/bin/chattr"),
                    reason="root ignores permissions and chattr is missing")
def test_row5_read_only_folder_or_immutable_file(project: Path) -> None:
    ro = project / "ro"
    ro.mkdir()
    target = ro / "web.json"
    if os.geteuid() != 0:
        ro.chmod(0o555)
        try:
            clean_error(aib("compile", str(project / "web.aib.yaml"), "-o", str(target)), "AIB122")
        finally:
            ro.chmod(0o755)
        return
    target.write_text("old\n")
    made = subprocess.run(["chattr", "+i", str(target)], capture_output=True)
    if made.returncode != 0:
        pytest.skip("chattr +i is not supported on this file system")
    try:
        proc = aib("compile", str(project / "web.aib.yaml"), "-o", str(target))
        clean_error(proc, "AIB122")
        assert "permission" in proc.stderr.lower() or "not permitted" in proc.stderr.lower()
    finally:
        subprocess.run(["chattr", "-i", str(target)], check=True)
    assert target.read_text() == "old\n"


def test_row5_non_utf8_set_value(project: Path) -> None:
    src = project / "v.aib.yaml"
    src.write_text(HEAD + 'vars: {x: a}\ntags: {a: "{{ x }}"}\n')
    argv = [os.fsencode(sys.executable), b"-m", b"aibtui", b"compile", os.fsencode(src), b"--set", b"x=\xff\xfe",
            b"-o", os.fsencode(project / "v.json")]
    proc = subprocess.run(argv, capture_output=True, timeout=60)
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 1 and "Traceback" not in err and "internal error" not in err, err
    assert "<--set>:1:1: error: AIB123:" in err
    assert not (project / "v.json").exists()


# -- row 6: confined extends -------------------------------------------------------------------------


SECRET = "root:$6$VERYSECRETHASH:19000:0:99999:7:::"


@pytest.mark.parametrize("how", ["absolute", "relative", "symlink", "name-symlink"])
def test_row6_extends_outside_the_project_is_refused_without_echo(project: Path, tmp_path_factory, how: str) -> None:
    outside = tmp_path_factory.mktemp("outside") / "shadow.aib.yaml"
    outside.write_text(SECRET + "\n")
    inner = project / "sub"
    inner.mkdir()
    if how == "absolute":
        ref = str(outside)
    elif how == "relative":
        ref = os.path.relpath(outside, inner)
    elif how == "symlink":
        (inner / "innocent.aib.yaml").symlink_to(outside)
        ref = "./innocent.aib.yaml"
    else:
        (inner / "base.aib.yaml").symlink_to(outside)
        ref = "base"
    src = inner / "t.aib.yaml"
    src.write_text(HEAD + f"extends: {ref}\n")
    proc = aib("compile", str(src), "--root", str(project))
    clean_error(proc, "AIB290")
    assert "VERYSECRET" not in proc.stderr and "root:" not in proc.stderr
    assert f"{src}:6:10: error: AIB290" in proc.stderr
    # An explicitly allowed folder may be read (and it is parsed as a profile then).
    allowed = aib("compile", str(src), "--root", str(project), "--allow-path", str(outside.parent))
    assert "AIB290" not in allowed.stderr


def test_row6_profile_search_path_is_allowed(project: Path, tmp_path_factory, monkeypatch) -> None:
    shared = tmp_path_factory.mktemp("shared")
    (shared / "team.aib.yaml").write_text("tags: {team: infra}\n")
    src = project / "t.aib.yaml"
    src.write_text(HEAD + "extends: team\n")
    env = dict(os.environ, AIBTUI_PROFILE_PATH=str(shared))
    proc = subprocess.run([sys.executable, "-m", "aibtui", "compile", str(src)], capture_output=True, text=True,
                          env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert '"team": "infra"' in proc.stdout


@pytest.mark.parametrize("command", ["check", "config"])
def test_row5_non_utf8_set_value_in_check_and_config(project: Path, command: str) -> None:
    src = project / "v.aib.yaml"
    src.write_text(HEAD + 'vars: {x: a}\ntags: {a: "{{ x }}"}\n')
    argv = [os.fsencode(sys.executable), b"-m", b"aibtui", command.encode(), os.fsencode(src), b"--set", b"x=\xff"]
    proc = subprocess.run(argv, capture_output=True, timeout=60)
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 1 and "Traceback" not in err and "internal error" not in err, err
    assert "<--set>:1:1: error: AIB123:" in err


def test_depfile_that_is_the_output_is_refused(project: Path) -> None:
    out = project / "web.json"
    proc = aib("compile", str(project / "web.aib.yaml"), "-o", str(out), "--depfile", str(out))
    clean_error(proc, "AIB121")
    assert "depfile" in proc.stderr and not out.exists()


def test_a_non_utf8_depfile_name_is_a_located_diagnostic(project: Path) -> None:
    depfile = os.fsencode(project) + b"/dep\xe9.d"  # Latin-1 bytes, not UTF-8
    argv = [os.fsencode(sys.executable), b"-m", b"aibtui", b"compile", os.fsencode(project / "web.aib.yaml"),
            b"-o", os.fsencode(project / "web.json"), b"--depfile", depfile]
    proc = subprocess.run(argv, capture_output=True, timeout=60)
    assert proc.returncode == 1 and b"Traceback" not in proc.stderr and b"internal error" not in proc.stderr
    assert b"<--depfile>:1:1: error: AIB123:" in proc.stderr
    assert not os.path.exists(depfile)


def test_two_inputs_with_one_output_name_are_a_usage_error(project: Path) -> None:
    (project / "a").mkdir()
    (project / "a" / "web.aib.yaml").write_text((project / "web.aib.yaml").read_text())
    proc = aib("compile", str(project / "web.aib.yaml"), str(project / "a" / "web.aib.yaml"), "-o",
               str(project / "out") + "/")
    assert proc.returncode == 2 and "would both be written to" in proc.stderr
    assert not (project / "out").exists()
