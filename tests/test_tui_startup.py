"""Start-up stays light: the TUI's first screens load no Azure SDK and no build-operations client."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PROBE = r"""
import asyncio, json, sys
from pathlib import Path
from aibtui.tui.app import AibApp

async def main():
    app = AibApp(Path(sys.argv[1]))
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(200):
            if type(app.screen).__name__ == "OnboardingScreen" and app.screen.profiles:
                break
            await pilot.pause(0.02)
        mods = sorted(m for m in sys.modules if m.split(".")[0] in ("azure", "msal")
                      or m.startswith(("aibtui.arm", "aibtui.service", "aibtui.tui.screens.editor")))
        print(json.dumps({"screen": type(app.screen).__name__, "mods": mods}))

asyncio.run(main())
"""


def test_onboarding_start_imports_no_azure_and_no_client(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-c", PROBE, str(tmp_path)], capture_output=True, text=True, check=True,
                          timeout=60)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["screen"] == "OnboardingScreen"
    assert result["mods"] == []
