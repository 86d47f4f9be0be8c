"""Pilot tests for issue 14: never lose the user's work, tell the truth, open any file, keyboard-first.

Each test names the complaint it covers; each fails without its fix.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_tui_support import HAND, wait_until
from textual.widgets import Button, Input, SelectionList

from aibtui.tui.app import AibApp


def _name(app: AibApp) -> str:
    return type(app.screen).__name__


async def _editor(pilot, app: AibApp):  # noqa: ANN001, ANN202
    await wait_until(pilot, lambda: _name(app) == "EditorScreen" and app.screen.result is not None,
                     what="the editor to load and compile")
    return app.screen


def _page(app: AibApp) -> str:
    return app.screen.page_id if _name(app) == "OnboardingScreen" else ""


# -- data loss: Ctrl+Q with unsaved edits asks -------------------------------------------------------------
@pytest.mark.asyncio
async def test_quit_with_unsaved_edits_asks_and_saves(tmp_path: Path) -> None:
    path = tmp_path / "web.aib.yaml"
    path.write_text(HAND)
    app = AibApp(tmp_path, file=path)
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
    path = tmp_path / "web.aib.yaml"
    path.write_text(HAND)
    app = AibApp(tmp_path, file=path)
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
    path = tmp_path / "web.aib.yaml"
    path.write_text(HAND)
    app = AibApp(tmp_path, file=path)
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
    path = tmp_path / "web.aib.yaml"
    path.write_text(HAND)
    app = AibApp(tmp_path, file=path)
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
        assert not app.screen.query_one("#next", Button).disabled


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


