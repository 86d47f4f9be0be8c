"""Pilot tests of the editor: the arranger (add, validate, move, duplicate, delete, undo), targets,
build settings, the preview's diagnostics jumping to the field, and saving without losing a byte."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from test_tui_support import HAND, wait_until
from textual.widgets import Button, Input, OptionList, Static

from aibtui.tui.app import AibApp
from aibtui.tui.screens.editor import EditorScreen


def _editor(app: AibApp) -> EditorScreen:
    screen = app.screen
    assert isinstance(screen, EditorScreen), screen
    return screen


async def _open(pilot, app: AibApp) -> EditorScreen:  # noqa: ANN001
    await wait_until(pilot, lambda: isinstance(app.screen, EditorScreen) and app.screen.result is not None,
                     what="the editor to load and compile")
    return _editor(app)


def _names(ed: EditorScreen, section: str | tuple[str, ...] = "customize") -> list[str]:
    key = "runOutputName" if section == "distribute" else "name"
    return [str(s.get(key, "")) for s in ed.doc.items(section)]


@pytest.mark.asyncio
async def test_arranger_edits_keep_every_comment_and_untouched_line(tmp_path: Path) -> None:
    path = tmp_path / "web.aib.yaml"
    path.write_text(HAND)
    app = AibApp(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        ed = await _open(pilot, app)
        assert _names(ed) == ["packages", "motd", "config"]
        steps = ed.query_one("#step-list", OptionList)
        await pilot.press("down")  # motd
        assert steps.get_option_at_index(steps.highlighted).id == "own-1"
        await pilot.press("a")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "ChooseScreen")
        await pilot.press("enter")  # Run commands
        await wait_until(pilot, lambda: type(app.screen).__name__ == "FormScreen")
        form = app.screen
        await pilot.press("ctrl+u", *"motd")  # taken: refused as you type
        assert "exists already" in str(form.query_one("#p-name", Static).render())
        assert form.query_one("#ok", Button).disabled
        await pilot.press("ctrl+s")
        assert app.screen is form
        await pilot.press("ctrl+u", *"cleanup", "ctrl+s")
        await wait_until(pilot, lambda: _names(ed) == ["packages", "motd", "cleanup", "config"])
        await pilot.press("J")  # move down, past config
        assert _names(ed) == ["packages", "motd", "config", "cleanup"]
        await pilot.press("K", "J")
        assert _names(ed) == ["packages", "motd", "config", "cleanup"]
        await pilot.press("d")
        assert _names(ed) == ["packages", "motd", "config", "cleanup", "cleanup-2"]
        await pilot.press("x")
        assert _names(ed) == ["packages", "motd", "config", "cleanup"]
        await pilot.press("u")  # the delete is undone
        assert _names(ed) == ["packages", "motd", "config", "cleanup", "cleanup-2"]
        await pilot.press("u")  # and the duplicate
        assert _names(ed) == ["packages", "motd", "config", "cleanup"]
        assert "[modified]" in str(ed.query_one("#file-bar", Static).render())
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not ed.doc.dirty, what="the save")
    after = path.read_text().splitlines()
    added = ["  - name: cleanup", "    shell: |", "      sudo apt-get update", "      sudo apt-get install -y curl"]
    at = after.index(added[0])
    assert after[at:at + len(added)] == added
    assert after[:at] + after[at + len(added):] == HAND.splitlines()  # everything else byte-identical


@pytest.mark.asyncio
async def test_targets_and_build_settings_are_edited_in_forms(tmp_path: Path) -> None:
    path = tmp_path / "web.aib.yaml"
    path.write_text(HAND)
    app = AibApp(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        ed = await _open(pilot, app)
        await pilot.press("2", "a")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "ChooseScreen")
        await pilot.press("down", "down", "enter")  # VHD
        await wait_until(pilot, lambda: type(app.screen).__name__ == "FormScreen")
        await pilot.press(*"disk", "ctrl+s")
        await wait_until(pilot, lambda: len(ed.doc.items("distribute")) == 2)
        assert ed.doc.items("distribute")[1] == {"vhd": True, "runOutputName": "disk"}
        await pilot.press("3")
        build = ed.query_one("#build-list", OptionList)
        build.highlighted = 3  # VM size
        await pilot.press("enter")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "FormScreen")
        form = app.screen
        assert app.focused is form.query_one("#f-vmSize", Input)
        await pilot.press("ctrl+u", *"big")
        assert "Standard_D2s_v3" in str(form.query_one("#p-vmSize", Static).render())
        await pilot.press("ctrl+u", *"Standard_D4s_v3", "ctrl+s")
        await wait_until(pilot, lambda: app.screen is ed)
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not ed.doc.dirty)
    text = path.read_text()
    assert "build: {vmSize: Standard_D4s_v3, timeout: 90m}" in text
    # the new target is written by the one YAML writer, as `import` and `init` write a small output
    assert text.endswith("  - {vhd: true, runOutputName: disk}\n")


@pytest.mark.asyncio
async def test_selecting_a_diagnostic_opens_the_field(tmp_path: Path) -> None:
    path = tmp_path / "web.aib.yaml"
    path.write_text(HAND.replace("to: /tmp/a.conf", "to: /etc/a.conf"))
    app = AibApp(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        ed = await _open(pilot, app)
        assert not ed.result.ok
        assert "error" in str(ed.query_one("#file-bar", Static).render())
        await pilot.press("4")
        diags = ed.query_one("#diag-list", OptionList)
        first_error = next(i for i, d in enumerate(ed.result.diagnostics) if d.severity.value == "error")
        diags.highlighted = first_error
        await pilot.press("enter")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "FormScreen", what="the step's form")
        form = app.screen
        assert app.focused is form.query_one("#f-to", Input)
        assert "/tmp" in str(form.query_one("#p-to", Static).render())
        await pilot.press("ctrl+u", *"/tmp/a.conf", "ctrl+s")
        await wait_until(pilot, lambda: ed.result is not None and ed.result.ok, what="a clean compile")
        assert '"destination": "/tmp/a.conf"' in ed.result.json


@pytest.mark.asyncio
async def test_a_file_changed_on_disk_is_never_overwritten_silently(tmp_path: Path) -> None:
    path = tmp_path / "web.aib.yaml"
    path.write_text(HAND)
    app = AibApp(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        ed = await _open(pilot, app)
        await pilot.press("x")  # an edit: delete 'packages'
        theirs = HAND.replace("location: westus2", "location: eastus")
        path.write_text(theirs)
        os.utime(path, ns=(1, 1))
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "ConfirmScreen", what="the conflict dialog")
        assert path.read_text() == theirs
        await pilot.press("escape")
        assert path.read_text() == theirs
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "ConfirmScreen")
        await pilot.click("#reload")
        await wait_until(pilot, lambda: ed.doc is not None and str(ed.doc.get("location")) == "eastus")
        assert _names(ed) == ["packages", "motd", "config"]
        # no edits: a change on disk is simply reloaded
        path.write_text(theirs.replace("eastus", "northeurope"))
        await wait_until(pilot, lambda: str(ed.doc.get("location")) == "northeurope", timeout=8, what="auto reload")
    assert "northeurope" in path.read_text()


@pytest.mark.asyncio
async def test_unreadable_file_is_reported_not_raised(tmp_path: Path) -> None:
    path = tmp_path / "web.aib.yaml"
    path.write_text("- a\n- list\n")
    app = AibApp(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, EditorScreen))
        ed = app.screen
        await wait_until(pilot, lambda: "must be a YAML mapping" in str(ed.query_one("#file-bar", Static).render()))
        await pilot.press("a", "x", "u", "ctrl+s", "b")  # nothing to act on: no crash


@pytest.mark.asyncio
async def test_inherited_steps_show_in_the_order_the_template_runs(tmp_path: Path) -> None:
    ident = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/" \
            "Microsoft.ManagedIdentity/userAssignedIdentities/aib"
    (tmp_path / "iis.aib.yaml").write_text(f"""\
extends: [windows-server-2022, windows-update-restart]
name: iis
location: westus2
identity: {ident}
customize:
  - name: iis
    before: restart-before-updates
    powershell: Install-WindowsFeature Web-Server
  - name: last
    powershell: Write-Output done
distribute:
  - vhd: true
""")
    app = AibApp(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        ed = await _open(pilot, app)
        steps = ed.query_one("#step-list", OptionList)
        rows = [steps.get_option_at_index(i) for i in range(steps.option_count)]
        assert [r.id for r in rows] == ["own-0", "inh-0", "inh-1", "inh-2", "own-1", "val-header"]
        assert [r.disabled for r in rows] == [False, True, True, True, False, True]  # inherited: not editable
        assert "from windows-update-restart" in str(rows[1].prompt)


@pytest.mark.asyncio
async def test_a_step_outside_the_recipes_is_edited_as_yaml(tmp_path: Path) -> None:
    from textual.widgets import TextArea

    path = tmp_path / "web.aib.yaml"
    path.write_text(HAND.replace("""  - name: motd          # a greeting for ops
    shell: echo hi | sudo tee /etc/motd
""", """  - name: motd          # a greeting for ops
    type: Shell
    inline: [echo hi]
"""))
    app = AibApp(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        ed = await _open(pilot, app)
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "FormScreen")
        form = app.screen
        area = form.query_one("#f-yaml", TextArea)
        assert "type: Shell" in area.text
        area.text = "name: motd\ntype: Shell\ninline: [echo hi, 'echo bye'\n"
        await wait_until(pilot, lambda: "not valid YAML" in str(form.query_one("#p-yaml", Static).render()),
                         what="the YAML error")
        assert form.query_one("#ok", Button).disabled
        area.text = "name: motd\ntype: Shell\ninline: [echo hi, echo bye]\n"
        await wait_until(pilot, lambda: not form.query_one("#ok", Button).disabled, what="the form to be valid")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.screen is ed)
        assert ed.doc.items("customize")[1] == {"name": "motd", "type": "Shell", "inline": ["echo hi", "echo bye"]}
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not ed.doc.dirty)
    text = path.read_text()
    assert "  - name: motd          # a greeting for ops\n    type: Shell\n    inline: [echo hi, echo bye]\n" in text


@pytest.mark.asyncio
async def test_validation_steps_are_arranged_like_steps(tmp_path: Path) -> None:
    path = tmp_path / "web.aib.yaml"
    path.write_text(HAND)
    app = AibApp(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        ed = await _open(pilot, app)
        await pilot.press("v")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "ChooseScreen")
        assert app.screen.query_one(OptionList).option_count == 3  # commands, script, file: no restarts here
        await pilot.press("enter")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "FormScreen")
        await pilot.press("ctrl+u", *"nginx-up", "ctrl+s")
        await wait_until(pilot, lambda: _names(ed, "validate") == ["nginx-up"])
        await pilot.press("d")  # the highlight is on the new validation step
        assert _names(ed, "validate") == ["nginx-up", "nginx-up-2"]
        assert _names(ed) == ["packages", "motd", "config"]  # the customize list is untouched
        await pilot.press("K")
        assert _names(ed, "validate") == ["nginx-up-2", "nginx-up"]
        await pilot.press("x", "x")
        assert _names(ed, "validate") == []
        await pilot.press("u")
        assert _names(ed, "validate") == ["nginx-up"]
        await wait_until(pilot, lambda: ed.result is not None and '"inVMValidations"' in (ed.result.json or ""))
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not ed.doc.dirty)
    text = path.read_text()
    assert text.startswith(HAND.split("# where it goes")[0].rstrip("\n"))
    assert "validate:\n  - name: nginx-up\n" in text


@pytest.mark.asyncio
async def test_validation_mapping_form_and_its_diagnostics(tmp_path: Path) -> None:
    path = tmp_path / "web.aib.yaml"
    path.write_text(HAND + """validate:
  continueOnFailure: false
  steps:
    - name: check
      file: {from: "https://example.com/x", to: /etc/x}
""")
    app = AibApp(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        ed = await _open(pilot, app)
        assert _names(ed, ("validate", "steps")) == ["check"]
        await pilot.press("4")
        diags = ed.query_one("#diag-list", OptionList)
        diags.highlighted = next(i for i, d in enumerate(ed.result.diagnostics) if d.severity.value == "error")
        await pilot.press("enter")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "FormScreen")
        assert app.focused is app.screen.query_one("#f-to", Input)
        await pilot.press("ctrl+u", *"/tmp/x", "ctrl+s")
        await wait_until(pilot, lambda: ed.result is not None and ed.result.ok, what="a clean compile")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not ed.doc.dirty)
    assert '      file: {from: "https://example.com/x", to: /tmp/x}\n' in path.read_text()


@pytest.mark.asyncio
async def test_a_file_deleted_under_the_editor_is_reported_once_and_can_be_saved_again(tmp_path: Path) -> None:
    path = tmp_path / "web.aib.yaml"
    path.write_text(HAND)
    app = AibApp(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        ed = await _open(pilot, app)
        path.unlink()
        await wait_until(pilot, lambda: ed.conflict, timeout=8, what="the deletion to be noticed")
        assert "cannot read" in str(ed.query_one("#file-bar", Static).render())
        await pilot.press("ctrl+s")  # the file is gone: saving asks before writing it back
        await wait_until(pilot, lambda: type(app.screen).__name__ == "ConfirmScreen")
        await pilot.click("#overwrite")
        await wait_until(pilot, lambda: path.is_file())
    assert path.read_text() == HAND


@pytest.mark.asyncio
async def test_ctrl_s_typed_right_after_text_keeps_every_character(tmp_path: Path) -> None:
    """Issue 14 (never lose work): a terminal delivers "greeting" and Ctrl+S in one burst. Ctrl+S must not
    overtake the characters still queued for the focused input (a priority binding did: the form was
    submitted with "greeti" under load, seen in a fresh-clone CI run)."""
    from textual import events

    path = tmp_path / "web.aib.yaml"
    path.write_text(HAND)
    app = AibApp(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        ed = await _open(pilot, app)
        await pilot.press("down", "enter")  # the 'motd' step's form
        await wait_until(pilot, lambda: type(app.screen).__name__ == "FormScreen", what="the step's form")
        name = app.screen.query_one("#f-name", Input)
        name.focus()
        await pilot.press("ctrl+u")
        await wait_until(pilot, lambda: name.value == "", what="the name to clear")
        for ch in "greeting":  # posted back to back, as one read from the terminal: no wait in between
            app.post_message(events.Key(ch, ch))
        app.post_message(events.Key("ctrl+s", None))
        await wait_until(pilot, lambda: isinstance(app.screen, EditorScreen) and "greeting" in _names(ed),
                         what="the step renamed")
        assert _names(ed)[1] == "greeting"
