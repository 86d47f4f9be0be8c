"""Pilot tests of the source picker (fuzzy filter, levels, ids), the help screen, the command palette,
the keymap, and the editor's source row."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_tui_support import HAND, FakeAdapter, wait_until
from textual.widgets import Input, OptionList

from aibtui.tui.app import AibApp
from aibtui.tui.fuzzy import FuzzyIndex, score
from aibtui.tui.keymap import load_keymap
from aibtui.tui.provider_adapter import ImageEntry
from aibtui.tui.screens.editor import EditorScreen
from aibtui.tui.screens.source_picker import SourceChoice, SourcePickerScreen

SKUS = [ImageEntry(f"sku-{i:05d}", f"Pub:offer:sku-{i:05d}", "sku", "Linux", "V2") for i in range(10_000)]


def test_fuzzy_ranks_contiguous_and_word_starts_first() -> None:
    idx = FuzzyIndex(["0001-com-ubuntu-server-jammy", "ubuntu-24_04-lts", "WindowsServer", "xubxuxnxtxu"])
    assert idx.filter("ubuntu")[:2] == [1, 0]
    assert idx.filter("ws") == [2]
    assert idx.filter("uu") == [0, 1, 3] or set(idx.filter("uu")) == {0, 1, 3}
    assert idx.filter("zzz") == []
    assert idx.filter("") == [0, 1, 2, 3]
    assert score("ab", "xaxb") is not None and score("ba", "ab") is None


@pytest.mark.asyncio
async def test_picker_filters_ten_thousand_entries_and_picks_an_id(tmp_path: Path) -> None:
    app = AibApp(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: type(app.screen).__name__ == "OnboardingScreen")
        chosen: list[SourceChoice | None] = []
        picker = SourcePickerScreen(entries=SKUS, with_profiles=False)
        app.push_screen(picker, chosen.append)
        await wait_until(pilot, lambda: picker.shown)
        images = picker.query_one("#images", OptionList)
        assert images.option_count == 60  # drawn: the first 60; the filter narrows the rest
        await pilot.press(*"09999")
        assert [picker.entries[i].label for i in picker.shown][0] == "sku-09999"
        await pilot.press("ctrl+u")
        await pilot.press(*"/subscriptions/x")
        assert "GUID" in str(images.get_option_at_index(0).prompt)
        golden = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/" \
            "Microsoft.Compute/images/"
        picker.query_one("#filter", Input).value = golden + "golden"

        def id_row_ready() -> bool:
            first = images.get_option_at_index(0)
            return first.id == "by-id" and not first.disabled and "GUID" not in str(first.prompt)

        await wait_until(pilot, id_row_ready, what="the usable id row")
        await pilot.press("enter")
        await wait_until(pilot, lambda: chosen)
        assert chosen[0].kind == "id" and chosen[0].value.endswith("/images/golden")


@pytest.mark.asyncio
async def test_editor_source_row_uses_the_picker(tmp_path: Path) -> None:
    (tmp_path / "web.aib.yaml").write_text(HAND)
    app = AibApp(tmp_path)
    app._adapter = FakeAdapter([ImageEntry("Canonical", "Canonical", "publisher")])
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, EditorScreen) and app.screen.result is not None)
        ed = app.screen
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, SourcePickerScreen))
        picker = app.screen
        await wait_until(pilot, lambda: any(e.kind == "profile" for e in picker.entries), what="profiles")
        assert picker.entries[0].kind == "profile"  # built-in profiles first
        await pilot.press(*"24.04-gen2", "enter")
        await wait_until(pilot, lambda: app.screen is ed)
        assert str(ed.doc.get("extends")) == "ubuntu-24.04-gen2"
        await pilot.press("u")
        assert str(ed.doc.get("extends")) == "ubuntu-22.04-gen2"


@pytest.mark.asyncio
async def test_help_and_command_palette(tmp_path: Path) -> None:
    (tmp_path / "web.aib.yaml").write_text(HAND)
    app = AibApp(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, EditorScreen))
        await pilot.press("f1")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "HelpScreen")
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, EditorScreen))
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "CommandPalette")
        await pilot.press(*"preview")
        await wait_until(pilot, lambda: any("preview" in str(app.screen.query_one("CommandList").get_option_at_index(i)
                                                               .prompt).lower()
                                            for i in range(app.screen.query_one("CommandList").option_count)),
                         what="the palette to list the preview command")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, EditorScreen))
        await wait_until(pilot, lambda: app.screen.query_one("#tabs").active == "preview")


@pytest.mark.asyncio
async def test_keymap_remaps_a_binding(tmp_path: Path) -> None:
    keymap_file = tmp_path / "keymap.toml"
    keymap_file.write_text('[keymap]\n"editor.add" = "n"\n')
    keymap, warning = load_keymap(keymap_file)
    assert keymap == {"editor.add": "n"} and warning is None
    (tmp_path / "web.aib.yaml").write_text(HAND)
    app = AibApp(tmp_path, keymap=keymap)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, EditorScreen) and app.screen.doc is not None)
        await pilot.press("n")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "ChooseScreen")
    bad = tmp_path / "bad.toml"
    bad.write_text("[keymap\n")
    assert "not valid TOML" in (load_keymap(bad)[1] or "")


@pytest.mark.asyncio
async def test_no_color_is_honoured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    (tmp_path / "web.aib.yaml").write_text(HAND)
    app = AibApp(tmp_path)
    assert app.no_color
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, EditorScreen) and app.screen.result is not None)
        import re

        fills = set(re.findall(r"fill: #([0-9a-f]{6})", app.export_screenshot())) - {"c5c8c6"}  # the SVG's default
        assert fills and all(f[0:2] == f[2:4] == f[4:6] for f in fills), fills  # greys only


def test_without_a_terminal_aibtui_says_so(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from aibtui.cli.main import main

    monkeypatch.delenv("AIBTUI_FORCE_TUI", raising=False)
    assert main([]) == 2
    assert "needs a terminal" in capsys.readouterr().err
