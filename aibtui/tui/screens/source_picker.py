"""The source picker: built-in profiles first, then marketplace publishers > offers > SKUs > versions.

Type to filter (fuzzy, instant); Enter opens a level or picks; Backspace on an empty filter goes up;
a pasted managed image or gallery version id is offered as the source. Levels load in workers from
the provider's images API (the local service's catalog, or Azure).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from ..deliver import to_screen
from ..fuzzy import FuzzyIndex
from ..messages import ImagesLoaded
from ..provider_adapter import ImageEntry
from ..widgets.rows import row

SHOWN = 60  # rows drawn at once (more than a screenful); the filter narrows the rest


@dataclass(frozen=True)
class SourceChoice:
    kind: str  # profile | urn | id
    value: str
    os: str = ""
    generation: str = ""


def profile_entries(near: Path | None) -> list[ImageEntry]:
    """Base-image profiles (those that set a source), built-in ones first."""
    from aibtui.compiler.resolve import list_profiles

    rows: list[tuple[bool, ImageEntry]] = []
    for p in list_profiles(near=near):
        try:
            text = "\n" + p.path.read_text(encoding="utf-8")
        except OSError:
            continue
        if "\nsource:" not in text:
            continue
        os_family = "Windows" if "\nos: windows" in text else "Linux"
        gen = "V2" if "\ngeneration: V2" in text else "V1" if "\ngeneration: V1" in text else ""
        rows.append((not p.builtin, ImageEntry(p.name, p.name, "profile", os_family, gen, p.description or "")))
    return [e for _, e in sorted(rows, key=lambda r: (r[0], r[1].label))]


class SourcePickerScreen(ModalScreen[SourceChoice | None]):
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="picker.cancel"),
        Binding("down", "cursor(1)", "Down", show=False, id="picker.down"),
        Binding("up", "cursor(-1)", "Up", show=False, id="picker.up"),
        Binding("pagedown", "cursor(10)", "Page down", show=False, id="picker.pagedown"),
        Binding("pageup", "cursor(-10)", "Page up", show=False, id="picker.pageup"),
        Binding("backspace", "up_level", "Up a level", show=False, id="picker.up_level"),
    ]

    def __init__(self, *, near: Path | None = None, entries: list[ImageEntry] | None = None,
                 with_profiles: bool = True) -> None:
        super().__init__()
        self.near = near
        self.parts: tuple[str, ...] = ()
        self.preloaded = entries
        self.with_profiles = with_profiles
        self.profiles: list[ImageEntry] = []
        self.level: list[ImageEntry] = []
        self.entries: list[ImageEntry] = []
        self.index = FuzzyIndex([])
        self.shown: list[int] = []
        self.loading = False
        self.sku: ImageEntry | None = None  # the SKU whose versions are listed
        self.labels: dict[int, Text] = {}

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="picker"):
            yield Static("Choose the base image", classes="dialog-title")
            yield Static("", id="crumb")
            yield Input(placeholder="type to filter · paste a managed image or gallery version id", id="filter")
            yield OptionList(id="images")
            yield Static("", id="picker-status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#images", OptionList).can_focus = False  # keys stay in the filter; the list follows
        self.query_one("#filter", Input).focus()
        if self.preloaded is not None:
            self.level = list(self.preloaded)
            self._rebuild()
            return
        if self.with_profiles:
            self._load_profiles()
        self._load(())

    # -- loading -----------------------------------------------------------------------------------------
    @work(thread=True, group="profiles")
    def _load_profiles(self) -> None:
        try:
            rows = profile_entries(self.near)
        except OSError:
            rows = []
        to_screen(self, self._profiles_loaded, rows)

    def _profiles_loaded(self, rows: list[ImageEntry]) -> None:
        self.profiles = rows
        if not self.parts:
            self._rebuild()

    def _load(self, parts: tuple[str, ...]) -> None:
        self.loading = True
        self._status(f"loading {'publishers' if not parts else ':'.join(parts)} ...")
        self._fetch(parts)

    @work(thread=True, exclusive=True, group="images")
    def _fetch(self, parts: tuple[str, ...]) -> None:
        from ..provider_adapter import AdapterError

        try:
            entries = self.app.adapter.image_level(parts)
        except AdapterError as exc:
            self.post_message(ImagesLoaded(parts, [], str(exc)))
            return
        self.post_message(ImagesLoaded(parts, entries))

    def on_images_loaded(self, message: ImagesLoaded) -> None:
        self.loading = False
        if message.error:
            self._status(Text(f"✗ {message.error.splitlines()[0]}", style="red"))
            if message.parts:
                return
        self.parts = message.parts
        self.level = message.entries
        self.query_one("#filter", Input).value = ""
        self.query_one("#filter", Input).focus()
        self._rebuild()

    # -- filtering ---------------------------------------------------------------------------------------
    def _rebuild(self) -> None:
        self.entries = (self.profiles if not self.parts else []) + self.level
        self.labels: dict[int, Text] = {}  # rendered rows, by entry index
        self.index = FuzzyIndex([f"{e.label} {e.os} {e.detail}" if e.kind in ("profile", "sku") else e.label
                                 for e in self.entries])
        crumb = "Profiles and marketplace publishers" if not self.parts else "Marketplace › " + " › ".join(self.parts)
        self.query_one("#crumb", Static).update(Text(crumb, style="bold"))
        self.apply_filter(self.query_one("#filter", Input).value)

    def apply_filter(self, query: str) -> None:
        ol = self.query_one("#images", OptionList)
        if query.strip().startswith("/subscriptions/"):
            from aibtui.onboarding.resource_ids import check_source_id

            problem = check_source_id(query.strip())
            ol.clear_options()
            if problem:
                ol.add_option(Option(Text(f"✗ {problem}", style="red"), disabled=True))
            else:
                kind = "gallery image version" if "/galleries/" in query else "managed image"
                ol.add_option(Option(row(("use this ", ""), (kind, "bold"), " as the source"), id="by-id"))
                ol.highlighted = 0
            self.shown = []
            return
        shown = self.index.filter(query, SHOWN)
        if shown == self.shown and ol.option_count == len(shown):
            self._status(f"{len(shown)} of {len(self.entries)} shown")
            return
        self.shown = shown
        labels = self.labels
        for i in shown:
            if i not in labels:
                labels[i] = self._label(self.entries[i])
        ol.set_options([Option(labels[i], id=str(i)) for i in shown])
        if self.shown:
            ol.highlighted = 0
        total = len(self.entries)
        more = f" (first {SHOWN})" if len(self.shown) == SHOWN and total > SHOWN else ""
        self._status(f"{len(self.shown)} of {total} shown{more} · Enter opens/picks · Backspace goes up · Esc cancels")

    def _label(self, e: ImageEntry) -> Text:
        if e.kind == "profile":
            return row(("★ ", "yellow"), (f"{e.label:<22}", "bold"), (f" {e.os:<7}", "cyan"),
                                 (f" {e.generation:<3} ", "magenta"), (e.detail[:60], "dim"))
        if e.kind == "sku":
            gen = f"Gen{e.generation.lstrip('Vv')}" if e.generation else ""
            return row((f"{e.label:<34}", "bold"), (f" {e.os:<8}", "cyan"), (f" {gen:<5}", "magenta"),
                                 (f" {e.detail}", "dim"))
        if e.kind == "version":
            return row((e.label, "bold"), (f"  {e.detail}", "dim"))
        return row((e.label, "bold"), ("  ›", "dim"))

    def _status(self, text: str | Text) -> None:
        self.query_one("#picker-status", Static).update(text)

    @on(Input.Changed, "#filter")
    def _changed(self, event: Input.Changed) -> None:
        self.apply_filter(event.value)

    # -- choosing ----------------------------------------------------------------------------------------
    @on(Input.Submitted, "#filter")
    def _submitted(self, event: Input.Submitted) -> None:
        self._choose()

    @on(OptionList.OptionSelected, "#images")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._choose()

    def _choose(self) -> None:
        ol = self.query_one("#images", OptionList)
        if ol.highlighted is None or self.loading:
            return
        opt = ol.get_option_at_index(ol.highlighted)
        if opt.disabled or opt.id is None:
            return
        if opt.id == "by-id":
            self.dismiss(SourceChoice("id", self.query_one("#filter", Input).value.strip()))
            return
        entry = self.entries[int(opt.id)]
        if entry.kind == "profile":
            self.dismiss(SourceChoice("profile", entry.value, entry.os.lower(), entry.generation))
        elif entry.kind == "version":
            sku = self.sku if self.sku is not None and self.sku.value == ":".join(self.parts) else None
            self.dismiss(SourceChoice("urn", entry.value, sku.os.lower() if sku else "",
                                      sku.generation if sku else ""))
        else:
            if entry.kind == "sku":
                self.sku = entry
            self._load(tuple(entry.value.split(":")))

    def action_cursor(self, delta: int) -> None:
        ol = self.query_one("#images", OptionList)
        if ol.option_count == 0:
            return
        current = ol.highlighted if ol.highlighted is not None else 0
        if abs(delta) == 1:  # the arrows wrap at both ends
            ol.highlighted = (current + delta) % ol.option_count
        else:
            ol.highlighted = max(0, min(ol.option_count - 1, current + delta))

    def action_up_level(self) -> None:
        f = self.query_one("#filter", Input)
        if f.value:
            f.action_delete_left()
            return
        if self.parts and not self.loading:
            self._load(self.parts[:-1])

    def action_cancel(self) -> None:
        self.dismiss(None)
