"""The editor's item editing: which form opens for a step, a target, a build setting, the source, and
where a diagnostic sends the user (a form field, or the raw YAML at that line).

``ItemEditor`` is a small object the editor screen owns; it reads and changes the screen's document
through plain calls (``ed.doc``, ``ed.document.snapshot()`` before a change, ``ed._edited()`` after it) and
opens the dialogs with ``ed.app.push_screen``. Nothing here is a widget.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.widgets import OptionList

from aibtui.compiler import code_ids as C

from .document import Key
from .widgets.diagnostics import DiagnosticsPanel
from .widgets.yaml_text import YamlTextPanel

if TYPE_CHECKING:
    from .screens.editor import EditorScreen



class ItemEditor:
    """Adds, edits, duplicates, deletes and moves the editor's list items through forms."""

    def __init__(self, editor: EditorScreen) -> None:
        self.ed = editor

    def add(self, validation: bool = False) -> None:
        if self.ed.doc is None:
            return
        current = self.ed._current()
        section = current[0] if current else None
        if validation:
            self.ed.action_tab("steps")
            section = self.ed.document.validate_key()
        if section is not None and section != "distribute":
            from functools import partial

            from aibtui.onboarding.recipes import recipes_for

            from .screens.choose import ChooseScreen

            recipes = recipes_for(self.ed._os())
            if is_validate(section):
                recipes = [r for r in recipes if r.key in ("commands", "script", "file")]
                title = "Add a validation step (runs on the build VM after customizing)"
            else:
                title = "Add a step"
            at = current[1] if current and current[0] == section else None
            options = [(r.key, f"{r.title}: {r.explain}") for r in recipes]
            self.ed.app.push_screen(ChooseScreen(title, options), partial(self._add_step, section, at))
        elif section == "distribute":
            from .screens.choose import ChooseScreen

            options = [("managedImage", "Managed image: one region, quick to create VMs from"),
                       ("gallery", "Gallery image version: versioned, replicated to regions"),
                       ("vhd", "VHD: a disk file in the staging storage account")]
            self.ed.app.push_screen(ChooseScreen("Add a target", options), self._add_target)
        elif self.ed._active() == "build":
            self.edit()

    def names(self, section: Key) -> set[str]:
        key = "runOutputName" if section == "distribute" else "name"
        return {str(s.get(key)) for s in self.ed.doc.items(section) if isinstance(s, dict) and s.get(key)}

    def _add_step(self, section: Key, at: int | None, recipe_key: str | None) -> None:
        if recipe_key is None:
            return
        from aibtui.onboarding.recipes import RECIPE_BY_KEY

        from .screens.edit_forms import step_form

        form, convert = step_form(None, RECIPE_BY_KEY[recipe_key], self.ed._os(), self.names(section))
        index = len(self.ed.doc.items(section)) if at is None else at + 1

        def done(values: dict[str, str] | None) -> None:
            if values is None:
                return
            self.ed.document.snapshot()
            self.ed.doc.insert(section, index, convert(values))
            self.ed._edited()
            self.ed._select("#step-list", section, index)

        self.ed.app.push_screen(form, done)

    def _add_target(self, kind: str | None) -> None:
        if kind is None:
            return
        from .screens.edit_forms import target_form

        form, convert = target_form(None, kind, self.names("distribute"))

        def done(values: dict[str, str] | None) -> None:
            if values is None:
                return
            self.ed.document.snapshot()
            index = len(self.ed.doc.items("distribute"))
            self.ed.doc.insert("distribute", index, convert(values))
            self.ed._edited()
            self.ed._select("#target-list", "distribute", index)

        self.ed.app.push_screen(form, done)

    def edit(self, focus: str | None = None) -> None:
        if self.ed.doc is None:
            return
        tab = self.ed._active()
        current = self.ed._current()
        if current is not None:
            self.edit_item(current[0], current[1], focus)
        elif tab == "build":
            ol = self.ed.query_one("#build-list", OptionList)
            opt = ol.get_option_at_index(ol.highlighted) if ol.highlighted is not None else None
            key = (opt.id or "")[2:] if opt is not None else None
            if opt is not None and (opt.id or "").startswith("gen-"):
                self.edit_general(key[2:] if key else "")
            else:
                self.edit_build(focus or key)
        elif tab == "preview":
            self.jump_to_diagnostic()

    def edit_item(self, section: Key, index: int | None, focus: str | None = None) -> bool:
        """Open the item's form (True), or False when it is not a mapping a form can hold."""
        if index is None:
            return False
        from .screens.edit_forms import step_form, target_form

        item = self.ed.doc.items(section)[index]
        if not isinstance(item, dict):
            return False
        names = self.names(section)
        if section != "distribute":
            form, convert = step_form(item, None, self.ed._os(), names, focus)
        else:
            form, convert = target_form(item, "", names, focus)

        def done(values: dict[str, str] | None) -> None:
            if values is None:
                return
            new = convert(values)
            if new == item:
                return
            self.ed.document.snapshot()
            self.ed.doc.replace(section, index, new)
            self.ed._edited()

        self.ed.app.push_screen(form, done)
        return True

    def edit_build(self, focus: str | None) -> None:
        from aibtui.yamledit import to_plain

        from .screens.edit_forms import build_form

        build = to_plain(self.ed.doc.get("build") or {})
        if not isinstance(build, dict):
            build = {}
        form, convert = build_form(build, focus)

        def done(values: dict[str, str] | None) -> None:
            if values is None:
                return
            new = convert(values)
            if all(build.get(k) == v for k, v in new.items()):
                return
            self.ed.document.snapshot()
            for k, v in new.items():
                if build.get(k) != v:
                    self.ed.doc.set_in("build", k, v)
            self.ed._edited()

        self.ed.app.push_screen(form, done)

    def edit_general(self, key: str) -> None:
        from aibtui.onboarding import resource_ids as ids

        from .screens.form import Field, FormScreen

        if key == "source":
            self.pick_source()
            return
        check = {"location": ids.check_location, "identity": ids.check_identity}[key]
        value = self.ed.doc.get(key)
        form = FormScreen(f"Edit {key}", [Field(key, key.capitalize(), "" if value is None else str(value), check)])

        def done(values: dict[str, str] | None) -> None:
            if values is None or values[key].strip() == str(value):
                return
            self.ed.document.snapshot()
            self.ed.doc.set(key, values[key].strip())
            self.ed._edited()

        self.ed.app.push_screen(form, done)

    def duplicate(self) -> None:
        current = self.ed._current() if self.ed.doc is not None else None
        if current is None or current[1] is None:
            return
        section, index, selector = current
        assert index is not None
        item = self.ed.doc.duplicate_of(section, index)
        if not isinstance(item, dict):
            return
        key = "runOutputName" if section == "distribute" else "name"
        names = self.names(section)
        base = str(item.get(key) or item.get("name") or "copy")
        n = 2
        while f"{base}-{n}" in names:
            n += 1
        item.pop("name" if key == "runOutputName" else "", None)
        item[key] = f"{base}-{n}"
        if key == "name":  # the name first, as people write it
            item = {"name": item.pop("name"), **item}
        self.ed.document.snapshot()
        self.ed.doc.insert(section, index + 1, item)
        self.ed._edited()
        self.ed._select(selector, section, index + 1)

    def delete(self) -> None:
        current = self.ed._current() if self.ed.doc is not None else None
        if current is None or current[1] is None:
            return
        section, index, _selector = current
        assert index is not None
        item = self.ed.doc.items(section)[index]
        name = item.get("name") or item.get("runOutputName") or f"#{index + 1}" if isinstance(item, dict) else "?"
        self.ed.document.snapshot()
        self.ed.doc.remove(section, index)
        self.ed._edited()
        self.ed.notify(f"deleted '{name}' (u or Ctrl+Z undoes)", timeout=4)

    def move(self, delta: int) -> None:
        current = self.ed._current() if self.ed.doc is not None else None
        if current is None or current[1] is None:
            return
        section, index, selector = current
        assert index is not None
        to = index + delta
        if not 0 <= to < len(self.ed.doc.items(section)):
            return
        self.ed.document.snapshot()
        self.ed.doc.move(section, index, to)
        self.ed._edited()
        self.ed._select(selector, section, to)

    def undo(self) -> None:
        if self.ed.doc is None:
            return
        if not self.ed.document.undo():
            self.ed.notify("nothing to undo")
            return
        self.ed._edited()

    def pick_source(self) -> None:
        if self.ed.doc is None:
            return
        from .screens.source_picker import SourcePickerScreen

        self.ed.app.push_screen(SourcePickerScreen(near=self.ed.path), self._source_picked)

    def _source_picked(self, choice: Any) -> None:
        if choice is None:
            return
        self.ed.document.snapshot()
        if choice.kind == "profile":
            from .source_switch import switch_to_profile

            switched = switch_to_profile(self.ed.doc.text(), self.ed.doc.data, choice.value)
            if switched is not None:  # source/os/generation (and their comments) out, extends in their place
                self.ed.doc.restore(switched)
                self.ed._edited()
                self.ed.notify(f"source: the {choice.value} profile (it sets the image, OS and generation)")
                return
            ext = self.ed.doc.get("extends")
            if isinstance(ext, list) and ext:
                items = [str(e) for e in ext]
                base = next((i for i, e in enumerate(items) if _is_base_profile(e)), None)
                if base is None:
                    items.insert(0, choice.value)
                else:
                    items[base] = choice.value
                from aibtui.yamledit import to_node

                node = to_node(items)
                node.fa.set_flow_style()
                self.ed.doc.data["extends"] = node
            else:
                self.ed.doc.set("extends", choice.value)
            self.ed.doc.set("source", None)
        else:
            self.ed.doc.set("source", choice.value)
            if choice.os and self.ed.doc.get("os") is None and not self.ed.doc.get("extends"):
                self.ed.doc.set("os", choice.os.lower())
        self.ed._edited()
        self.ed.notify(f"source: {choice.value}")

    def jump_to_diagnostic(self, d: Any = None) -> None:
        from .project import locate

        d = d if d is not None else self.ed.query_one(DiagnosticsPanel).current
        if self.ed.result is None or d is None:
            return
        if d.span is None or d.span.file != str(self.ed.path):
            where = f"{Path(d.span.file).name}:{d.span.line}" if d.span else "the template"
            self.ed.notify(f"{d.code} is in {where}: {d.message}", timeout=6)
            if d.span is None:
                self.ed.action_tab("yaml")
            return
        if self.ed.doc is None or self.ed.raw_pending is not None:  # only the text can hold it now
            self.jump_to_text(d.span.line, d.span.col)
            return
        loc = locate(self.ed.doc.data, d.span.line, d.span.col)
        if loc.section in ("customize", "distribute", "validate") and loc.index is not None:
            tab = "targets" if loc.section == "distribute" else "steps"
            list_key: Key = loc.path if len(loc.path) > 1 else loc.section
            self.ed.action_tab(tab)
            self.ed._select("#step-list" if tab == "steps" else "#target-list", list_key, loc.index)
            focus = loc.key
            if d.code == C.AIB600:  # the unpinned download: the checksum field (or a local copy)
                focus = "sha256"
            if not self.edit_item(list_key, loc.index, focus):
                self.jump_to_text(d.span.line, d.span.col)
        elif loc.section == "build":
            self.ed.action_tab("build")
            self.edit_build(loc.key)
        elif loc.section in ("location", "identity"):
            self.ed.action_tab("build")
            self.edit_general(loc.section)
        elif loc.section in ("source", "extends"):
            self.ed.action_tab("build")
            self.pick_source()
        else:  # no form holds it: the raw YAML at that line
            self.jump_to_text(d.span.line, d.span.col)

    def jump_to_text(self, line: int, col: int) -> None:
        self.ed.action_tab("yaml")
        self.ed.query_one(YamlTextPanel).goto(line, col)


def is_validate(key: Key) -> bool:
    return (key if isinstance(key, str) else key[0]) == "validate"


def _is_base_profile(name: str) -> bool:
    return not name.startswith(("linux-", "windows-cleanup", "windows-defaults", "windows-update"))
