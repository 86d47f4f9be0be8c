"""One YAML writer (issue 15, item 2): import, init/onboarding and the TUI editor write the same text.

`aibtui.compiler.yamlwriter` is the only code that turns data into ``*.aib.yaml`` text: the importer
calls ``dump``, the onboarding's ``render_yaml`` builds its commented file with it, and the TUI's
round-trip editor renders every value it adds through it. These tests fail if any of the three
grows its own quoting or layout again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from aibtui.compiler import compile_file
from aibtui.compiler.importer import import_text
from aibtui.compiler.yamlwriter import Described, dump, text_block
from aibtui.onboarding.answers import Answers, Output, default_outputs, gallery_image_id
from aibtui.onboarding.recipes import make_step, recipes_for
from aibtui.onboarding.yamltext import render_yaml
from aibtui.yamledit import YamlDoc


def _answers(os_family: str, profile: str) -> Answers:
    a = Answers(name="web", profile=profile, os=os_family, vm_size="Standard_D2s_v3", timeout="90m")
    a.steps = [make_step(r, r.default_name, r.defaults(os_family), os_family) for r in recipes_for(os_family)]
    a.steps.append({"name": "multi", "shell": "echo one\necho 'two: 2'\n"} if os_family == "linux"
                   else {"name": "multi", "powershell": "Write-Host one\nWrite-Host 'two'\n"})
    a.outputs = default_outputs(a) + [Output("vhd"), Output("gallery", gallery_image_id(a), ["westus2", "eastus"])]
    return a


def _content(text: str) -> list[str]:
    """The lines that carry data: comment lines and blank lines dropped."""
    return [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]


@pytest.mark.parametrize("os_family,profile", [("linux", "ubuntu-22.04-gen2"), ("windows", "windows-server-2022")])
def test_wizard_tui_and_writer_write_the_same_text(tmp_path: Path, os_family: str, profile: str) -> None:
    wizard = render_yaml(_answers(os_family, profile))
    data: dict[str, Any] = yaml.safe_load(wizard)
    assert any(line.endswith(("shell: |", "powershell: |")) for line in wizard.splitlines())  # the script

    # the writer itself, as `aibtui import` calls it
    assert _content(wizard) == _content(dump(data))

    # the TUI editor building the same file key by key and step by step in an empty document
    doc = YamlDoc.from_text(tmp_path / "web.aib.yaml", "")
    for key, value in data.items():
        if key in ("customize", "distribute"):  # the editor adds steps and outputs one at a time
            for i, item in enumerate(value):
                doc.insert(key, i, item)
        else:
            doc.set(key, value)
    assert _content(doc.text()) == _content(wizard)

    (tmp_path / "web.aib.yaml").write_text(wizard)
    (tmp_path / "scripts").mkdir()
    for name in ("setup.sh", "setup.ps1"):
        (tmp_path / "scripts" / name).write_text("echo hi\n")
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "app.conf").write_text("x=1\n")
    res = compile_file(tmp_path / "web.aib.yaml")
    assert res.ok, [d.format_text() for d in res.errors]


def test_an_imported_step_and_a_tui_step_look_alike(tmp_path: Path) -> None:
    """The same customizer imported from JSON and added in the TUI gives the same lines."""
    template = {
        "type": "Microsoft.VirtualMachineImages/imageTemplates", "apiVersion": "2024-02-01",
        "name": "web", "location": "westus2",
        "identity": {"type": "UserAssigned", "userAssignedIdentities": {
            "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/"
            "Microsoft.ManagedIdentity/userAssignedIdentities/aib": {}}},
        "properties": {
            "source": {"type": "PlatformImage", "publisher": "Canonical", "offer": "0001-com-ubuntu-server-jammy",
                       "sku": "22_04-lts-gen2", "version": "latest"},
            "customize": [{"type": "Shell", "name": "setup", "inline": ["apt-get update", "apt-get install -y nginx"]}],
            "distribute": [{"type": "VHD", "runOutputName": "vhd"}],
        },
    }
    import json

    imported = import_text(json.dumps(template), "web.json")
    assert imported.ok, imported.diagnostics
    text = imported.templates[0].text
    assert text is not None
    lines = _content(text)
    start = lines.index("customize:") + 1
    end = next(i for i in range(start, len(lines)) if not lines[i].startswith("  "))
    step = yaml.safe_load(text)["customize"][0]

    doc = YamlDoc.from_text(tmp_path / "t.aib.yaml", "")
    doc.insert("customize", 0, step)
    assert _content(doc.text()) == ["customize:", *lines[start:end]]


def test_comment_lines_sit_above_their_key_and_item() -> None:
    text = dump({
        "name": Described("web", ("the name",), blank=True),
        "distribute": Described([Described({"vhd": True}, ("a VHD",))], ("outputs",), blank=True),
    }, ["header"])
    assert text == "# header\n\n# the name\nname: web\n\n# outputs\ndistribute:\n  # a VHD\n  - vhd: true\n"
    assert yaml.safe_load(text) == {"name": "web", "distribute": [{"vhd": True}]}


@pytest.mark.parametrize("value", [
    "line one\nline two\n", "no trailing newline\nsecond", "  indented first\nx\n", "trailing space \nx\n",
    "two newlines\n\n", "tab\there\nx\n", "a\n\nb\n", "yes\nno\n", "# not a comment\n- not a list\n",
    "'quoted'\n\"double\"\n", "é ü\n中文\n", "x\r\ny\n", "\nleading newline\n",
])
def test_multiline_strings_read_back_exactly(value: str) -> None:
    text = dump({"k": value, "items": [value]})
    assert yaml.safe_load(text) == {"k": value, "items": [value]}, text


def test_literal_blocks_only_where_they_read_back() -> None:
    assert text_block("a\nb\n") == ("|", ("a", "b"))
    assert text_block("a\nb") == ("|-", ("a", "b"))
    assert text_block("  a\nb\n") is None  # a block cannot start indented without an indicator
    assert text_block("a \nb\n") is None  # trailing spaces would be read back, but editors strip them
    assert text_block("one line\n") is None
