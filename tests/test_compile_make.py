"""make can trust `aibtui compile` (issue 15 item 5): after a fragment is touched without a
change, one `make` recompiles and the next is a no-op; `--batch` writes one depfile per output
(gcc's -MMD habit) that make includes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HEAD = """name: {name}
location: westus2
identity: /subscriptions/0/resourceGroups/r/providers/Microsoft.ManagedIdentity/userAssignedIdentities/i
source: Canonical:ubuntu-24_04-lts:server
distribute: [{{vhd: true}}]
include: shared.aib.yaml
"""

MAKEFILE = """\
AIBTUI := {aibtui}
SRCS := $(wildcard *.aib.yaml)
TPLS := $(filter-out shared.aib.yaml,$(SRCS))
OUTS := $(patsubst %.aib.yaml,out/%.json,$(TPLS))

all: $(OUTS)

out/%.json: %.aib.yaml
\t$(AIBTUI) compile $< -o $@ --batch

-include $(wildcard out/*.d)
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    if shutil.which("make") is None:
        pytest.skip("needs make")
    (tmp_path / ".git").mkdir()
    (tmp_path / "shared.aib.yaml").write_text("tags: {team: infra}\n")
    for name in ("web", "db"):
        (tmp_path / f"{name}.aib.yaml").write_text(HEAD.format(name=name))
    aibtui = f"{sys.executable} -m aibtui"
    (tmp_path / "Makefile").write_text(MAKEFILE.format(aibtui=aibtui))
    return tmp_path


def make(cwd: Path) -> list[str]:
    """Run make; the compile commands it ran."""
    proc = subprocess.run(["make", "--no-print-directory"], cwd=cwd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return [ln for ln in proc.stdout.splitlines() if " compile " in ln]


def bump(path: Path, seconds: int = 5) -> None:
    """Make ``path`` newer than everything else (no sleeping: set its mtime ahead)."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + seconds * 10**9))


def test_touched_fragment_without_change_reaches_a_no_op(project: Path) -> None:
    assert len(make(project)) == 2
    assert make(project) == []
    # The shared fragment is touched but not changed: both outputs recompile once...
    bump(project / "shared.aib.yaml")
    before = (project / "out" / "web.json").read_bytes()
    assert len(make(project)) == 2
    assert (project / "out" / "web.json").read_bytes() == before
    # ...and then make has nothing to do (before the fix, every later make recompiled).
    assert make(project) == []


def test_batch_writes_one_depfile_per_output(project: Path) -> None:
    make(project)
    web_d = (project / "out" / "web.d").read_text()
    db_d = (project / "out" / "db.d").read_text()
    assert web_d.startswith("out/web.json: ") and "web.aib.yaml" in web_d and "shared.aib.yaml" in web_d
    assert db_d.startswith("out/db.json: ") and "db.aib.yaml" in db_d and "web.aib.yaml" not in db_d
    # A change in the shared fragment rebuilds both through the depfiles; a change in web only web.
    (project / "shared.aib.yaml").write_text("tags: {team: platform}\n")
    bump(project / "shared.aib.yaml")
    assert len(make(project)) == 2
    assert '"team": "platform"' in (project / "out" / "db.json").read_text()
    (project / "web.aib.yaml").write_text(HEAD.format(name="web2"))
    bump(project / "web.aib.yaml", 10)
    ran = make(project)
    assert len(ran) == 1 and "web.aib.yaml" in ran[0]


def test_batch_with_several_inputs_into_a_folder(project: Path) -> None:
    out = project / "o"
    proc = subprocess.run([sys.executable, "-m", "aibtui", "compile", "web.aib.yaml", "db.aib.yaml", "-o", "o/",
                           "--batch"], cwd=project, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["db.d", "db.json", "web.d", "web.json"]
    # A failing input removes its own output and depfile only.
    (project / "db.aib.yaml").write_text(HEAD.format(name="db") + 'tags: {a: "{{ nope }}"}\n')
    proc = subprocess.run([sys.executable, "-m", "aibtui", "compile", "web.aib.yaml", "db.aib.yaml", "-o", "o/",
                           "--batch"], cwd=project, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert sorted(p.name for p in out.iterdir()) == ["web.d", "web.json"]
