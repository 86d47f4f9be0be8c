"""The editor: the customizer arranger, the targets, the build settings and the compile preview.

The document is a round-trip YAML (``aibtui.yamledit``): every edit changes it in memory, pushes
the previous text on the undo stack, and compiles the new text in a worker; the preview and the
diagnostics follow. Ctrl+S writes the file back atomically and never overwrites a file someone
else changed (the conflict is shown); a file changed on disk while there are no edits is reloaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, OptionList, Static, TabbedContent, TabPane

from ..deliver import to_screen
from ..document import EditorDocument, Key
from ..editing import ItemEditor, is_validate
from ..messages import Compiled, DiagnosticChosen, DiskChanged, EditRequested, TextEdited
from ..saving import SaveFlow
from ..widgets.diagnostics import DiagnosticsPanel
from ..widgets.distribute import TargetsPanel
from ..widgets.preview import CompiledPreview
from ..widgets.source import SourcePanel
from ..widgets.steps import StepsPanel
from ..widgets.yaml_text import YamlTextPanel

TABS = ("steps", "targets", "build", "preview", "yaml")


class EditorScreen(Screen[None]):
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="editor.save"),
        Binding("a", "add", "Add", id="editor.add"),
        Binding("v", "add(True)", "Add validation", id="editor.add_validation", show=False),
        Binding("e", "edit", "Edit", id="editor.edit", show=False),
        Binding("d", "duplicate", "Duplicate", id="editor.duplicate", show=False),
        Binding("delete,x", "delete", "Delete", id="editor.delete"),
        Binding("ctrl+z,u", "undo", "Undo", id="editor.undo"),
        Binding("shift+up,K", "move(-1)", "Move up", id="editor.move_up", show=False),
        Binding("shift+down,J", "move(1)", "Move down", id="editor.move_down", show=False),
        Binding("s", "pick_source", "Source", id="editor.source"),
        Binding("b", "build", "Build", id="editor.build"),
        Binding("B", "build_on", "Build on ...", id="editor.build_on", show=False),
        Binding("1", "tab('steps')", "Steps", id="editor.tab_steps", show=False),
        Binding("2", "tab('targets')", "Targets", id="editor.tab_targets", show=False),
        Binding("3", "tab('build')", "Build settings", id="editor.tab_build", show=False),
        Binding("4,p", "tab('preview')", "Preview", id="editor.tab_preview", show=False),
        Binding("5,y", "tab('yaml')", "YAML", id="editor.tab_yaml", show=False),
        Binding("ctrl+r", "reload", "Reload", id="editor.reload", show=False),
    ]
    PALETTE = (
        ("Save", "write the file back (comments and formatting kept)", "save"),
        ("Build", "build this template on the provider and watch it", "build"),
        ("Build on a provider ...", "local (no Azure needed) or azure (your az login)", "build_on"),
        ("Pick the source image", "profiles and marketplace images", "pick_source"),
        ("Undo", "undo the last edit", "undo"),
        ("Reload from disk", "drop the edits and read the file again", "reload"),
        ("Preview", "the compiled JSON and the diagnostics", "tab('preview')"),
        ("Edit the raw YAML", "the whole file as text: every error can be fixed there", "tab('yaml')"),
    )

    def __init__(self, path: Path, *, build_with: str | None = None) -> None:
        super().__init__()
        self.path = Path(path)
        self.build_with = build_with  # start a build on this provider once loaded (the onboarding's offer)
        self.document = EditorDocument(self.path)  # the YAML, its undo stack, text that does not parse yet
        self.result: Any = None
        self.generation = 0
        self.conflict = False
        self.build_after_save = False
        self.build_provider: str | None = None  # None: the app's provider
        self.items = ItemEditor(self)  # the forms: add, edit, duplicate, delete, move, source, diagnostic jumps
        self.files = SaveFlow(self)  # saving, the conflict prompt, reloading, watching the disk

    # -- layout -------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="file-bar")
        with TabbedContent(id="tabs", initial="steps"):
            with TabPane("Steps", id="steps"):
                yield StepsPanel(id="steps-panel")
            with TabPane("Targets", id="targets"):
                yield TargetsPanel(id="targets-panel")
            with TabPane("Build", id="build"):
                yield SourcePanel(id="source-panel")
            with TabPane("Preview", id="preview"):
                yield CompiledPreview(id="json-scroll")
                yield DiagnosticsPanel(id="diagnostics")
            with TabPane("YAML", id="yaml"):
                yield YamlTextPanel(id="yaml-panel")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.sub_title = self.path.name
        self.load()
        self.set_interval(2.0, self.files.check_disk)

    # the document's state, as the forms, the file flow, the app and the tests read it
    @property
    def doc(self) -> Any:
        return self.document.doc

    @property
    def undo_stack(self) -> list[str]:
        return self.document.undo_stack

    @property
    def raw_pending(self) -> str | None:
        return self.document.raw_pending

    @property
    def dirty(self) -> bool:
        """Edits not written to the file yet."""
        return self.document.dirty

    def save_now(self) -> bool:
        """Save at once (before quitting or switching files): True when the file holds the edits."""
        return self.files.save_now()

    # -- loading, compiling -----------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="load")
    def load(self) -> None:
        from aibtui.yamledit import YamlDoc, YamlEditError

        from ..recent import remember

        remember(getattr(self.app, "folder", self.path.parent), self.path)

        try:
            doc = YamlDoc.load(self.path)
        except YamlEditError as exc:
            from aibtui.yamledit import Fingerprint

            try:
                raw = self.path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                raw = None
            to_screen(self, self._load_failed, str(exc), raw, Fingerprint.of_file(self.path))
            return
        to_screen(self, self._loaded, doc)

    def _load_failed(self, problem: str, raw: str | None = None, fingerprint: Any = None) -> None:
        self.conflict = True  # stop watching the disk until the user reloads (Ctrl+R) or saves (Ctrl+S asks)
        self.query_one("#file-bar", Static).update(Text(f"✗ {problem}", style="bold red"))
        if raw is None:
            self.notify(problem, severity="error", timeout=8)
            return
        # the file is not a YAML mapping we can edit in forms: fix it as text in the YAML tab
        self.document.unparsable(raw, fingerprint)
        self.conflict = False
        self.action_tab("yaml")
        self._compile_text(raw)
        self.notify(f"{problem}; fix it in the YAML tab", severity="error", timeout=8)

    def _loaded(self, doc: Any) -> None:
        self.document.loaded(doc)
        self.conflict = False
        self.refresh_bindings()
        self.refresh_lists()
        self.query_one("#step-list", OptionList).focus()
        self.compile()
        if self.build_with is not None:
            provider, self.build_with = self.build_with, None
            self.app.open_build(path=self.path, provider=provider)

    def compile(self) -> None:
        if self.doc is None:
            return
        self._compile_text(self.doc.text())

    def _compile_text(self, text: str) -> None:
        self.generation += 1
        self._compile(text, self.generation)

    @work(thread=True, exclusive=True, group="compile")
    def _compile(self, text: str, generation: int) -> None:
        from ..project import compile_text

        result = compile_text(text, self.path)
        self.post_message(Compiled(result, generation))

    def on_compiled(self, message: Compiled) -> None:
        if message.generation != self.generation:
            return  # an older text's result
        self.result = message.result
        self.refresh_lists()
        self._show_preview()

    # -- lists ---------------------------------------------------------------------------------------
    def _status_text(self) -> Text:
        parts: list[tuple[str, str] | str] = [(self.path.name, "bold")]
        if self.doc is not None and self.doc.dirty:
            parts.append((" [modified]", "yellow"))
        if self.conflict:
            parts.append((" [changed on disk: Ctrl+R reloads, Ctrl+S asks]", "bold red"))
        res = self.result
        if res is not None:
            errors = sum(1 for d in res.diagnostics if d.severity.value == "error")
            warnings = sum(1 for d in res.diagnostics if d.severity.value == "warning")
            if errors:
                parts.append((f"  ✗ {errors} error{'s' if errors != 1 else ''}", "bold red"))
            else:
                parts.append(("  ✓ compiles", "green"))
            if warnings:
                parts.append((f", {warnings} warning{'s' if warnings != 1 else ''}", "yellow"))
            parts.append(("  (4: preview)", "dim"))
        return Text.assemble(*parts)

    def _show_preview(self) -> None:
        res = self.result
        if res is None:
            return
        self.query_one(CompiledPreview).show(res)
        self.query_one(DiagnosticsPanel).show(res.diagnostics, str(self.path))

    # -- lists ---------------------------------------------------------------------------------------
    def refresh_lists(self) -> None:
        """Each panel draws its part of the document (and keeps its highlight)."""
        if self.doc is None:
            return
        self.query_one("#file-bar", Static).update(self._status_text())
        self.query_one(StepsPanel).show(self.doc, self.result, self.document.validate_key())
        self.query_one(TargetsPanel).show(self.doc, self.result)
        self.query_one(SourcePanel).show(self.doc)

    # -- helpers ---------------------------------------------------------------------------------------
    def _active(self) -> str:
        return self.query_one("#tabs", TabbedContent).active or "steps"

    def _current(self) -> tuple[Key, int | None, str] | None:
        """(list key, index of the highlighted item or None, list selector) in the Steps/Targets tabs."""
        tab = self._active()
        if tab not in ("steps", "targets"):
            return None
        selector = "#step-list" if tab == "steps" else "#target-list"
        ol = self.query_one(selector, OptionList)
        opt = ol.get_option_at_index(ol.highlighted) if ol.highlighted is not None else None
        oid = (opt.id or "") if opt is not None else ""
        if tab == "targets":
            return "distribute", (int(oid[4:]) if oid.startswith("own-") else None), selector
        if oid.startswith("val-") and oid[4:].isdigit():
            return self.document.validate_key(), int(oid[4:]), selector
        return "customize", (int(oid[4:]) if oid.startswith("own-") else None), selector

    def _select(self, selector: str, key: Key, index: int) -> None:
        prefix = "val-" if is_validate(key) else "own-"
        ol = self.query_one(selector, OptionList)
        for i in range(ol.option_count):
            if ol.get_option_at_index(i).id == f"{prefix}{index}":
                ol.highlighted = i
                return

    def _edited(self) -> None:
        self.document.raw_pending = None
        self.refresh_lists()
        self.compile()
        self.refresh_bindings()
        if self._active() == "yaml":
            self._fill_yaml()

    def _os(self) -> str | None:
        if self.result is not None and self.result.os:
            return self.result.os
        value = self.doc.get("os") if self.doc is not None else None
        return str(value) if value else None

    # -- which keys work now (the footer and Help show only those) -----------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("add", "edit", "delete", "duplicate", "move", "undo", "build", "build_on", "save",
                      "pick_source") and self.doc is None:
            return False
        tab = self._active() if self.is_mounted else "steps"
        if action in ("delete", "duplicate", "move") and tab not in ("steps", "targets"):
            return False
        if action == "add" and tab not in ("steps", "targets") and not parameters:
            return False
        if tab == "yaml" and action in ("add", "edit", "delete", "duplicate", "move", "pick_source", "build",
                                        "build_on", "tab") and len(parameters) != 1:
            return False  # keys type text in the YAML tab
        if action == "undo" and not self.undo_stack:
            return False  # nothing to undo yet (keeps the footer short at 80 columns)
        return True

    @on(TabbedContent.TabActivated)
    def _tab_changed(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id == "yaml":
            self._fill_yaml()
        self.refresh_bindings()

    # -- actions -----------------------------------------------------------------------------------------
    def action_tab(self, tab: str) -> None:
        self.query_one("#tabs", TabbedContent).active = tab
        if tab == "yaml":
            self._fill_yaml()
        target = {"steps": "#step-list", "targets": "#target-list", "build": "#build-list",
                  "preview": "#diag-list", "yaml": "#yaml-text"}[tab]
        self.query_one(target).focus()

    def action_add(self, validation: bool = False) -> None:
        self.items.add(validation)

    def action_edit(self, focus: str | None = None) -> None:
        self.items.edit(focus)

    def action_duplicate(self) -> None:
        self.items.duplicate()

    def action_delete(self) -> None:
        self.items.delete()

    def action_move(self, delta: int) -> None:
        self.items.move(delta)

    def action_undo(self) -> None:
        self.items.undo()

    def action_pick_source(self) -> None:
        self.items.pick_source()

    # -- messages from the panels ----------------------------------------------------------------------
    def on_edit_requested(self, message: EditRequested) -> None:
        self.action_edit()

    def on_diagnostic_chosen(self, message: DiagnosticChosen) -> None:
        self.items.jump_to_diagnostic(message.diagnostic)

    # -- the raw YAML tab ------------------------------------------------------------------------------------
    def _fill_yaml(self) -> None:
        """Show the document's text in the YAML tab (unless the tab holds text that does not parse yet)."""
        text = self.document.text()
        if text is not None:
            self.query_one(YamlTextPanel).show(text)

    def on_text_edited(self, message: TextEdited) -> None:
        panel = self.query_one(YamlTextPanel)
        problem = self.document.apply_text(message.text)
        if problem is not None:
            panel.say(False, f"✗ {problem} (not applied yet; the preview shows where)")
            self._compile_text(message.text)
            self.refresh_lists_safe()
            return
        panel.say(True, "✓ applied · Ctrl+S saves · Ctrl+Z undoes")
        self.refresh_lists()
        self.compile()
        self.refresh_bindings()

    def refresh_lists_safe(self) -> None:
        if self.doc is not None:
            self.refresh_lists()
        else:
            self.query_one("#file-bar", Static).update(Text.assemble((self.path.name, "bold"),
                                                                      (" [modified: YAML does not parse]", "yellow")))

    # -- saving, disk (aibtui/tui/saving.py) ---------------------------------------------------------------
    def action_save(self, force: bool = False) -> None:
        self.files.save(force)

    def action_reload(self) -> None:
        self.files.reload()

    def on_disk_changed(self, message: DiskChanged) -> None:
        self.files.disk_changed()

    # -- build ------------------------------------------------------------------------------------------------
    def action_build_on(self) -> None:
        from .choose import ChooseScreen

        def chosen(provider: str | None) -> None:
            if provider is not None:
                self.action_build(provider)

        self.app.push_screen(ChooseScreen("Build on", [
            ("local", "local: the embedded service on 127.0.0.1 (no Azure needed; its log says what it really ran)"),
            ("azure", "azure: Azure Image Builder with your `az login` (subscription and group from az)")]), chosen)

    def action_build(self, provider: str | None = None) -> None:
        if self.doc is None:
            return
        self.build_provider = provider
        if self.result is not None and not self.result.ok:
            self.notify("the template has errors: fix them first (4 shows them)", severity="error")
            return
        if self.doc.dirty:
            self.build_after_save = True
            self.action_save()
            return
        self.app.open_build(path=self.path, provider=provider)


