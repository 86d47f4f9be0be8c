"""Help (F1 or ?): the keys of the screen you were on, as bound now (remaps show) and only those that
work there, written as people read them (Ctrl+S), then what each screen is for.

Plain Rich text in a Static: it opens in a few milliseconds (a Markdown widget took half a second).
The app keeps one Help screen per kind of screen below (``App.install_screen``): opened again, it is
not composed, styled and laid out anew; it only refreshes its text if the keys that work changed.
"""

from __future__ import annotations

from functools import lru_cache

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from ..keys import key_label

SCREENS = (
    ("Editor", "Steps (the ordered customize list; inherited profile steps dimmed), Targets (distribute), Build "
               "(source, location, identity, VM size, disk, timeout, subnet), Preview (the compiled JSON and the "
               "diagnostics: Enter jumps to the field), YAML (the raw file: every error can be fixed there)."),
    ("Onboarding (Ctrl+O)", "a wizard that writes a commented NAME.aib.yaml, compiles it and offers a local build; "
                            "Esc goes back a page, and leaves the wizard from its first page."),
    ("Open (Ctrl+F)", "every **/*.aib.yaml of the project, recent first; type to filter; + New template."),
    ("Source picker (s)", "profiles, then marketplace publishers › offers › SKUs › versions; Backspace on an "
                          "empty filter goes up; paste a managed image or gallery version id to use it."),
    ("Build monitor (b)", "the run's phases with elapsed time, the customization log, c cancels (asks first), "
                          "the run outputs at the end; a simulated local run says so."),
    ("Templates (Ctrl+T)", "every template on the provider with its last run, refreshed by itself; Enter "
                           "re-attaches to a run."),
)


class HelpScreen(Screen[None]):
    BINDINGS = [Binding("escape,f1,q,question_mark", "app.pop_screen", "Close", id="help.close")]

    def __init__(self) -> None:
        super().__init__()
        self._shown: tuple[str, Text] | None = None  # (title, keys text) on screen now

    def compose(self) -> ComposeResult:
        self._shown = self._content()
        with Vertical(id="dialog", classes="help"):
            yield Static(self._shown[0], classes="dialog-title")
            with VerticalScroll(id="help-body"):  # one Static: Help opens about as fast as an empty screen
                yield Static(self._shown[1], id="help-keys")

    def on_screen_resume(self) -> None:
        """Shown again (the app reuses this screen): refresh only what changed since last time."""
        if self._shown is None or not self.is_mounted:
            return
        title, keys = self._content()
        if title != self._shown[0]:
            self.query_one(".dialog-title", Static).update(title)
        if keys != self._shown[1]:
            self.query_one("#help-keys", Static).update(keys)
        self._shown = (title, keys)
        self.query_one("#help-body", VerticalScroll).scroll_home(animate=False)

    def _content(self) -> tuple[str, Text]:
        return f"Help · {self._below_name()} · Esc closes", self._keys().append_text(_screens())

    def _below(self) -> object | None:
        stack = self.app.screen_stack
        return stack[-2] if len(stack) > 1 and stack[-1] is self else (stack[-1] if stack[-1] is not self else None)

    def _below_name(self) -> str:
        below = self._below()
        name = type(below).__name__.removesuffix("Screen") if below is not None else "aibtui"
        return {"Editor": "editor", "Onboarding": "onboarding", "BuildMonitor": "build monitor",
                "Templates": "templates", "Open": "open a template", "Default": "aibtui"}.get(name, name)

    def _keys(self) -> Text:
        """The keys of the screen below and of the app that work there now (remaps included)."""
        seen: dict[str, list[str]] = {}
        text: dict[str, str] = {}
        below = self._below()
        for node in ([below] if below is not None else []) + [self.app]:
            for key, binding in _bindings(node):
                if not binding.description or not _works(node, binding):
                    continue
                if not binding.id or (node is self.app and not binding.id.startswith("app.")):
                    continue  # Textual's own (focus next, copy): not what this help is about
                ident = binding.id or binding.description
                text.setdefault(ident, binding.description)
                label = key_label(key)
                if label not in seen.setdefault(ident, []):
                    seen[ident].append(label)
        rows = [(" / ".join(keys), text[ident]) for ident, keys in seen.items()]
        rows.append(("Ctrl+P", "the command palette (every command by name)"))
        width = max(len(k) for k, _ in rows) + 2
        out = Text("Keys here\n", style="bold underline")
        for keys_, what in rows:
            out.append(keys_.ljust(width), style="bold")
            out.append(what + "\n")
        return out


@lru_cache(maxsize=1)
def _screens_text() -> Text:
    """What each screen is for: the same on every Help, built once."""
    out = Text("\n")
    out.append("Screens\n", style="bold underline")
    for name, what in SCREENS:
        out.append(f"{name}: ", style="bold")
        out.append(what + "\n")
    out.append("\nThe mouse works everywhere. NO_COLOR=1 turns colour off. Keys can be remapped in "
               "~/.config/aibtui/keymap.toml (docs/tui.md). `aibtui explain CODE` explains a diagnostic.",
               style="dim")
    return out


def _screens() -> Text:
    return _screens_text().copy()


def _works(node: object, binding: Binding) -> bool:
    action = binding.action.split(".")[-1]
    name, _, params = action.partition("(")
    check = getattr(node, "check_action", None)
    if check is None:
        return True
    try:
        return bool(check(name, ()))
    except Exception:  # noqa: BLE001 - a check that needs parameters: show the key
        return True


def _bindings(node: object) -> list[tuple[str, Binding]]:
    bindings = getattr(node, "_bindings", None)
    if bindings is None:
        return []
    return [(k, b) for k, bs in bindings.key_to_bindings.items() for b in bs]
