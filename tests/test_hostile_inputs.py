"""Hostile and broken inputs: a diagnostic with file:line:col, exit 1, no traceback, no output file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HEAD = """name: x
location: westus2
identity: /subscriptions/0/resourceGroups/r/providers/Microsoft.ManagedIdentity/userAssignedIdentities/i
source: Canonical:ubuntu-24_04-lts:server
distribute: [{vhd: true}]
"""

CASES = {
    "string-steps": ('customize: "string"', "AIB401"),
    "null-step": ("customize: [null, 5]", "AIB401"),
    "extends-device": ("extends: /dev/zero", "AIB290"),  # confined before it is even looked at (issue 13)
    "include-outside-root": ("include: /etc/passwd", "AIB202"),
    "include-symlink-loop": ("include: loop1", "AIB203"),
    "jinja-dunder": ("tags: {a: \"{{ ''.__class__.__mro__ }}\"}", "AIB306"),
    "jinja-huge-string": ("tags: {a: \"{{ 'a' * 100000000 }}\"}", "AIB306"),
    "jinja-loop": ('tags: {a: "{% for i in range(10) %}x{% endfor %}"}', "AIB302"),
    "undefined-var": ('tags: {a: "{{ nope }}"}', "AIB300"),
    "negative-timeout": ("build: {timeout: -5}", "AIB503"),
    "script-outside-root": ("customize: [{name: a, shell: {script: /etc/hostname}}]", "AIB412"),
    "script-device": ("customize: [{name: a, shell: {script: /dev/zero}}]", "AIB412"),
    "preview-api": ("apiVersion: 2019-05-01-preview", "AIB410"),
    "binary-tag": ("tags: !!binary aGVsbG8=", "AIB107"),
    "python-tag": ("tags: !!python/object/apply:os.system [echo hi]", "AIB107"),
    "recursive-alias": ("vars: &a [*a]", "AIB103"),
    "duplicate-key": ("name: y", "AIB102"),
    "tab-indent": ("tags:\n\ta: b", "AIB101"),
    "unclosed-flow": ("tags: {a: [b", "AIB101"),
    "quote-it-bool": ("tags: {enabled: no}", "AIB104"),
    "sexagesimal": ("tags: {t: 1:30}", "AIB104"),
}


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    (root / ".git").mkdir()
    (root / "loop1").symlink_to(root / "loop2")
    (root / "loop2").symlink_to(root / "loop1")
    return root


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_dialect_input(project: Path, name: str) -> None:
    extra, code = CASES[name]
    src = project / f"{name}.aib.yaml"
    src.write_text(HEAD + extra + "\n")
    out = project / f"{name}.json"
    out.write_text("stale\n")
    proc = subprocess.run([sys.executable, "-m", "aibtui", "compile", str(src), "-o", str(out)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr
    assert f": error: {code}:" in proc.stderr, proc.stderr
    line = next(x for x in proc.stderr.splitlines() if f": error: {code}:" in x)
    assert line.startswith(str(src) + ":"), line  # file:line:col
    assert not out.exists()  # no stale output survives an error


@pytest.mark.parametrize("content", [
    b"\xff\xfe\x00garbage", b"{\"a\": [1, 2,", b"\x00" * 100, "\u0007 bell".encode(), b"[" * 50000,
])
def test_hostile_bytes_for_compile_and_check(tmp_path: Path, content: bytes) -> None:
    for suffix, command in ((".aib.yaml", "compile"), (".json", "check")):
        src = tmp_path / f"x{suffix}"
        src.write_bytes(content)
        proc = subprocess.run([sys.executable, "-m", "aibtui", command, str(src)],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 1, (command, proc.stderr)
        assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr
        assert f"{src}:" in proc.stderr
