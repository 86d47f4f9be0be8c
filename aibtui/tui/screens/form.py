"""A modal form: labelled fields, each checked as you type, OK only when every field is valid.

The editor builds one per kind of thing it edits (a step from a recipe, a step as raw YAML, a
distribution target, the build settings); the checks come from ``aibtui.onboarding``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, Static, TextArea

Check = Callable[[str], str | None]


@dataclass
class Field:
    key: str
    label: str
    value: str = ""
    check: Check | None = None
    multiline: bool = False
    help: str = ""


class FormScreen(ModalScreen[dict[str, str] | None]):
    """Dismisses with ``{key: value}`` (OK / Ctrl+S) or None (Escape)."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="form.cancel"),
        Binding("ctrl+s", "submit", "OK", id="form.ok"),
    ]

    def __init__(self, title: str, fields: list[Field], *, explain: str = "", focus: str | None = None,
                 whole: Callable[[dict[str, str]], dict[str, str]] | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.fields = fields
        self.explain = explain
        self.focus_key = focus
        self.whole = whole  # cross-field checks: values -> {key: problem}
        self.problems: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="form"):
            yield Static(self.title_text, classes="dialog-title")
            if self.explain:
                yield Static(self.explain, classes="explain")
            with VerticalScroll(id="form-fields"):
                for f in self.fields:
                    yield Label(f.label, classes="field-label")
                    if f.multiline:
                        yield TextArea(f.value, id=f"f-{f.key}", classes="field", soft_wrap=False,
                                       show_line_numbers=False)
                    else:
                        yield Input(f.value, id=f"f-{f.key}", classes="field", select_on_focus=False)
                    yield Static(f.help, id=f"p-{f.key}", classes="field-problem" if not f.help else "field-help")
            with Horizontal(classes="buttons"):
                yield Button("OK", id="ok", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self._validate_all()
        target = self.focus_key or (self.fields[0].key if self.fields else None)
        if target is not None:
            try:
                self.query_one(f"#f-{target}").focus()
            except Exception:  # noqa: BLE001 - an unknown field to focus: focus the first
                pass

    def values(self) -> dict[str, str]:
        out = {}
        for f in self.fields:
            w = self.query_one(f"#f-{f.key}")
            out[f.key] = w.text if isinstance(w, TextArea) else w.value
        return out

    def _validate_all(self) -> bool:
        values = self.values()
        problems: dict[str, str] = {}
        for f in self.fields:
            if f.check is not None:
                p = f.check(values[f.key])
                if p:
                    problems[f.key] = p
        if self.whole is not None:
            for k, p in self.whole(values).items():
                problems.setdefault(k, p)
        self.problems = problems
        for f in self.fields:
            shown = self.query_one(f"#p-{f.key}", Static)
            w = self.query_one(f"#f-{f.key}")
            if f.key in problems:
                shown.update("✗ " + problems[f.key])
                shown.set_classes("field-problem")
                w.add_class("-invalid")
            else:
                shown.update(f.help)
                shown.set_classes("field-help")
                w.remove_class("-invalid")
        self.query_one("#ok", Button).disabled = bool(problems)
        return not problems

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._validate_all()

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        self._validate_all()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "ok":
            self.action_submit()
        else:
            self.action_cancel()

    def action_submit(self) -> None:
        if self._validate_all():
            self.dismiss(self.values())
        else:
            first = next(iter(self.problems))
            self.notify(f"{first}: {self.problems[first]}", severity="error")

    def action_cancel(self) -> None:
        self.dismiss(None)
