"""Remappable key bindings: every binding has an id; users remap them in a TOML file.

``$XDG_CONFIG_HOME/aibtui/keymap.toml`` (``~/.config/aibtui/keymap.toml``)::

    [keymap]
    "editor.add" = "a,insert"       # comma-separated keys replace the defaults
    "editor.save" = "ctrl+s"

``aibtui`` reads it once before the app starts (an unreadable file is reported, not fatal);
``docs/tui.md`` lists the ids.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path


def keymap_path(env: dict[str, str] | None = None) -> Path:
    env = dict(os.environ) if env is None else env
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME") or Path.home()) / ".config")
    return Path(base) / "aibtui" / "keymap.toml"


def load_keymap(path: Path | None = None) -> tuple[dict[str, str], str | None]:
    """(binding id -> keys, a warning to show or None)."""
    path = path or keymap_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}, None
    except OSError as exc:
        return {}, f"{path}: cannot read the keymap: {exc.strerror or exc}"
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return {}, f"{path}: not valid TOML: {exc}"
    table = data.get("keymap", data)
    out = {str(k): str(v) for k, v in table.items() if isinstance(v, str)}
    return out, None
