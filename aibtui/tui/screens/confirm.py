"""A yes/no question in a modal (cancel a build, discard edits, resolve a save conflict)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ConfirmScreen(ModalScreen[str | None]):
    """Dismisses with the id of the chosen button (``yes``/``no`` or custom choices), None on escape."""

    BINDINGS = [
        Binding("escape", "dismiss_none", "Back", id="confirm.back"),
        Binding("y", "choose('yes')", "Yes", id="confirm.yes", show=False),
        Binding("n", "choose('no')", "No", id="confirm.no", show=False),
    ]

    def __init__(self, question: str, choices: tuple[tuple[str, str], ...] = (("yes", "Yes"), ("no", "No")),
                 *, title: str = "Confirm") -> None:
        super().__init__()
        self.question = question
        self.choices = choices
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(self.title_text, classes="dialog-title")
            yield Static(self.question, id="question")
            with Horizontal(classes="buttons"):
                for i, (key, label) in enumerate(self.choices):
                    yield Button(label, id=key, variant="error" if i == 0 else "default", compact=True)

    def on_mount(self) -> None:
        self.query_one(f"#{self.choices[-1][0]}", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id)

    def action_choose(self, key: str) -> None:
        if any(k == key for k, _ in self.choices):
            self.dismiss(key)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
