"""Pilot tests of the onboarding wizard: the happy path, validation as you type, the marketplace."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_tui_support import service, wait_until
from textual.widgets import Button, Input, OptionList, SelectionList, Static

from aibtui.compiler import compile_file
from aibtui.tui.app import AibApp


def _page(app: AibApp) -> str:
    """The wizard's page, once the wizard is composed (page_id is set before its widgets mount)."""
    if not app.screen.query("#next"):
        return ""
    return getattr(app.screen, "page_id", "")


@pytest.mark.asyncio
async def test_onboarding_writes_a_compiling_commented_file(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    folder.mkdir()
    app = AibApp(folder)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: _page(app) == "name" and bool(app.screen.query("#name")), what="the wizard")
        assert app.screen.query_one("#name", Input).value == "demo"
        await pilot.press("ctrl+u", *"web", "enter")
        await wait_until(pilot, lambda: _page(app) == "base")
        await wait_until(pilot, lambda: app.screen.query_one("#bases", OptionList).option_count > 3)
        await pilot.press("enter")
        await wait_until(pilot, lambda: _page(app) == "location")
        await pilot.press("enter")
        await wait_until(pilot, lambda: _page(app) == "identity")
        commands = str(app.screen.query_one("#az-commands", Static).render())
        assert "az identity create -g rg-images -n id-aib" in commands
        await pilot.press("enter")
        await wait_until(pilot, lambda: _page(app) == "steps")
        recipes = app.screen.query_one("#recipes", SelectionList)
        assert recipes.selected == ["commands"]
        await pilot.press("down", "space")  # also: run a local script
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: _page(app) == "outputs")
        await pilot.press("down", "down", "space")  # also a VHD
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: _page(app) == "review")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: _page(app) == "done")
        assert "it compiles" in str(app.screen.query_one("#done-text", Static).render())
    path = folder / "web.aib.yaml"
    text = path.read_text()
    assert text.startswith("# web.aib.yaml: an Azure Image Builder template")
    assert "extends: ubuntu-22.04-gen2" in text and "vhd: true" in text
    assert (folder / "scripts" / "setup.sh").is_file()
    assert compile_file(path).ok


@pytest.mark.asyncio
async def test_onboarding_validates_as_you_type(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / "taken.aib.yaml").write_text("name: taken\n")
    app = AibApp(folder, onboarding=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: _page(app) == "name" and app.screen.existing, what="the folder scan")
        await pilot.press("ctrl+u", *"bad name")
        problem = app.screen.query_one("#name-problem", Static)
        assert "letters, digits" in str(problem.render())
        assert app.screen.query_one("#next", Button).disabled
        await pilot.press("enter")  # refused: still on the first page
        assert _page(app) == "name"
        await pilot.press("ctrl+u", *"taken")
        assert "exists here" in str(problem.render())
        await pilot.press("ctrl+u", *"ok", "enter")
        await wait_until(pilot, lambda: _page(app) == "base")
        await wait_until(pilot, lambda: app.screen.query_one("#bases", OptionList).option_count > 3)
        await pilot.press("enter")
        await wait_until(pilot, lambda: _page(app) == "location")
        await pilot.press("ctrl+u", *"West US 2")
        assert "lower-case" in str(app.screen.query_one("#location-problem", Static).render())
        await pilot.press("ctrl+u", *"eastus", "enter")
        await wait_until(pilot, lambda: _page(app) == "identity")
        await pilot.press("ctrl+u", *"/subscriptions/not-a-guid/x")
        assert "GUID" in str(app.screen.query_one("#identity-problem", Static).render())
        await pilot.press("escape")  # back a page keeps the answer
        await wait_until(pilot, lambda: _page(app) == "location")
        assert app.screen.query_one("#location", Input).value == "eastus"


@pytest.mark.asyncio
async def test_onboarding_marketplace_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "demo"
    folder.mkdir()
    with service(tmp_path, monkeypatch):
        app = AibApp(folder)
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_until(pilot, lambda: _page(app) == "name")
            await pilot.press("enter")
            await wait_until(pilot, lambda: app.screen.query_one("#bases", OptionList).option_count > 3)
            bases = app.screen.query_one("#bases", OptionList)
            bases.highlighted = bases.option_count - 1  # "Browse the marketplace ..."
            await pilot.press("enter")
            await wait_until(pilot, lambda: type(app.screen).__name__ == "SourcePickerScreen")
            picker = app.screen
            await wait_until(pilot, lambda: any(e.value == "Canonical" for e in picker.entries), what="publishers")
            await pilot.press(*"canonical", "enter")
            await wait_until(pilot, lambda: picker.parts == ("Canonical",), what="offers")
            await pilot.press(*"24_04", "enter")
            await wait_until(pilot, lambda: len(picker.parts) == 2, what="skus")
            await pilot.press(*"server", "enter")
            await wait_until(pilot, lambda: len(picker.parts) == 3, what="versions")
            await pilot.press("enter")  # latest
            await wait_until(pilot, lambda: _page(app) == "location")
            assert app.screen.answers.source == "Canonical:ubuntu-24_04-lts:server:latest"
            assert app.screen.answers.profile is None and app.screen.answers.os == "linux"


@pytest.mark.asyncio
async def test_windows_profile_offers_windows_recipes(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    folder.mkdir()
    app = AibApp(folder)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: _page(app) == "name")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen.query_one("#bases", OptionList).option_count > 3)
        bases = app.screen.query_one("#bases", OptionList)
        bases.highlighted = next(i for i, e in enumerate(app.screen.profiles) if e.value == "windows-server-2022")
        await pilot.press("enter", "enter", "enter")
        await wait_until(pilot, lambda: _page(app) == "steps")
        recipes = app.screen.query_one("#recipes", SelectionList)
        assert [recipes.get_option_at_index(i).value for i in range(recipes.option_count)] == [
            "commands", "script", "file", "windowsRestart", "windowsUpdate"]
        await pilot.press("down", "down", "down", "space", "down", "space", "ctrl+n")
        await wait_until(pilot, lambda: _page(app) == "outputs")
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: _page(app) == "review")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: _page(app) == "done")
    text = (folder / "demo.aib.yaml").read_text()
    assert "extends: [windows-server-2022, windows-defaults]" in text
    assert "powershell: New-Item" in text and text.index("windowsRestart:") < text.index("windowsUpdate:")
    from aibtui.compiler import compile_file

    res = compile_file(folder / "demo.aib.yaml")
    assert res.ok and not any(d.code == "AIB067" for d in res.diagnostics)  # a restart right before the updates
