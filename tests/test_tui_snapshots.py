"""SVG snapshots of every screen at 80x24 (and the editor and monitor at 120x40).

Regenerate after an intended change with `pytest tests/test_tui_snapshots.py --snapshot-update`
and review the SVGs in tests/__snapshots__/. Providers are faked, so the pictures are stable.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_tui_support import HAND, FakeAdapter, settle, wait_until

from aibtui.tui.app import AibApp
from aibtui.tui.provider_adapter import ImageEntry

ENTRIES = [ImageEntry("Canonical", "Canonical", "publisher"), ImageEntry("MicrosoftWindowsServer",
                                                                         "MicrosoftWindowsServer", "publisher"),
           ImageEntry("RedHat", "RedHat", "publisher"), ImageEntry("MicrosoftWindowsDesktop", "MicrosoftWindowsDesktop",
                                                                   "publisher")]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / "web.aib.yaml").write_text(HAND)
    return folder


@pytest.fixture
def empty(tmp_path: Path) -> Path:
    folder = tmp_path / "demo"
    folder.mkdir()
    return folder


def _app(folder: Path) -> AibApp:
    app = AibApp(folder)
    app._adapter = FakeAdapter(ENTRIES)
    return app




def _value(pilot, selector: str) -> str:  # noqa: ANN001
    return pilot.app.screen.query_one(selector).value


async def _editor_ready(pilot) -> None:  # noqa: ANN001
    app = pilot.app
    await wait_until(pilot, lambda: type(app.screen).__name__ == "EditorScreen" and app.screen.result is not None)
    await settle(pilot)


async def _wizard_ready(pilot) -> None:  # noqa: ANN001
    app = pilot.app
    await wait_until(pilot, lambda: type(app.screen).__name__ == "OnboardingScreen")
    await wait_until(pilot, lambda: app.screen.profiles)
    await settle(pilot)


def test_onboarding_name(snap_compare, empty: Path) -> None:
    assert snap_compare(_app(empty), run_before=_wizard_ready)


def test_onboarding_base_image(snap_compare, empty: Path) -> None:
    async def run(pilot) -> None:  # noqa: ANN001
        await _wizard_ready(pilot)
        await pilot.press("enter")
        await wait_until(pilot, lambda: pilot.app.screen.page_id == "base")
        await settle(pilot)

    assert snap_compare(_app(empty), run_before=run)


def test_onboarding_identity(snap_compare, empty: Path) -> None:
    async def run(pilot) -> None:  # noqa: ANN001
        await _wizard_ready(pilot)
        await pilot.press("enter", "enter", "enter")
        await wait_until(pilot, lambda: pilot.app.screen.page_id == "identity")
        await settle(pilot)

    assert snap_compare(_app(empty), run_before=run)


def test_editor_steps(snap_compare, project: Path) -> None:
    assert snap_compare(_app(project), run_before=_editor_ready)


def test_editor_steps_large(snap_compare, project: Path) -> None:
    assert snap_compare(_app(project), run_before=_editor_ready, terminal_size=(120, 40))


def test_editor_build_settings(snap_compare, project: Path) -> None:
    async def run(pilot) -> None:  # noqa: ANN001
        await _editor_ready(pilot)
        await pilot.press("3")
        await wait_until(pilot, lambda: pilot.app.screen.query_one("#tabs").active == "build")
        await settle(pilot)

    assert snap_compare(_app(project), run_before=run)


def test_editor_preview(snap_compare, project: Path) -> None:
    async def run(pilot) -> None:  # noqa: ANN001
        await _editor_ready(pilot)
        await pilot.press("4")
        await wait_until(pilot, lambda: pilot.app.screen.query_one("#tabs").active == "preview")
        await settle(pilot)

    assert snap_compare(_app(project), run_before=run)


def test_step_form_with_a_validation_error(snap_compare, project: Path) -> None:
    async def run(pilot) -> None:  # noqa: ANN001
        await _editor_ready(pilot)
        await pilot.press("end", "enter")  # the File step 'config'
        await wait_until(pilot, lambda: type(pilot.app.screen).__name__ == "FormScreen")
        await pilot.press("tab", "tab", "ctrl+u", *"/etc/a.conf")
        await wait_until(pilot, lambda: "/etc/a.conf" in [w.value for w in pilot.app.screen.query("Input")])
        await settle(pilot)

    assert snap_compare(_app(project), run_before=run)


def test_source_picker(snap_compare, project: Path) -> None:
    async def run(pilot) -> None:  # noqa: ANN001
        await _editor_ready(pilot)
        await pilot.press("s")
        await wait_until(pilot, lambda: type(pilot.app.screen).__name__ == "SourcePickerScreen"
                         and pilot.app.screen.profiles and pilot.app.screen.level)
        await pilot.press(*"ubu")
        await wait_until(pilot, lambda: _value(pilot, "#filter") == "ubu")
        await settle(pilot)

    assert snap_compare(_app(project), run_before=run)


async def _monitor_done(pilot) -> None:  # noqa: ANN001
    await _editor_ready(pilot)
    await pilot.press("b")
    await wait_until(pilot, lambda: getattr(pilot.app.screen, "final", None) == "Succeeded")
    await wait_until(pilot, lambda: "run outputs" in str(pilot.app.screen.query_one("#run-outputs").render()))
    await settle(pilot)


def test_build_monitor(snap_compare, project: Path) -> None:
    assert snap_compare(_app(project), run_before=_monitor_done)


def test_build_monitor_large(snap_compare, project: Path) -> None:
    assert snap_compare(_app(project), run_before=_monitor_done, terminal_size=(120, 40))


def test_templates(snap_compare, project: Path) -> None:
    async def run(pilot) -> None:  # noqa: ANN001
        await _editor_ready(pilot)
        await pilot.press("ctrl+t")
        await wait_until(pilot, lambda: type(pilot.app.screen).__name__ == "TemplatesScreen"
                         and pilot.app.screen.rows)
        await settle(pilot)

    assert snap_compare(_app(project), run_before=run)


def test_help(snap_compare, project: Path) -> None:
    async def run(pilot) -> None:  # noqa: ANN001
        await _editor_ready(pilot)
        await pilot.press("f1")
        await wait_until(pilot, lambda: type(pilot.app.screen).__name__ == "HelpScreen")
        await settle(pilot)

    assert snap_compare(_app(project), run_before=run)


def test_file_chooser(snap_compare, project: Path) -> None:
    (project / "win.aib.yaml").write_text(HAND.replace("name: web", "name: win"))

    async def run(pilot) -> None:  # noqa: ANN001
        await wait_until(pilot, lambda: type(pilot.app.screen).__name__ == "OpenScreen" and pilot.app.screen.files)
        await settle(pilot)

    assert snap_compare(_app(project), run_before=run)


def test_recipe_chooser(snap_compare, project: Path) -> None:
    async def run(pilot) -> None:  # noqa: ANN001
        await _editor_ready(pilot)
        await pilot.press("a")
        await wait_until(pilot, lambda: type(pilot.app.screen).__name__ == "ChooseScreen")
        await settle(pilot)

    assert snap_compare(_app(project), run_before=run)


def test_cancel_confirmation(snap_compare, project: Path) -> None:
    class Endless(FakeAdapter):
        polls = 0

        def poll_interval(self) -> float:
            return 0.3  # slow enough for Pilot to see the app idle between polls

        def poll(self, watcher):  # noqa: ANN001, ANN201
            self.polls += 1
            watcher.i = min(watcher.i, 2)  # stays Customizing
            update = watcher.poll()
            if self.polls > 3:  # nothing new after that: a stable picture
                update.changed, update.log_lines = False, []
            return update

    app = AibApp(project)
    app._adapter = Endless(ENTRIES)

    async def run(pilot) -> None:  # noqa: ANN001
        await _editor_ready(pilot)
        await pilot.press("b")
        await wait_until(pilot, lambda: app._adapter.polls > 3)
        await pilot.press("c")
        await wait_until(pilot, lambda: type(pilot.app.screen).__name__ == "ConfirmScreen")
        await settle(pilot)

    assert snap_compare(app, run_before=run)
