"""Pilot tests of the build monitor and the templates list against the local service (in-process,
127.0.0.1, temp state dir): a build to its outputs, a cancelled build, a failed step, re-attaching,
and polling that backs off on errors."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from test_tui_support import HAND, FakeAdapter, record_toasts, service, wait_until
from textual.widgets import DataTable, RichLog, Static

from aibtui.tui.app import AibApp
from aibtui.tui.provider_adapter import AdapterError
from aibtui.tui.screens.build_monitor import BuildMonitorScreen
from aibtui.tui.screens.editor import EditorScreen


def _log(screen: BuildMonitorScreen) -> str:
    return "\n".join(line.text for line in screen.query_one("#run-log", RichLog).lines)


async def _start_build(pilot, app: AibApp) -> BuildMonitorScreen:  # noqa: ANN001
    await wait_until(pilot, lambda: isinstance(app.screen, EditorScreen) and app.screen.result is not None)
    await pilot.press("b")
    await wait_until(pilot, lambda: isinstance(app.screen, BuildMonitorScreen))
    return app.screen


@pytest.mark.asyncio
async def test_build_runs_to_its_outputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "web.aib.yaml").write_text(HAND)
    with service(tmp_path, monkeypatch) as svc:
        svc.runner.gate.hold("Customizing")  # the monitor sees the run running, however loaded the machine
        app = AibApp(tmp_path)
        toasts = record_toasts(app)
        async with app.run_test(size=(100, 30)) as pilot:
            mon = await _start_build(pilot, app)
            await wait_until(pilot, lambda: mon.timeline and "Customizing" in mon.timeline[-1][1],
                             what="the run to reach Customizing")
            # the service said (lastRunStatus.aibtuiExecution) that nothing runs: the header says so live
            await wait_until(pilot, lambda: "SIMULATED" in str(mon.query_one("#run-head", Static).render()),
                             what="the header to say SIMULATED")
            svc.runner.gate.release()
            await wait_until(pilot, lambda: mon.final == "Succeeded", timeout=20, what="the build to finish")
            timeline = str(mon.query_one("#timeline", Static).render())
            assert "Running / Customizing" in timeline and "Succeeded" in timeline
            assert "step 'packages'" in _log(mon)  # the log holds every phase
            # ... and so do the timeline, the log and the end toast
            assert mon.simulated
            assert "simulated: nothing executes" in timeline
            assert "SIMULATED" in str(mon.query_one("#run-head", Static).render())
            assert "· SIMULATED run: no step is executed (no root filesystem for" in _log(mon)
            assert "✓ simulated build finished: no step was executed, no image was made" in toasts
            await wait_until(pilot, lambda: "run outputs" in str(mon.query_one("#run-outputs", Static).render()))
            assert "Microsoft.Compute/images/web" in str(mon.query_one("#run-outputs", Static).render())
            await pilot.press("escape")
            await wait_until(pilot, lambda: isinstance(app.screen, EditorScreen))
            # the templates list shows it; Enter re-attaches and shows the last run
            await pilot.press("ctrl+t")
            await wait_until(pilot, lambda: type(app.screen).__name__ == "TemplatesScreen")
            table = app.screen.query_one(DataTable)
            await wait_until(pilot, lambda: table.row_count == 1, what="the template row")
            assert table.get_row_at(0)[:3] == ["web", "Succeeded", "Succeeded"]
            await pilot.press("enter")
            await wait_until(pilot, lambda: isinstance(app.screen, BuildMonitorScreen))
            await wait_until(pilot, lambda: app.screen.final == "Succeeded", timeout=10)


@pytest.mark.asyncio
async def test_cancel_asks_first_then_cancels(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "web.aib.yaml").write_text(HAND)
    with service(tmp_path, monkeypatch) as svc:
        svc.runner.gate.hold("Customizing")  # the run stays there until canceled: it cannot end first
        app = AibApp(tmp_path)
        async with app.run_test(size=(100, 30)) as pilot:
            mon = await _start_build(pilot, app)
            await wait_until(pilot, lambda: mon.timeline and "Customizing" in mon.timeline[-1][1],
                             what="the run to reach Customizing")
            await pilot.press("c")
            await wait_until(pilot, lambda: type(app.screen).__name__ == "ConfirmScreen")
            await pilot.press("n")  # keep building
            await wait_until(pilot, lambda: app.screen is mon)
            assert not mon.cancel_requested
            await pilot.press("c")
            await wait_until(pilot, lambda: type(app.screen).__name__ == "ConfirmScreen")
            await pilot.press("y")
            await wait_until(pilot, lambda: mon.final is not None, timeout=20, what="the run to end")
            assert mon.final == "Canceled"
            assert "canceled" in str(mon.query_one("#run-outputs", Static).render()).lower()
            assert "cancel requested" in _log(mon)


@pytest.mark.asyncio
async def test_failed_step_is_shown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "web.aib.yaml").write_text(HAND)
    with service(tmp_path, monkeypatch, fault_mode=True) as svc:
        svc.faults.configure({"failStep": "motd"})
        app = AibApp(tmp_path)
        async with app.run_test(size=(100, 30)) as pilot:
            mon = await _start_build(pilot, app)
            await wait_until(pilot, lambda: mon.final is not None, timeout=20)
            assert mon.final == "Failed"
            assert "motd" in str(mon.query_one("#run-outputs", Static).render())


@pytest.mark.asyncio
async def test_a_file_with_errors_is_not_built(tmp_path: Path) -> None:
    (tmp_path / "web.aib.yaml").write_text(HAND.replace("to: /tmp/a.conf", "to: /etc/a.conf"))
    app = AibApp(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, EditorScreen) and app.screen.result is not None)
        toasts = record_toasts(app)
        await pilot.press("b")
        await wait_until(pilot, lambda: any("the template has errors" in m for m in toasts), what="the refusal")
        assert isinstance(app.screen, EditorScreen)


class FlakyAdapter(FakeAdapter):
    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures
        self.polls = 0

    def poll(self, watcher):  # noqa: ANN001, ANN201
        self.polls += 1
        if self.polls <= self.failures:
            raise AdapterError("connection refused")
        return watcher.poll()


@pytest.mark.asyncio
async def test_polling_backs_off_on_errors_and_recovers(tmp_path: Path) -> None:
    app = AibApp(tmp_path)
    app._adapter = FlakyAdapter(failures=3)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.screen.__class__.__name__ == "OnboardingScreen")
        mon = BuildMonitorScreen(path=tmp_path / "x.aib.yaml", poll=0.01)
        app.push_screen(mon)
        await wait_until(pilot, lambda: mon.final == "Succeeded", timeout=20, what="recovery")
        log = _log(mon)
        assert log.count("poll failed") == 3
        assert "retrying in 0.0" in log and "retrying in 0.1" in log  # 0.02, 0.04, 0.08: doubling
        assert mon.backoff == 0.0


@pytest.mark.asyncio
async def test_leave_a_running_build_and_reattach_from_templates(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "web.aib.yaml").write_text(HAND)
    with service(tmp_path, monkeypatch) as svc:
        svc.runner.gate.hold("Customizing")  # still running when the templates list shows it
        app = AibApp(tmp_path)
        async with app.run_test(size=(100, 30)) as pilot:
            mon = await _start_build(pilot, app)
            await wait_until(pilot, lambda: mon.timeline and "Customizing" in mon.timeline[-1][1],
                             what="the run to reach Customizing")
            await pilot.press("escape")  # back to the editor; the build goes on
            await wait_until(pilot, lambda: isinstance(app.screen, EditorScreen))
            await pilot.press("ctrl+t")
            await wait_until(pilot, lambda: type(app.screen).__name__ == "TemplatesScreen")
            table = app.screen.query_one(DataTable)
            await wait_until(pilot, lambda: table.row_count == 1)
            assert str(table.get_row_at(0)[2]).startswith("Running")
            await pilot.press("enter")
            await wait_until(pilot, lambda: isinstance(app.screen, BuildMonitorScreen) and app.screen is not mon)
            again = app.screen
            await wait_until(pilot, lambda: again.watcher is not None and again.timeline, what="re-attached")
            svc.runner.gate.release()
            await wait_until(pilot, lambda: again.final == "Succeeded", timeout=20, what="the re-attached run to end")
            assert "attached to web" in _log(again)


@pytest.mark.asyncio
async def test_build_on_a_chosen_provider(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "web.aib.yaml").write_text(HAND)
    with service(tmp_path, monkeypatch):
        app = AibApp(tmp_path)
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, EditorScreen) and app.screen.result is not None)
            await pilot.press("B")
            await wait_until(pilot, lambda: type(app.screen).__name__ == "ChooseScreen")
            await pilot.press("enter")  # local
            await wait_until(pilot, lambda: isinstance(app.screen, BuildMonitorScreen))
            mon = app.screen
            assert mon.provider == "local"
            await wait_until(pilot, lambda: mon.final == "Succeeded", timeout=20)


@pytest.mark.asyncio
async def test_templates_list_cancels_a_running_build_after_asking(tmp_path: Path) -> None:
    app = AibApp(tmp_path)
    fake = FakeAdapter()
    app._adapter = fake
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: type(app.screen).__name__ == "OnboardingScreen")
        await pilot.press("ctrl+t")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "TemplatesScreen" and app.screen.rows)
        await pilot.press("c")  # 'web' is not running
        assert type(app.screen).__name__ == "TemplatesScreen"
        await pilot.press("down", "c")  # 'win' is
        await wait_until(pilot, lambda: type(app.screen).__name__ == "ConfirmScreen")
        await pilot.press("y")
        await wait_until(pilot, lambda: fake.canceled == ["win"])


class EndlessAdapter(FakeAdapter):
    """A run that stays in Customizing; counts polls."""

    def __init__(self) -> None:
        super().__init__()
        self.polls = 0

    def poll(self, watcher):  # noqa: ANN001, ANN201
        self.polls += 1
        watcher.i = min(watcher.i, 2)
        return watcher.poll()

    def poll_interval(self) -> float:
        return 0.05


@pytest.mark.asyncio
async def test_polling_pauses_while_a_dialog_is_open(tmp_path: Path) -> None:
    app = AibApp(tmp_path)
    fake = EndlessAdapter()
    app._adapter = fake
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: type(app.screen).__name__ == "OnboardingScreen")
        mon = BuildMonitorScreen(path=tmp_path / "x.aib.yaml")
        app.push_screen(mon)
        await wait_until(pilot, lambda: fake.polls >= 3, what="polling")
        deferred = 0
        poll_now = mon._poll_now

        def counted() -> None:  # the poll timer firing (it re-arms itself without polling under a dialog)
            nonlocal deferred
            if app.screen is not mon:
                deferred += 1
            poll_now()

        mon._poll_now = counted  # type: ignore[method-assign]
        await pilot.press("c")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "ConfirmScreen")
        await wait_until(pilot, lambda: not mon.polling, what="the poll in flight to land")
        before = fake.polls
        await wait_until(pilot, lambda: deferred >= 4, what="the poll timer to fire under the dialog")
        assert fake.polls == before  # the timer fired, but no poll went out under the dialog
        await pilot.press("n")
        await wait_until(pilot, lambda: fake.polls > before + 2, what="polling to resume")
        assert mon.final is None and fake.canceled == []


class SlowOutputsAdapter(FakeAdapter):
    """The run's outputs arrive only when the test says so (a slow ARM call)."""

    def __init__(self) -> None:
        super().__init__()
        self.asked = threading.Event()
        self.answer = threading.Event()

    def run_outputs(self, name: str) -> list[tuple[str, str]]:
        self.asked.set()
        self.answer.wait(10)
        return super().run_outputs(name)


@pytest.mark.asyncio
async def test_outputs_arriving_after_their_widget_is_gone_are_dropped(tmp_path: Path) -> None:
    """A worker that answers after its screen's widgets were removed (the user left, the app is
    closing) drops its update: querying the removed widget used to fail the worker, which ends the
    app (seen under load when a run ended just as the app closed)."""
    (tmp_path / "web.aib.yaml").write_text(HAND)
    app = AibApp(tmp_path)
    fake = SlowOutputsAdapter()
    app._adapter = fake
    async with app.run_test(size=(100, 30)) as pilot:
        mon = await _start_build(pilot, app)
        await wait_until(pilot, lambda: mon.final == "Succeeded" and fake.asked.is_set(), what="outputs asked for")
        await mon.query_one("#run-outputs").remove()  # as when the screen is torn down
        fake.answer.set()
        await wait_until(pilot, lambda: not any(w.is_running for w in app.workers), what="the outputs worker to end")
        await pilot.press("escape")  # the app still answers
        await wait_until(pilot, lambda: isinstance(app.screen, EditorScreen))
    assert app.return_code in (None, 0)
