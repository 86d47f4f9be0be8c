"""`aibtui init`: the onboarding as plain prompts (input/print), for people who don't want a TUI.

Writes the same commented ``NAME.aib.yaml`` as the TUI wizard (shared ``aibtui.onboarding``), then
compiles it and says how to build it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-C", "--directory", type=Path, default=Path("."), help="folder to write into (default: .)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing NAME.aib.yaml")


def run(args: argparse.Namespace) -> int:
    from aibtui.onboarding.prompts import Aborted, run_prompts
    from aibtui.onboarding.writer import TargetExists, write_project

    out = sys.stdout
    folder: Path = args.directory
    if not folder.is_dir():
        sys.stderr.write(f"aibtui init: error: {folder} is not a folder\n")
        return 2
    default_name = _name_from(folder)
    try:
        answers = run_prompts(input, out, default_name)
    except Aborted:
        out.write("\nnothing written\n")
        return 130
    try:
        written = write_project(folder, answers, overwrite=args.force)
    except TargetExists as exc:
        sys.stderr.write(f"aibtui init: error: {exc} (or pass --force)\n")
        return 1
    except OSError as exc:
        sys.stderr.write(f"aibtui init: error: cannot write: {exc}\n")
        return 1
    out.write(f"\nwrote {written.path}\n")
    for script in written.scripts:
        out.write(f"wrote {script} (a starter script: edit it)\n")
    from aibtui.compiler import compile_file

    res = compile_file(written.path)
    for d in res.diagnostics:
        out.write(d.format_text() + "\n")
    if res.ok:
        out.write(f"it compiles. Next: `aibtui build {written.path}` (local provider: steps run in a sandbox when "
                  "a root filesystem is configured, otherwise the run is simulated and says so), or "
                  "`aibtui` to edit it in the TUI\n")
        return 0
    out.write("it has errors (above); fix them and run `aibtui check` again\n")
    return 1


def _name_from(folder: Path) -> str:
    import re

    base = re.sub(r"[^A-Za-z0-9_.-]+", "-", folder.resolve().name).strip("-.") or "my-image"
    return base[:64] if re.match(r"[A-Za-z0-9]", base) else "my-image"
