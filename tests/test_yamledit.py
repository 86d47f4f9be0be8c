"""Round-trip editing: the user's comments and untouched lines survive; conflicts are never overwritten."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from aibtui.yamledit import ConflictError, YamlDoc, YamlEditError

REPO = Path(__file__).resolve().parents[1]

HAND = """\
# my web image -- hand written, please keep my notes
extends: ubuntu-22.04-gen2   # Jammy, gen2

name: web
location: westus2
identity: @RG@/Microsoft.ManagedIdentity/userAssignedIdentities/aib
build: {vmSize: Standard_D2s_v3, timeout: 90m}

customize:
  # packages first
  - name: packages
    shell: |
      sudo apt-get update
      sudo apt-get install -y nginx
  - name: motd          # a greeting
    shell: echo 'hi' | sudo tee /etc/motd
  - name: config
    file: {from: "https://example.com/a.conf", to: /tmp/a.conf}

# where it goes
distribute:
  - managedImage: @RG@/Microsoft.Compute/images/web
""".replace("@RG@", "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers")


@pytest.mark.parametrize("path", sorted(REPO.glob("examples/*/*.aib.yaml")) + sorted(REPO.glob("profiles/*.aib.yaml")),
                         ids=lambda p: p.name)
def test_unedited_documents_round_trip_byte_identical(path: Path) -> None:
    doc = YamlDoc.load(path)
    assert doc.exact
    assert doc.text() == path.read_text()


def test_edits_keep_comments_and_untouched_lines(tmp_path: Path) -> None:
    f = tmp_path / "web.aib.yaml"
    f.write_text(HAND)
    doc = YamlDoc.load(f)
    doc.replace("customize", 1, {"name": "motd", "shell": "echo 'hello' | sudo tee /etc/motd"})
    doc.insert("customize", 3, {"name": "cleanup", "shell": "sudo apt-get clean"})
    doc.set_in("build", "vmSize", "Standard_D4s_v3")
    assert doc.save()
    after = f.read_text()
    changed = {"    shell: echo 'hi' | sudo tee /etc/motd", "build: {vmSize: Standard_D2s_v3, timeout: 90m}"}
    for line in HAND.splitlines():
        if line not in changed:
            assert line in after.splitlines(), line
    assert "  - name: motd          # a greeting" in after
    assert "build: {vmSize: Standard_D4s_v3, timeout: 90m}" in after
    # the comment introducing `distribute` still sits right above it, after the new last step
    lines = after.splitlines()
    assert lines[lines.index("# where it goes") + 1] == "distribute:"
    # the added step is written by the project's one YAML writer (as `import` and `init` would write
    # it: a short step on one line), then the blank line that was there before `# where it goes`
    assert lines[lines.index("# where it goes") - 2] == "  - {name: cleanup, shell: sudo apt-get clean}"


def test_move_and_remove_then_undo_restores_the_bytes(tmp_path: Path) -> None:
    f = tmp_path / "web.aib.yaml"
    f.write_text(HAND)
    doc = YamlDoc.load(f)
    doc.move("customize", 2, 0)
    assert [s["name"] for s in doc.items("customize")] == ["config", "packages", "motd"]
    assert doc.text().splitlines()[-3] == "# where it goes"
    doc.move("customize", 0, 2)
    assert doc.text() == HAND
    node = doc.remove("customize", 1)
    assert "motd" not in doc.text()
    doc.insert("customize", 1, node)
    assert doc.text() == HAND
    assert not doc.dirty


def test_save_refuses_to_overwrite_a_file_changed_on_disk(tmp_path: Path) -> None:
    f = tmp_path / "web.aib.yaml"
    f.write_text(HAND)
    doc = YamlDoc.load(f)
    doc.set("location", "eastus")
    f.write_text(HAND.replace("westus2", "northeurope"))
    os.utime(f, ns=(1, 1))
    assert doc.disk_changed()
    with pytest.raises(ConflictError):
        doc.save()
    assert "northeurope" in f.read_text()
    assert doc.save(force=True)
    assert "location: eastus" in f.read_text()
    assert not doc.disk_changed()


def test_touch_without_change_is_not_a_conflict(tmp_path: Path) -> None:
    f = tmp_path / "web.aib.yaml"
    f.write_text(HAND)
    doc = YamlDoc.load(f)
    os.utime(f, ns=(10**18, 10**18))
    assert not doc.disk_changed()


def test_unchanged_save_keeps_mtime(tmp_path: Path) -> None:
    f = tmp_path / "web.aib.yaml"
    f.write_text(HAND)
    os.utime(f, ns=(10**9, 10**9))
    doc = YamlDoc.load(f)
    assert doc.save() is False
    assert f.stat().st_mtime_ns == 10**9


@pytest.mark.parametrize("text", ["a: [1, 2", "- just\n- a list\n", "\tkey: 1\n"])
def test_bad_files_raise_a_readable_error(tmp_path: Path, text: str) -> None:
    f = tmp_path / "bad.aib.yaml"
    f.write_text(text)
    with pytest.raises(YamlEditError):
        YamlDoc.load(f)
