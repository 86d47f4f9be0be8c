"""SVG snapshots for issue 14 at 80x24 and 120x40: the unsaved-changes question, Open, the YAML tab,
the diagnostics detail, a simulated build in the monitor, Help per screen.

Regenerate after an intended change with `pytest tests/test_tui_issue14_snapshots.py --snapshot-update`
and review the SVGs in tests/__snapshots__/. Providers are faked, so the pictures are stable.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_tui_support import HAND, FakeAdapter, FakeWatcher, settle, wait_until

from aibtui.tui.app import AibApp


class SimulatedAdapter(FakeAdapter):
    """A local run whose structured status says the steps were simulated."""

    def watcher(self, name: str) -> FakeWatcher:
        w = FakeWatcher(name)
        w.execution_mode = "simulated"
        w.identity = "aib"
        return w


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AIBTUI_STATE_DIR", str(tmp_path / "state"))
    folder = tmp_path / "demo"
    (folder / "images").mkdir(parents=True)
    (folder / "web.aib.yaml").write_text(HAND)
    (folder / "images" / "win.aib.yaml").write_text(HAND.replace("name: web", "name: win"))
    return folder


def _app(folder: Path, adapter: FakeAdapter | None = None) -> AibApp:
    app = AibApp(folder, file=folder / "web.aib.yaml")
    app._adapter = adapter or FakeAdapter([])
    return app


async def _editor_ready(pilot) -> None:  # noqa: ANN001
    app = pilot.app
    await wait_until(pilot, lambda: type(app.screen).__name__ == "EditorScreen" and app.screen.result is not None)
    await settle(pilot)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_unsaved_changes_question(snap_compare, project: Path, size: tuple[int, int]) -> None:
    async def run(pilot) -> None:  # noqa: ANN001
        await _editor_ready(pilot)
        await pilot.press("x", "ctrl+q")
        await wait_until(pilot, lambda: type(pilot.app.screen).__name__ == "UnsavedScreen")
        await settle(pilot)

    assert snap_compare(_app(project), run_before=run, terminal_size=size)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_open_a_template(snap_compare, project: Path, size: tuple[int, int]) -> None:
    async def run(pilot) -> None:  # noqa: ANN001
        await _editor_ready(pilot)
        await pilot.press("ctrl+f")
        await wait_until(pilot, lambda: type(pilot.app.screen).__name__ == "OpenScreen" and pilot.app.screen.files)
        await settle(pilot)

    assert snap_compare(_app(project), run_before=run, terminal_size=size)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_yaml_tab(snap_compare, project: Path, size: tuple[int, int]) -> None:
    async def run(pilot) -> None:  # noqa: ANN001
        await _editor_ready(pilot)
        await pilot.press("5")
        pilot.app.screen.query_one("#yaml-text").cursor_blink = False  # a blinking cursor is no stable picture
        await settle(pilot)

    assert snap_compare(_app(project), run_before=run, terminal_size=size)


def test_diagnostic_detail_large(snap_compare, project: Path) -> None:
    async def run(pilot) -> None:  # noqa: ANN001
        await _editor_ready(pilot)
        await pilot.press("4")
        await settle(pilot)

    assert snap_compare(_app(project), run_before=run, terminal_size=(120, 40))


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_simulated_build(snap_compare, project: Path, size: tuple[int, int]) -> None:
    async def run(pilot) -> None:  # noqa: ANN001
        await _editor_ready(pilot)
        await pilot.press("b")
        await wait_until(pilot, lambda: getattr(pilot.app.screen, "final", None) == "Succeeded")
        await wait_until(pilot, lambda: "run outputs" in str(pilot.app.screen.query_one("#run-outputs").render()))
        await settle(pilot)

    assert snap_compare(_app(project, SimulatedAdapter([])), run_before=run, terminal_size=size)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_help_in_the_editor(snap_compare, project: Path, size: tuple[int, int]) -> None:
    async def run(pilot) -> None:  # noqa: ANN001
        await _editor_ready(pilot)
        await pilot.press("f1")
        await wait_until(pilot, lambda: type(pilot.app.screen).__name__ == "HelpScreen")
        await settle(pilot)

    assert snap_compare(_app(project), run_before=run, terminal_size=size)
