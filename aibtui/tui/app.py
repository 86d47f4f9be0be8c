"""The aibtui Textual app and ``run_tui`` (what `aibtui` with no arguments runs).

Start-up stays light: only Textual and this module are imported before the first frame; the
folder is scanned in a worker, and the screen it calls for (onboarding or the editor) is imported
then. Every network or disk action runs in a worker.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from .messages import FolderScanned


class AibApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "aibtui"
    SUB_TITLE = "Azure Image Builder templates"
    BINDINGS = [
        Binding("f1,question_mark", "help", "Help", id="app.help"),
        Binding("ctrl+t", "templates", "Templates", id="app.templates", show=False),  # in Help and the palette
        Binding("ctrl+o", "onboarding", "New", id="app.onboarding", show=False),
        Binding("ctrl+f", "open", "Open", id="app.open", show=False),
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True),
    ]

    def __init__(self, folder: Path | None = None, *, file: Path | None = None, provider: str | None = None,
                 keymap: dict[str, str] | None = None, keymap_warning: str | None = None,
                 onboarding: bool = False) -> None:
        super().__init__()
        from .commands import AibCommands

        self.COMMANDS = App.COMMANDS | {AibCommands}
        self.folder = (folder or Path.cwd()).absolute()
        self.file = file
        self.provider_name = provider
        self._keymap = keymap or {}
        self._keymap_warning = keymap_warning
        self._force_onboarding = onboarding
        self._adapter = None
        self.run_timelines: dict[str, tuple[str | None, list[tuple[str, str]]]] = {}  # re-attach keeps phases

    # -- keys as people read them; app keys only where they work --------------------------------------
    def get_key_display(self, binding: Binding) -> str:
        from .keys import key_label

        return binding.key_display or key_label(binding.key, short=True)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        from textual.screen import ModalScreen

        from .screens.help import HelpScreen

        screen = self.screen
        if action in ("templates", "onboarding", "open") and isinstance(screen, ModalScreen) \
                and not isinstance(screen, HelpScreen):
            return False  # not over a dialog: finish or close it first
        if action == "templates" and type(screen).__name__ == "TemplatesScreen":
            return False  # there already
        if action == "help" and isinstance(screen, HelpScreen):
            return False
        return True

    # -- shared services -----------------------------------------------------------------------
    @property
    def adapter(self):  # noqa: ANN201 - lazily imported type
        if self._adapter is None:
            from .provider_adapter import ProviderAdapter

            self._adapter = ProviderAdapter(self.provider_name)
        return self._adapter

    # -- start-up ----------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        # The first frame: drawn while a worker scans the folder and the real screen is imported.
        yield Static("aibtui · looking for *.aib.yaml files ...", id="start-note")

    def on_mount(self) -> None:
        if self._keymap:
            self.set_keymap(self._keymap)
        if self._keymap_warning:
            self.notify(self._keymap_warning, severity="warning")
        self._scan()

    @work(thread=True, exclusive=True, group="scan")
    def _scan(self) -> None:
        from .recent import find_templates

        if self.file is not None:
            files = [self.file]
        else:
            try:  # the project's templates, subfolders included (relative to the folder)
                files = [self.folder / f for f in find_templates(self.folder, limit=2)]
            except OSError:
                files = []
        self.post_message(FolderScanned(files))

    def on_folder_scanned(self, message: FolderScanned) -> None:
        if self._force_onboarding or not message.files:
            self.open_onboarding(replace=True)
        elif len(message.files) == 1:
            self.open_editor(message.files[0], replace=True)
        else:
            from .screens.open_file import OpenScreen

            self.push_screen(OpenScreen(self.folder, can_cancel=False), self._open_chosen)

    # -- navigation ----------------------------------------------------------------------------------
    def open_editor(self, path: Path, *, replace: bool = False) -> None:
        from .screens.editor import EditorScreen

        screen = EditorScreen(path)
        if replace and len(self.screen_stack) > 1:
            self.switch_screen(screen)
        else:
            self.push_screen(screen)

    def editors(self) -> list:  # noqa: ANN201 - EditorScreen, imported lazily
        """The open editors, top-most first."""
        from .screens.editor import EditorScreen

        return [s for s in reversed(self.screen_stack) if isinstance(s, EditorScreen)]

    def confirm_unsaved(self, editors: list, then, what: str = "quitting") -> None:  # noqa: ANN001
        """Run ``then()`` once the unsaved edits of ``editors`` are saved or discarded (the user is asked:
        Save / Discard / Cancel); nothing happens on Cancel or when a save fails."""
        from .screens.confirm import UnsavedScreen

        dirty = [e for e in editors if e.dirty]
        if not dirty:
            then()
            return
        if isinstance(self.screen, UnsavedScreen):
            return
        names = ", ".join(e.path.name for e in dirty)

        def decide(choice: str | None) -> None:
            if choice == "save":
                if all(e.save_now() for e in dirty):
                    then()
            elif choice == "discard":
                then()

        self.push_screen(UnsavedScreen(f"{names} has unsaved changes. Save before {what}?"), decide)

    async def action_quit(self) -> None:
        self.confirm_unsaved(self.editors(), self.exit)

    def action_open(self) -> None:
        from .screens.open_file import OpenScreen

        self._close_help()
        if not isinstance(self.screen, OpenScreen):
            self.push_screen(OpenScreen(self.folder), self._open_chosen)

    def _open_chosen(self, choice: Path | str | None) -> None:
        if choice is None:
            return
        if choice == "new":
            self.open_onboarding()
            return
        self.switch_to_file(Path(choice))

    def switch_to_file(self, path: Path) -> None:
        """Open ``path`` in the editor in place of the current one (asking first about unsaved edits)."""
        from .screens.editor import EditorScreen

        current = self.screen if isinstance(self.screen, EditorScreen) else None
        if current is not None and current.path.absolute() == path.absolute():
            self.notify(f"{path.name} is open already")
            return

        def go() -> None:
            if isinstance(self.screen, EditorScreen):
                self.switch_screen(EditorScreen(path))
            else:
                self.open_editor(path, replace=True)

        self.confirm_unsaved([current] if current is not None else [], go, what="opening another file")

    def open_onboarding(self, *, replace: bool = False) -> None:
        from .screens.onboarding import OnboardingScreen

        screen = OnboardingScreen(self.folder)
        if replace and len(self.screen_stack) > 1:
            self.switch_screen(screen)
        else:
            self.push_screen(screen)

    def open_build(self, *, path: Path | None = None, attach: str | None = None, provider: str | None = None) -> None:
        from .screens.build_monitor import BuildMonitorScreen

        self.push_screen(BuildMonitorScreen(path=path, attach=attach, provider=provider))

    def action_help(self) -> None:
        from .screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            return
        # one Help per kind of screen, kept installed: opened again it is only shown (and its text
        # refreshed if the keys that work changed), not composed, styled and laid out anew
        name = f"help:{type(self.screen).__qualname__}"
        if not self.is_screen_installed(name):
            self.install_screen(HelpScreen(), name)
        self.push_screen(name)

    def action_templates(self) -> None:
        from .screens.help import HelpScreen
        from .screens.templates import TemplatesScreen

        if isinstance(self.screen, HelpScreen):
            self.pop_screen()
        if not isinstance(self.screen, TemplatesScreen):
            self.push_screen(TemplatesScreen())

    def action_onboarding(self) -> None:
        self._close_help()
        self.open_onboarding()

    def _close_help(self) -> None:
        from .screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            self.pop_screen()


def run_tui(argv: list[str] | None = None) -> int:
    """Run the TUI on the current folder, or on ``argv[0]`` (a ``*.aib.yaml`` file or a project folder);
    returns the exit code. Never a traceback for a user mistake."""
    from .keymap import load_keymap

    folder, file = Path.cwd(), None
    if argv:
        target = Path(argv[0]).expanduser()
        if target.is_dir():
            folder = target.absolute()
        elif target.is_file():
            file = target.absolute()
            folder = file.parent
        else:
            sys.stderr.write(f"aibtui: {argv[0]}: no such file or folder "
                             "(`aibtui` in a folder without templates starts the onboarding)\n")
            return 2
    term = os.environ.get("TERM", "")
    if term in ("dumb", "unknown") and not os.environ.get("AIBTUI_FORCE_TUI"):
        sys.stderr.write(f"aibtui: TERM={term} cannot show the TUI (it needs cursor movement and colours); "
                         "use a terminal such as xterm-256color, or the commands: `aibtui --help`\n")
        return 2

    keymap, warning = load_keymap()
    provider = os.environ.get("AIBTUI_PROVIDER") or None
    if provider not in (None, "local", "azure"):
        sys.stderr.write(f"aibtui: AIBTUI_PROVIDER={provider!r} is not a provider; use local or azure\n")
        return 2
    if not sys.stdout.isatty() and not os.environ.get("AIBTUI_FORCE_TUI"):
        sys.stderr.write("aibtui: the TUI needs a terminal; run `aibtui --help` for the commands\n")
        return 2
    app = AibApp(folder, file=file, provider=provider, keymap=keymap, keymap_warning=warning)
    result = app.run()
    code = int(result or 0)
    _exit_now(code)
    return code


def _exit_now(code: int) -> None:
    """Leave at once once the app has ended: the interpreter's own teardown of the modules the TUI
    loaded (ruamel, jsonschema, Azure's libraries) takes longer than the whole quit should (it was
    0.6 s of a 1.2 s Ctrl+Q). Everything the app writes is written before ``run()`` returns (saves
    are atomic and finished); worker threads still running get a moment to end first."""
    import logging
    import threading

    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join(0.5)
    logging.shutdown()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)
