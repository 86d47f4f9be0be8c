"""Layering around the local service: the service never imports the CLI or the TUI, and the client
side (aibtui/arm/) never imports the service: they share only aibtui.localstate (the state files)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "aibtui"


def _imports(path: Path) -> set[str]:
    """Absolute module names a file imports (relative imports resolved against its package)."""
    package = ".".join(path.relative_to(ROOT.parent).with_suffix("").parts[:-1])
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out.add(mod)
            out.update(f"{mod}.{a.name}" for a in node.names)
    return out


def _offenders(folder: str, forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    bad = {}
    for path in sorted((ROOT / folder).rglob("*.py")):
        hits = sorted(m for m in _imports(path) if m.startswith(forbidden))
        if hits:
            bad[str(path.relative_to(ROOT.parent))] = hits
    return bad


def test_the_service_never_imports_the_cli_or_the_tui() -> None:
    assert _offenders("service", ("aibtui.cli", "aibtui.tui")) == {}


def test_the_client_never_imports_the_service() -> None:
    assert _offenders("arm", ("aibtui.service",)) == {}


def test_the_checker_sees_relative_imports() -> None:  # the scan above must not pass vacuously
    assert "aibtui.localstate.read_discovery" in _imports(ROOT / "arm" / "local.py")
    assert "aibtui.service.control.main" in _imports(ROOT / "service" / "__main__.py")


def test_importing_the_service_and_the_local_client_loads_neither_cli_nor_tui() -> None:
    code = ("import sys, aibtui.service.server, aibtui.service.control, aibtui.arm.local; "
            "bad = sorted(m for m in sys.modules if m.startswith(('aibtui.cli', 'aibtui.tui', 'textual'))); "
            "print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
