"""Recently opened templates, remembered per project folder.

Kept in the user's state directory (``AIBTUI_STATE_DIR`` or ``$XDG_STATE_HOME/aibtui``), never in
the project: ``recent.json`` maps a project folder's absolute path to its files (relative paths,
newest first). Reading or writing problems are never fatal: the list is a convenience.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

MAX_FILES = 10
MAX_PROJECTS = 50


def recent_path() -> Path:
    from aibtui.config import state_dir

    return state_dir() / "recent.json"


def _read(path: Path) -> dict[str, list[str]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): [str(f) for f in v if isinstance(f, str)] for k, v in data.items() if isinstance(v, list)}


def recent_files(folder: Path, path: Path | None = None) -> list[str]:
    """The project's recent files (relative to ``folder``) that still exist, newest first."""
    folder = folder.absolute()
    files = _read(path or recent_path()).get(str(folder), [])
    return [f for f in files if (folder / f).is_file()]


def remember(folder: Path, file: Path, path: Path | None = None) -> None:
    """Put ``file`` first in the project's recent list (written atomically; errors ignored)."""
    path = path or recent_path()
    folder = folder.absolute()
    try:
        rel = os.path.relpath(file.absolute(), folder)
    except ValueError:
        return
    if rel.startswith(".."):
        return  # outside the project: not one of its files
    data = _read(path)
    files = [rel] + [f for f in data.pop(str(folder), []) if f != rel]
    data = {str(folder): files[:MAX_FILES], **data}
    data = dict(list(data.items())[:MAX_PROJECTS])
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass


SKIP_DIRS = {".git", ".hg", ".svn", ".venv", "venv", "node_modules", "__pycache__", ".tox", ".mypy_cache"}


def find_templates(folder: Path, limit: int = 5000) -> list[str]:
    """Every ``**/*.aib.yaml`` under ``folder`` (relative paths, sorted), skipping VCS/venv folders."""
    out: list[str] = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        for f in files:
            if f.endswith(".aib.yaml"):
                out.append(os.path.relpath(os.path.join(root, f), folder))
                if len(out) >= limit:
                    return sorted(out)
    return sorted(out)
