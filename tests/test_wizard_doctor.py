"""The onboarding wizard's last page shows `aibtui doctor`'s preflight for the configured provider
(here the local one, with no service running: the wizard does not start one)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_tui_support import wait_until
from textual.widgets import Static

from aibtui.tui.app import AibApp


def _page(app: AibApp) -> str:
    return getattr(app.screen, "page_id", "") if app.screen.query("#next") else ""


@pytest.mark.asyncio
async def test_last_page_shows_the_preflight(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIBTUI_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.delenv("AIBTUI_PROVIDER", raising=False)
    folder = tmp_path / "demo"
    folder.mkdir()
    app = AibApp(folder)
    async with app.run_test(size=(100, 40)) as pilot:
        await wait_until(pilot, lambda: _page(app) == "name" and bool(app.screen.query("#name")), what="the wizard")
        await pilot.press("ctrl+u", *"web", "enter")
        for page in ("base", "location", "identity", "steps", "outputs", "review"):
            await wait_until(pilot, lambda p=page: _page(app) == p, what=page)
            if page == "base":
                await wait_until(pilot, lambda: app.screen.query_one("#bases").option_count > 3)
            await pilot.press("ctrl+s" if page == "review" else "ctrl+n" if page in ("steps", "outputs") else "enter")
        await wait_until(pilot, lambda: _page(app) == "done")

        def text() -> str:
            return str(app.screen.query_one("#done-text", Static).render())

        await wait_until(pilot, lambda: "preflight (aibtui doctor)" in text(), what="the doctor's lines")
        assert "it compiles" in text()
        assert "[ok  ] local service: not running now; it starts on demand with the first build" in text()
    assert not (tmp_path / "state" / "service.json").exists()  # no service was started for the check
