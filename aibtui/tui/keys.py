"""Keys as people read them: ``ctrl+s`` is shown ``^S`` in the footer and ``Ctrl+S`` in Help."""

from __future__ import annotations

NAMES = {
    "question_mark": "?", "escape": "Esc", "enter": "Enter", "delete": "Del", "backspace": "Backspace",
    "tab": "Tab", "space": "Space", "up": "↑", "down": "↓", "left": "←", "right": "→", "pageup": "PgUp",
    "pagedown": "PgDn", "home": "Home", "end": "End", "insert": "Ins", "plus": "+", "minus": "-",
    "slash": "/", "comma": ",", "full_stop": ".",
}


def key_label(key: str, *, short: bool = False) -> str:
    """``ctrl+s`` -> ``Ctrl+S`` (``^S`` when short), ``shift+up`` -> ``Shift+↑``, ``K`` -> ``K``."""
    *mods, name = key.split("+") if key != "+" else ["+"]
    shown = NAMES.get(name, name.upper() if len(name) > 1 and name[0] == "f" and name[1:].isdigit() else name)
    if len(shown) == 1 and mods and mods != ["shift"]:
        shown = shown.upper()
    elif len(shown) > 1 and shown == name:
        shown = name.capitalize()
    if short and mods == ["ctrl"]:
        return f"^{shown}"
    return "+".join([m.capitalize() for m in mods] + [shown])
