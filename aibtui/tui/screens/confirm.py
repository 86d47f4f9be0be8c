"""A yes/no question in a modal (cancel a build, discard edits, resolve a save conflict)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Static


class ConfirmScreen(ModalScreen[str | None]):
    """Dismisses with the id of the chosen button (``yes``/``no`` or custom choices), None on escape."""

    BINDINGS = [
        Binding("escape", "dismiss_none", "Back", id="confirm.back"),
        Binding("y", "choose('yes')", "Yes", id="confirm.yes", show=False),
        Binding("n", "choose('no')", "No", id="confirm.no", show=False),
    ]

    def __init__(self, question: str, choices: tuple[tuple[str, str], ...] = (("yes", "Yes"), ("no", "No")),
                 *, title: str = "Confirm", default: str | None = None, danger: str | None = None) -> None:
        super().__init__()
        self.question = question
        self.choices = choices
        self.title_text = title
        self.default = default or choices[-1][0]  # focused: Enter picks it
        self.danger = danger if danger is not None else choices[0][0]  # shown in the error colour

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(self.title_text, classes="dialog-title")
            yield Static(self.question, id="question")
            with Horizontal(classes="buttons"):
                for key, label in self.choices:
                    yield Button(label, id=key, variant="error" if key == self.danger else
                                 "primary" if key == self.default else "default", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(f"#{self.default}", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id)

    def action_choose(self, key: str) -> None:
        if any(k == key for k, _ in self.choices):
            self.dismiss(key)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


class UnsavedScreen(ConfirmScreen):
    """Unsaved edits before quitting or opening another file: Save / Discard / Cancel (Enter saves)."""

    BINDINGS = [
        Binding("escape", "dismiss_none", "Cancel", id="unsaved.cancel"),
        Binding("s", "choose('save')", "Save", id="unsaved.save"),
        Binding("d", "choose('discard')", "Discard", id="unsaved.discard"),
        Binding("c", "choose('cancel')", "Cancel", id="unsaved.cancel_key", show=False),
        Binding("left,h", "app.focus_previous", "Previous", show=False),
        Binding("right,l", "app.focus_next", "Next", show=False),
    ]

    def __init__(self, question: str) -> None:
        super().__init__(question + "  (s saves · d discards · Esc cancels)",
                         (("save", "Save"), ("discard", "Discard"), ("cancel", "Cancel")),
                         title="Unsaved changes", default="save", danger="discard")

    def action_choose(self, key: str) -> None:
        self.dismiss(None if key == "cancel" else key)
