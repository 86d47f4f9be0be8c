"""The help screen: what each screen is for and its keys (read from the live bindings, so remaps show)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

HELP = """\
# aibtui

**Screens**

- **Onboarding** (Ctrl+O, or when the folder has no `*.aib.yaml`): a wizard that writes a commented
  `NAME.aib.yaml`, compiles it and offers a local build.
- **Editor**: *Steps* (the ordered customize list; inherited profile steps shown dimmed),
  *Targets* (distribute), *Build* (vmSize, disk, timeout, subnet), *Preview* (the compiled JSON and the
  diagnostics; Enter on a diagnostic jumps to the field).
- **Source picker** (`s` in the editor): profiles, then marketplace publishers > offers > SKUs > versions;
  type to filter, Enter to open, Backspace on an empty filter to go up. Paste a managed image or gallery
  version id to use it.
- **Build monitor** (`b` in the editor): the run's states with elapsed time, the customization log, `c` to
  cancel (asks first), the run outputs at the end.
- **Templates** (Ctrl+T): every template on the provider with its last run; Enter re-attaches.

**Keys**

{keys}

Ctrl+P opens the command palette. The mouse works everywhere. `NO_COLOR=1` turns colour off.
Keys can be remapped in `~/.config/aibtui/keymap.toml` (`docs/tui.md`).
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f1,q", "app.pop_screen", "Close", id="help.close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Markdown(HELP.format(keys=self._keys()))

    def _keys(self) -> str:
        """The keys of the screen below and of the app, as bound now (remaps included)."""
        keys: dict[str, list[str]] = {}
        text: dict[str, str] = {}
        for screen in self.app.screen_stack[:-1][-1:] + [self.app]:
            for key, binding in _bindings(screen):
                if not binding.description:
                    continue
                ident = binding.id or binding.description
                text.setdefault(ident, binding.description)
                if key not in keys.setdefault(ident, []):
                    keys[ident].append(key)
        rows = [f"- {' / '.join(f'`{k}`' for k in keys[i])}  {text[i]}" for i in keys]
        return "\n".join(rows) or "- (none)"


def _bindings(node: object) -> list[tuple[str, Binding]]:
    bindings = getattr(node, "_bindings", None)
    if bindings is None:
        return []
    return [(k, b) for k, bs in bindings.key_to_bindings.items() for b in bs]
