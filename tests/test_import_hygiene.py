"""The compile path never imports Textual, Rich, Azure, Jinja2 (for plain templates) or jsonschema."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "ubuntu-web" / "web.aib.yaml"

PROBE = r"""
import json, sys
from aibtui.cli.main import main
import io, contextlib
out = io.StringIO()
with contextlib.redirect_stdout(out):
    rc = main(["compile", sys.argv[1]])
mods = sorted(m for m in sys.modules if m.split(".")[0] in
              ("textual", "rich", "azure", "msal", "jsonschema", "referencing", "aibtui"))
print(json.dumps({"rc": rc, "mods": mods}))
"""


def _probe(path: Path) -> dict:
    proc = subprocess.run([sys.executable, "-c", PROBE, str(path)], capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_compile_path_imports_no_ui_and_no_azure():
    result = _probe(EXAMPLE)
    assert result["rc"] == 0
    top = {m.split(".")[0] for m in result["mods"]}
    assert "textual" not in top and "rich" not in top
    assert "azure" not in top and "msal" not in top
    assert "jsonschema" not in top  # the builtin schema engine is the default
    assert not any(m.startswith(("aibtui.tui", "aibtui.service", "aibtui.arm")) for m in result["mods"])


def test_compiler_package_never_imports_ui_or_azure():
    """Importing every compiler module (a static guarantee, whatever path runs) loads none of them."""
    code = (
        "import importlib, pkgutil, sys, aibtui.compiler as c\n"
        "for m in pkgutil.walk_packages(c.__path__, 'aibtui.compiler.'):\n"
        "    importlib.import_module(m.name)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'rich', 'azure', 'msal')"
        " or m.startswith(('aibtui.tui', 'aibtui.service', 'aibtui.arm', 'aibtui.cli'))]\n"
        "print(bad)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"
