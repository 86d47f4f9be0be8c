"""Pilot tests for issue 14: never lose the user's work, tell the truth, open any file, keyboard-first.

Each test names the complaint it covers; each fails without its fix.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_tui_support import HAND, settle, wait_until
from textual.widgets import Button, Input, OptionList, SelectionList

from aibtui.tui.app import AibApp


def _name(app: AibApp) -> str:
    return type(app.screen).__name__


async def _editor(pilot, app: AibApp):  # noqa: ANN001, ANN202
    await wait_until(pilot, lambda: _name(app) == "EditorScreen" and app.screen.result is not None,
                     what="the editor to load and compile")
    return app.screen


def _app_on(tmp_path: Path, text: str = HAND) -> tuple[AibApp, Path]:
    """The app opened on a web.aib.yaml holding ``text`` (the file's path beside it)."""
    path = tmp_path / "web.aib.yaml"
    path.write_text(text)
    return AibApp(tmp_path, file=path), path


def _page(app: AibApp) -> str:
    return app.screen.page_id if _name(app) == "OnboardingScreen" else ""


# -- data loss: Ctrl+Q with unsaved edits asks -------------------------------------------------------------
@pytest.mark.asyncio
async def test_quit_with_unsaved_edits_asks_and_saves(tmp_path: Path) -> None:
    app, path = _app_on(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        ed = await _editor(pilot, app)
        await pilot.press("down", "x")  # delete motd
        assert ed.dirty
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: _name(app) == "UnsavedScreen", what="the unsaved-changes question")
        assert app.is_running
        await pilot.press("enter")  # Save is the default
        await wait_until(pilot, lambda: not app.is_running, what="the app to quit")
    text = path.read_text()
    assert "name: motd" not in text
    assert "# Hand-written by the platform team: keep these notes." in text and "# packages first, always" in text


@pytest.mark.asyncio
async def test_quit_cancel_keeps_editing_and_discard_quits(tmp_path: Path) -> None:
    app, path = _app_on(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await _editor(pilot, app)
        await pilot.press("down", "x")
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: _name(app) == "UnsavedScreen")
        await pilot.press("escape")
        await wait_until(pilot, lambda: _name(app) == "EditorScreen")
        assert app.is_running
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: _name(app) == "UnsavedScreen")
        await pilot.press("d")
        await wait_until(pilot, lambda: not app.is_running)
    assert path.read_text() == HAND


@pytest.mark.asyncio
async def test_quit_without_edits_does_not_ask(tmp_path: Path) -> None:
    app, path = _app_on(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await _editor(pilot, app)
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: not app.is_running)


# -- files: subfolders, relative paths, Open, switching asks, recent --------------------------------------
@pytest.mark.asyncio
async def test_open_finds_subfolders_shows_relative_paths_and_switching_asks(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIBTUI_STATE_DIR", str(tmp_path / "state"))
    folder = tmp_path / "proj"
    (folder / "images" / "linux").mkdir(parents=True)
    (folder / "images" / "linux" / "web.aib.yaml").write_text(HAND)
    (folder / "api.aib.yaml").write_text(HAND.replace("name: web", "name: api"))
    (folder / ".venv").mkdir()
    (folder / ".venv" / "junk.aib.yaml").write_text(HAND)
    app = AibApp(folder)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: _name(app) == "OpenScreen" and app.screen.files, what="the chooser")
        assert app.screen.files == ["api.aib.yaml", "images/linux/web.aib.yaml"]
        await pilot.press(*"linweb", "enter")
        ed = await _editor(pilot, app)
        assert ed.path == folder / "images" / "linux" / "web.aib.yaml"
        await pilot.press("x")  # an edit
        await pilot.press("ctrl+f")
        await wait_until(pilot, lambda: _name(app) == "OpenScreen" and app.screen.files)
        assert app.screen.files[0] == "images/linux/web.aib.yaml"  # recent first
        await pilot.press(*"api", "enter")
        await wait_until(pilot, lambda: _name(app) == "UnsavedScreen", what="the question before switching")
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is ed)
        await pilot.press("ctrl+f")
        await wait_until(pilot, lambda: _name(app) == "OpenScreen" and app.screen.files)
        await pilot.press(*"api", "enter")
        await wait_until(pilot, lambda: _name(app) == "UnsavedScreen")
        await pilot.press("d")
        ed2 = await _editor(pilot, app)
        assert ed2.path == folder / "api.aib.yaml"
        assert len(app.editors()) == 1
    from aibtui.tui.recent import recent_files

    assert recent_files(folder)[:2] == ["api.aib.yaml", "images/linux/web.aib.yaml"]
    assert not any(p.name == "recent.json" for p in folder.rglob("*"))  # never in the project


# -- dead ends in the onboarding ------------------------------------------------------------------------------
@pytest.mark.asyncio
async def test_onboarding_from_ctrl_o_backs_out_with_escape(tmp_path: Path) -> None:
    app, path = _app_on(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        ed = await _editor(pilot, app)
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: _page(app) == "name")
        assert not app.screen.query_one("#back", Button).disabled
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is ed, what="Esc on the first page to leave the wizard")
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: _page(app) == "name")
        await pilot.click("#back")
        await wait_until(pilot, lambda: app.screen is ed, what="Back on the first page to leave the wizard")


@pytest.mark.asyncio
async def test_enter_on_steps_list_goes_on_space_toggles(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    folder.mkdir()
    app = AibApp(folder)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: _page(app) == "name")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen.profiles)
        await pilot.press("enter", "enter", "enter")
        await wait_until(pilot, lambda: _page(app) == "steps")
        recipes = app.screen.query_one("#recipes", SelectionList)
        before = list(recipes.selected)
        await pilot.press("j", "space")
        assert len(recipes.selected) == len(before) + 1
        await pilot.press("enter")
        await wait_until(pilot, lambda: _page(app) == "outputs", what="Enter to go on")


@pytest.mark.asyncio
async def test_default_name_offered_is_free(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / "demo.aib.yaml").write_text(HAND)
    app = AibApp(folder, onboarding=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.screen.query_one("#name", Input).value, what="the wizard")
        assert app.screen.query_one("#name", Input).value == "demo-2"
        await wait_until(pilot, lambda: not app.screen.query_one("#next", Button).disabled, what="the name accepted")
        await settle(pilot)  # let the header finish mounting before the app ends


def test_file_starter_step_is_pinned_no_aib600(tmp_path: Path) -> None:
    from aibtui.compiler import compile_file
    from aibtui.onboarding.answers import Answers
    from aibtui.onboarding.recipes import RECIPE_BY_KEY, make_step
    from aibtui.onboarding.writer import write_project

    r = RECIPE_BY_KEY["file"]
    from aibtui.onboarding.answers import default_outputs

    answers = Answers(name="pin")
    answers.outputs = default_outputs(answers)
    answers.steps = [make_step(r, r.default_name, r.defaults("linux"), "linux")]
    written = write_project(tmp_path, answers)
    res = compile_file(written.path)
    assert [d.code for d in res.diagnostics if d.code == "AIB600"] == []
    assert (tmp_path / "files" / "app.conf").is_file()
    assert res.ok, [d.format_text() for d in res.diagnostics]




# -- truth: simulated runs say so -----------------------------------------------------------------------------
def test_run_mode_prefers_the_structured_field() -> None:
    from aibtui.tui.provider_adapter import run_mode

    assert run_mode({"runState": "Succeeded", "aibtuiExecution": {"mode": "simulated"}}, "azure") == "simulated"
    assert run_mode({"runState": "Succeeded", "aibtuiExecution": {"mode": "executed"}, "message": "simulated"},
                    "local") == "executed"
    assert run_mode({"runState": "Succeeded", "message": "x"}, "local", log_simulated=True) == "simulated"
    # issue 10: status is data: the message's wording is never searched
    assert run_mode({"runState": "Succeeded", "message": "simulated run finished: no step was executed"},
                    "local") == ""
    assert run_mode({"runState": "Succeeded", "message": ""}, "local") == ""  # nothing says: no claim
    assert run_mode({"runState": "Succeeded"}, "azure") == "executed"


@pytest.mark.asyncio
async def test_simulated_local_build_is_shown_as_simulated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from test_tui_support import record_toasts, service
    from textual.widgets import DataTable, RichLog, Static

    from aibtui.tui.screens.build_monitor import BuildMonitorScreen

    (tmp_path / "web.aib.yaml").write_text(HAND)
    with service(tmp_path, monkeypatch):
        app = AibApp(tmp_path)
        toasts = record_toasts(app)  # a toast leaves app._notifications when it times out
        async with app.run_test(size=(80, 24)) as pilot:
            await _editor(pilot, app)
            await pilot.press("b")
            await wait_until(pilot, lambda: isinstance(app.screen, BuildMonitorScreen))
            mon = app.screen
            await wait_until(pilot, lambda: mon.final == "Succeeded", timeout=30, what="the build to finish")
            log = "\n".join(line.text for line in mon.query_one("#run-log", RichLog).lines)
            assert "NOT executed" in log  # this machine simulates: the service's log says so
            assert mon.mode == "simulated"
            head = str(mon.query_one("#run-head", Static).render())
            assert "Succeeded (simulated)" in head and "SIMULATED" in head and "on local" in head
            assert "(simulated)" in str(mon.query_one("#timeline", Static).render())
            assert any("simulated build finished" in t for t in toasts)
            assert not any(b.action == "cancel_build" for b in mon.active_bindings.values()
                           if mon.check_action("cancel_build", ()))  # the footer no longer offers c
            await pilot.press("escape", "ctrl+t")
            await wait_until(pilot, lambda: type(app.screen).__name__ == "TemplatesScreen")
            table = app.screen.query_one(DataTable)
            await wait_until(pilot, lambda: table.row_count == 1)
            assert str(table.get_row_at(0)[3]) == "SIMULATED"


@pytest.mark.asyncio
async def test_reattach_keeps_earlier_phases_and_templates_refresh_by_themselves(tmp_path: Path) -> None:
    from test_tui_support import FakeAdapter, FakeWatcher
    from textual.widgets import DataTable, Static

    from aibtui.tui.provider_adapter import TemplateRow
    from aibtui.tui.screens.build_monitor import BuildMonitorScreen

    class Slow(FakeAdapter):
        listed = 0

        def list_templates(self) -> list[TemplateRow]:
            self.listed += 1
            return [TemplateRow(f"web-{self.listed}", "Succeeded", "Running", "Customizing", "westus2", True)]

        def watcher(self, name: str) -> FakeWatcher:
            w = self.watchers.get(name) or FakeWatcher(name)
            self.watchers[name] = w
            return w

        def poll(self, watcher: FakeWatcher):  # noqa: ANN201
            if watcher.i >= 3 and not self.go_on:
                watcher.i = 2  # Customizing until told to go on
                upd = watcher.poll()
                upd.changed, upd.log_lines = False, []
                return upd
            return watcher.poll()

    (tmp_path / "web.aib.yaml").write_text(HAND)
    app = AibApp(tmp_path)
    app._adapter = adapter = Slow()
    adapter.watchers, adapter.go_on = {}, False
    async with app.run_test(size=(80, 24)) as pilot:
        await _editor(pilot, app)
        await pilot.press("b")
        await wait_until(pilot, lambda: isinstance(app.screen, BuildMonitorScreen))
        mon = app.screen
        await wait_until(pilot, lambda: len(mon.timeline) >= 3, what="three phases")
        await pilot.press("escape")
        await wait_until(pilot, lambda: _name(app) == "EditorScreen")
        adapter.watchers["web"].i = 3
        adapter.go_on = True
        app.open_build(attach="web")
        await wait_until(pilot, lambda: isinstance(app.screen, BuildMonitorScreen) and app.screen.final is not None)
        shown = str(app.screen.query_one("#timeline", Static).render())
        assert "Queued" in shown and "Building" in shown and "Distributing" in shown and "Succeeded" in shown
        await pilot.press("escape", "ctrl+t")
        await wait_until(pilot, lambda: _name(app) == "TemplatesScreen")
        table = app.screen.query_one(DataTable)
        await wait_until(pilot, lambda: table.row_count == 1)
        first = str(table.get_row_at(0)[0])
        await wait_until(pilot, lambda: str(table.get_row_at(0)[0]) != first, timeout=8,  # noqa: B023
                         what="the list to refresh by itself")


# -- footers and Help: only keys that work, as people read them -----------------------------------------------
def _footer_keys(screen) -> list[str]:  # noqa: ANN001
    from textual.widgets import Footer

    footer = screen.query_one(Footer)
    return [str(k.render()).strip() for k in footer.query("FooterKey")]


@pytest.mark.asyncio
async def test_footer_lists_keys_that_work_here_as_people_read_them(tmp_path: Path) -> None:
    app, path = _app_on(tmp_path)
    async with app.run_test(size=(120, 30)) as pilot:
        await _editor(pilot, app)
        await wait_until(pilot, lambda: "^S Save" in _footer_keys(app.screen), what="the editor's footer")
        keys = " | ".join(_footer_keys(app.screen))
        assert "Del Delete" in keys and "^s" not in keys
        await pilot.press("4")  # Preview: nothing to add, move or delete there
        await wait_until(pilot, lambda: "Delete" not in " ".join(_footer_keys(app.screen)),
                         what="the Preview tab's footer")
        keys = " | ".join(_footer_keys(app.screen))
        assert "Add" not in keys and "^S Save" in keys
        await pilot.press("1", "a")
        await wait_until(pilot, lambda: _name(app) == "ChooseScreen"
                         and "Esc Cancel" in " ".join(_footer_keys(app.screen)), what="the chooser's footer")
        keys = " | ".join(_footer_keys(app.screen))
        assert "Add" not in keys and "Templates" not in keys


@pytest.mark.asyncio
async def test_help_is_fast_readable_and_per_screen(tmp_path: Path) -> None:
    import time

    from textual.widgets import Static

    app, path = _app_on(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await _editor(pilot, app)
        t0 = time.perf_counter()
        await pilot.press("f1")
        await wait_until(pilot, lambda: _name(app) == "HelpScreen" and app.screen.query_one("#help-keys"))
        took = time.perf_counter() - t0
        import io

        from rich.console import Console

        console = Console(width=100, record=True, file=io.StringIO())
        console.print(app.screen._keys())
        text = console.export_text()
        assert "Ctrl+S" in text and "ctrl+s" not in text and "Del / x" in text
        assert "Help · editor" in str(app.screen.query_one(".dialog-title", Static).render())
        assert took < 2.0  # generous for a loaded CI box; benchmarks/tui.py measures it properly
        await pilot.press("escape")
        await wait_until(pilot, lambda: _name(app) == "EditorScreen")


@pytest.mark.asyncio
async def test_help_is_reused_per_screen_and_follows_the_keys_that_work_now(tmp_path: Path) -> None:
    """The app keeps one Help per kind of screen (it opens again without being rebuilt), and its text
    still follows the keys that work now: Undo appears once there is something to undo."""
    from textual.widgets import Static

    app, path = _app_on(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await _editor(pilot, app)
        await pilot.press("f1")
        await wait_until(pilot, lambda: _name(app) == "HelpScreen")
        first = app.screen
        assert "Undo" not in str(first.query_one("#help-keys", Static).render())
        await pilot.press("escape")
        await wait_until(pilot, lambda: _name(app) == "EditorScreen")
        await pilot.press("x")  # delete the highlighted step: now Undo works
        await wait_until(pilot, lambda: bool(app.screen.undo_stack))
        await pilot.press("f1")
        await wait_until(pilot, lambda: _name(app) == "HelpScreen")
        assert app.screen is first
        await wait_until(pilot, lambda: "Ctrl+Z / u" in str(first.query_one("#help-keys", Static).render()),
                         what="Undo listed in the reused Help")
        await pilot.press("escape")
        await wait_until(pilot, lambda: _name(app) == "EditorScreen")


# -- diagnostics: detail, jumps, the raw YAML -----------------------------------------------------------------
@pytest.mark.asyncio
async def test_diagnostics_show_hint_rule_and_explain_first_row_highlighted(tmp_path: Path) -> None:
    from textual.widgets import Static

    app, path = _app_on(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        ed = await _editor(pilot, app)
        await pilot.press("4")
        diags = ed.query_one("#diag-list", OptionList)
        await wait_until(pilot, lambda: diags.option_count > 0)
        assert diags.highlighted == 0
        detail = str(ed.query_one("#diag-detail", Static).render())
        assert "AIB600" in detail and "hint:" in detail and "sha256" in detail
        assert "aibtui explain AIB600" in detail


@pytest.mark.asyncio
async def test_aib600_jump_opens_file_form_on_the_checksum_field(tmp_path: Path) -> None:
    app, path = _app_on(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        ed = await _editor(pilot, app)
        await pilot.press("4")
        await wait_until(pilot, lambda: ed.query_one("#diag-list", OptionList).highlighted == 0)
        await pilot.press("enter")
        await wait_until(pilot, lambda: _name(app) == "FormScreen")
        form = app.screen
        assert app.focused is form.query_one("#f-sha256")
        assert form.query("#f-local")
        await pilot.press(*("ab" * 32), "ctrl+s")
        await wait_until(pilot, lambda: _name(app) == "EditorScreen" and ed.result is not None
                         and not any(d.code == "AIB600" for d in ed.result.diagnostics), what="AIB600 fixed")
        assert ed.doc.items("customize")[2]["file"]["sha256"] == "ab" * 32


@pytest.mark.asyncio
async def test_top_level_error_is_fixed_in_the_yaml_tab(tmp_path: Path) -> None:
    from textual.widgets import TextArea

    app, path = _app_on(tmp_path, HAND.replace("name: web\n", "name: web\nbogusKey: 1\n"))
    async with app.run_test(size=(80, 24)) as pilot:
        ed = await _editor(pilot, app)
        errors = [d for d in ed.result.diagnostics if d.severity.value == "error"]
        assert errors, [d.code for d in ed.result.diagnostics]
        await pilot.press("4")
        diags = ed.query_one("#diag-list", OptionList)
        diags.highlighted = next(i for i in range(diags.option_count)
                                 if diags.get_option_at_index(i).id == f"d-{ed.result.diagnostics.index(errors[0])}")
        await pilot.press("enter")
        await wait_until(pilot, lambda: ed._active() == "yaml", what="the jump to the YAML tab")
        area = ed.query_one("#yaml-text", TextArea)
        assert area.cursor_location[0] == errors[0].span.line - 1
        assert app.focused is area
        area.action_select_line()
        area.replace("", *area.selection)  # delete the bad line
        await wait_until(pilot, lambda: ed.result is not None and ed.result.ok and ed.dirty, what="a clean compile")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not ed.dirty)
    assert "bogusKey" not in path.read_text() and "# where it goes" in path.read_text()


@pytest.mark.asyncio
async def test_unparseable_file_opens_in_the_yaml_tab_and_can_be_fixed(tmp_path: Path) -> None:
    from textual.widgets import TextArea

    app, path = _app_on(tmp_path, HAND.replace("location: westus2", "location: [westus2"))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: _name(app) == "EditorScreen" and app.screen._active() == "yaml",
                         what="the YAML tab")
        ed = app.screen
        area = ed.query_one("#yaml-text", TextArea)
        await wait_until(pilot, lambda: "[westus2" in area.text)
        assert ed.dirty
        row = next(i for i, ln in enumerate(area.text.splitlines()) if "[westus2" in ln)
        area.cursor_location = (row, len("location: "))
        await pilot.press("delete")
        await wait_until(pilot, lambda: ed.doc is not None and ed.raw_pending is None, what="the text to parse")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not ed.dirty)
    assert "location: westus2\n" in path.read_text()


# -- editing: switching to a profile, checkboxes ---------------------------------------------------------------
SOURCED = HAND.replace("extends: ubuntu-22.04-gen2   # Jammy, gen2\n", """\
# the marketplace image, Jammy gen2
source: Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2:latest   # pinned later
os: linux          # the OS family
generation: V2
""")


@pytest.mark.asyncio
async def test_switching_the_source_to_a_profile_removes_stale_lines_extends_near_the_top(tmp_path: Path) -> None:
    from test_tui_support import FakeAdapter

    app, path = _app_on(tmp_path, SOURCED)
    app._adapter = FakeAdapter([])
    async with app.run_test(size=(80, 24)) as pilot:
        ed = await _editor(pilot, app)
        await pilot.press("s")
        await wait_until(pilot, lambda: _name(app) == "SourcePickerScreen" and app.screen.profiles)
        await pilot.press(*"ubuntu-22.04-gen2", "enter")
        await wait_until(pilot, lambda: _name(app) == "EditorScreen" and ed.doc.get("extends"))
        text = ed.doc.text()
    lines = text.splitlines()
    assert lines[:2] == ["# Hand-written by the platform team: keep these notes.", "extends: ubuntu-22.04-gen2"]
    for stale in ("source:", "os:", "generation:", "marketplace image", "pinned later", "OS family"):
        assert stale not in text, stale
    assert text.split("extends: ubuntu-22.04-gen2\n", 1)[1] == HAND.split("# Jammy, gen2\n", 1)[1]


@pytest.mark.asyncio
async def test_checkbox_state_is_written_not_only_coloured(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    folder.mkdir()
    app = AibApp(folder)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.screen.query_one("#name", Input).value, what="the wizard")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen.profiles)
        await pilot.press("enter", "enter", "enter")
        await wait_until(pilot, lambda: _page(app) == "steps")
        recipes = app.screen.query_one("#recipes", SelectionList)
        from rich.text import Text

        assert all(isinstance(recipes.get_option_at_index(i).prompt, Text)  # "[x]" as a string is markup: gone
                   for i in range(recipes.option_count))
        prompts = [str(recipes.get_option_at_index(i).prompt) for i in range(recipes.option_count)]
        assert prompts[0].startswith("[x] Run commands") and prompts[1].startswith("[ ] ")
        await pilot.press("down", "space")
        assert str(recipes.get_option_at_index(1).prompt).startswith("[x] ")


# -- keyboard ---------------------------------------------------------------------------------------------------
@pytest.mark.asyncio
async def test_j_k_move_and_lists_wrap(tmp_path: Path) -> None:
    app, path = _app_on(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        ed = await _editor(pilot, app)
        steps = ed.query_one("#step-list", OptionList)
        assert steps.get_option_at_index(steps.highlighted).id == "own-0"
        await pilot.press("j")
        assert steps.get_option_at_index(steps.highlighted).id == "own-1"
        await pilot.press("k", "k")  # past the top: to the last enabled row
        assert steps.get_option_at_index(steps.highlighted).id == "own-2"
        await pilot.press("j")
        assert steps.get_option_at_index(steps.highlighted).id == "own-0"


def test_term_dumb_is_refused_with_a_clear_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    from aibtui.tui.app import run_tui

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TERM", "dumb")
    monkeypatch.setenv("AIBTUI_FORCE_TUI", "")
    assert run_tui([]) == 2
    err = capsys.readouterr().err
    assert "TERM=dumb" in err and "xterm-256color" in err and "Traceback" not in err


def test_file_argument_must_exist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    from aibtui.cli.main import main

    monkeypatch.chdir(tmp_path)
    assert main(["missing.aib.yaml"]) == 2
    assert "missing.aib.yaml: no such file or folder" in capsys.readouterr().err


@pytest.mark.asyncio
async def test_templates_offer_cancel_only_on_a_running_build(tmp_path: Path) -> None:
    from test_tui_support import FakeAdapter
    from textual.widgets import DataTable

    app, path = _app_on(tmp_path)
    app._adapter = FakeAdapter([])
    async with app.run_test(size=(80, 24)) as pilot:
        await _editor(pilot, app)
        await pilot.press("ctrl+t")
        await wait_until(pilot, lambda: _name(app) == "TemplatesScreen" and app.screen.rows)
        table = app.screen.query_one(DataTable)
        await settle(pilot)
        assert table.cursor_row == 0 and not app.screen.rows[0].running
        assert "Cancel run" not in " ".join(_footer_keys(app.screen))
        await pilot.press("j")  # the running one
        await wait_until(pilot, lambda: "c Cancel run" in " | ".join(_footer_keys(app.screen)),
                         what="Cancel run offered on the running row")
        assert table.cursor_row == 1


@pytest.mark.asyncio
async def test_new_from_the_start_up_chooser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIBTUI_STATE_DIR", str(tmp_path / "state"))
    folder = tmp_path / "proj"
    folder.mkdir()
    (folder / "a.aib.yaml").write_text(HAND)
    (folder / "b.aib.yaml").write_text(HAND.replace("name: web", "name: b"))
    app = AibApp(folder)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: _name(app) == "OpenScreen" and app.screen.files)
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: _page(app) == "name", what="Ctrl+O to start the wizard from Open")
        await settle(pilot)
    app = AibApp(folder)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: _name(app) == "OpenScreen" and app.screen.files)
        await pilot.press(*"new templ", "enter")  # the "+ New template" row
        await wait_until(pilot, lambda: _page(app) == "name", what="+ New template to start the wizard")
        await settle(pilot)
