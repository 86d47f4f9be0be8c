"""The guided onboarding: from "which base image?" to a commented, compiling ``*.aib.yaml``.

Each page explains its choice in a sentence or two. The answers fill ``aibtui.onboarding.Answers``
(the same as `aibtui init`), which writes the file; then it is compiled and a local build is offered.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.syntax import Syntax
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import Button, ContentSwitcher, Footer, Header, Input, OptionList, SelectionList, Static
from textual.widgets.option_list import Option

from aibtui.onboarding import resource_ids as ids
from aibtui.onboarding.answers import Answers, Output, default_outputs, gallery_image_id
from aibtui.onboarding.recipes import make_step, recipes_for

from ..deliver import to_screen
from ..messages import ProjectWritten
from ..widgets.lists import KeyList
from ..widgets.rows import row

PAGES = ("name", "base", "location", "identity", "steps", "outputs", "review", "done")
TITLES = {
    "name": "1/7 Name",
    "base": "2/7 Base image",
    "location": "3/7 Location",
    "identity": "4/7 Identity",
    "steps": "5/7 Steps",
    "outputs": "6/7 Outputs",
    "review": "7/7 Review and write",
    "done": "Done",
}
EXPLAIN = {
    "name": "The template's resource name in Azure, and the file's name (NAME.aib.yaml). Letters, digits, "
            "'-', '_' and '.'.",
    "base": "The image AIB starts from. A built-in profile sets the marketplace image, its OS family and "
            "Hyper-V generation for you; or browse the marketplace.",
    "location": "The Azure region the build VM runs in. Outputs go there too unless you add regions.",
    "identity": ids.IDENTITY_EXPLAINED,
    "steps": "What to do on the build VM, in order. Space selects; each is added with starter values you "
             "can edit later in the editor (step names must be unique).",
    "outputs": "Where the finished image goes. A managed image is the quickest; a gallery image version is "
               "versioned and replicated; a VHD is a disk file.",
    "review": "This is the file that will be written. Ctrl+S (or Write) writes it, then it is compiled.",
    "done": "",
}


class ChoiceList(SelectionList[str]):
    """The wizard's multiple choices: Space toggles the highlighted item, Enter goes on to the next page.
    Each item reads "[x]" or "[ ]" as well: the state is not shown by colour alone."""

    BINDINGS = [Binding("enter", "screen.next", "Next page", show=False),
                Binding("j", "cursor_down", "Down", show=False), Binding("k", "cursor_up", "Up", show=False)]

    def __init__(self, *selections: Any, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(*selections, id=id)
        self._plain: dict[Any, str] = {}

    def on_mount(self) -> None:
        self.refresh_marks()

    def refresh_marks(self) -> None:
        chosen = set(self.selected)
        for i in range(self.option_count):
            opt = self.get_option_at_index(i)
            value = getattr(opt, "value", i)
            plain = self._plain.setdefault(value, str(opt.prompt))
            # Text, not a string: "[x]" would be read as markup and vanish
            self.replace_option_prompt_at_index(i, Text(f"{'[x]' if value in chosen else '[ ]'} {plain}"))

    def on_selection_list_selected_changed(self, event: SelectionList.SelectedChanged) -> None:
        self.refresh_marks()  # not stopped: the screen validates too


class OnboardingScreen(Screen[None]):
    BINDINGS = [
        Binding("ctrl+n", "next", "Next", id="onboarding.next"),
        Binding("escape", "back", "Back", id="onboarding.back"),
        Binding("ctrl+s", "write", "Write", id="onboarding.write", show=False),
    ]

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder
        self.answers = Answers(name=_default_name(folder))
        self.page = 0
        self._done_text = Text()
        self.profiles: list[Any] = []
        self.written: Path | None = None
        self.existing: set[str] = set()  # names of the *.aib.yaml files already here (scanned in a worker)

    # -- layout -------------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        a = self.answers
        yield Header()
        with Vertical(id="wizard"):
            yield Static("", id="wizard-title")
            yield Static("", id="wizard-explain", classes="explain")
            with ContentSwitcher(initial="page-name", id="pages"):
                with Vertical(id="page-name"):
                    yield Input(a.name, id="name", select_on_focus=False)
                    yield Static("", id="name-problem", classes="field-problem")
                with Vertical(id="page-base"):
                    yield KeyList(Option("loading profiles ...", disabled=True), id="bases")
                with Vertical(id="page-location"):
                    yield Input(a.location, id="location", select_on_focus=False)
                    yield Static("", id="location-problem", classes="field-problem")
                with VerticalScroll(id="page-identity"):
                    yield Input(a.identity, id="identity", select_on_focus=False)
                    yield Static("", id="identity-problem", classes="field-problem")
                    yield Static("", id="az-commands", classes="commands")
                with Vertical(id="page-steps"):
                    yield ChoiceList(id="recipes")
                with VerticalScroll(id="page-outputs"):
                    yield ChoiceList(("Managed image", "managedImage", True),
                                     ("Gallery image version", "gallery"), ("VHD", "vhd"), id="output-kinds")
                    yield Static("Managed image id", classes="field-label")
                    yield Input("", id="image-id", select_on_focus=False)
                    yield Static("", id="image-id-problem", classes="field-problem")
                    yield Static("Gallery image definition id", classes="field-label")
                    yield Input("", id="gallery-id", select_on_focus=False)
                    yield Static("", id="gallery-id-problem", classes="field-problem")
                with VerticalScroll(id="page-review"):
                    yield Static("", id="yaml-preview")
                with Vertical(id="page-done"):
                    yield Static("", id="done-text")
                    with Horizontal(classes="buttons"):
                        yield Button("Build locally (b)", id="build-local", variant="primary", compact=True)
                        yield Button("Open in the editor (e)", id="open-editor", compact=True)
            with Horizontal(classes="buttons", id="wizard-buttons"):
                yield Button("Back", id="back", compact=True)
                yield Button("Next", id="next", variant="primary", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "new template"
        self._load_profiles()
        self._show()

    @work(thread=True, group="profiles")
    def _load_profiles(self) -> None:
        from .source_picker import profile_entries

        try:
            existing = {p.name[: -len(".aib.yaml")] for p in self.folder.glob("*.aib.yaml")}
        except OSError:
            existing = set()
        self.app.call_from_thread(setattr, self, "existing", existing)

        try:
            rows = profile_entries(self.folder)
        except OSError:
            rows = []
        to_screen(self, self._profiles_loaded, rows)

    def _profiles_loaded(self, rows: list[Any]) -> None:
        self.profiles = rows
        ol = self.query_one("#bases", OptionList)
        ol.clear_options()
        for i, e in enumerate(rows):
            ol.add_option(Option(row((f"{e.label:<22}", "bold"), (f" {e.os:<7}", "cyan"),
                                               (f" {e.generation:<3} ", "magenta"), (e.detail[:70], "dim")), id=str(i)))
        ol.add_option(Option(row(("Browse the marketplace ...", "bold yellow"),
                                           ("  publishers › offers › SKUs › versions", "dim")), id="marketplace"))
        chosen = next((i for i, e in enumerate(rows) if e.value == self.answers.profile), 0)
        ol.highlighted = chosen

    # -- pages ------------------------------------------------------------------------------------------------
    @property
    def page_id(self) -> str:
        return PAGES[self.page]

    def _show(self) -> None:
        pid = self.page_id
        self.refresh_bindings()
        self.query_one("#pages", ContentSwitcher).current = f"page-{pid}"
        self.query_one("#wizard-title", Static).update(Text(TITLES[pid], style="bold"))
        self.query_one("#wizard-explain", Static).update(EXPLAIN[pid])
        self.query_one("#wizard-buttons").display = pid != "done"
        self.query_one("#next", Button).label = "Write (Ctrl+S)" if pid == "review" else "Next (Ctrl+N)"
        self.query_one("#back", Button).disabled = self.page == 0 and not self._can_leave()
        self.query_one("#back", Button).label = "Back (Esc)" if self.page or not self._can_leave() else "Close (Esc)"
        if pid == "identity":
            self._show_commands()
        if pid == "steps":
            self._fill_recipes()
        if pid == "outputs":
            self._fill_outputs()
        if pid == "review":
            self.query_one("#yaml-preview", Static).update(Syntax(self._yaml(), "yaml", theme="ansi_dark",
                                                                  background_color="default"))
        focus = {"name": "#name", "base": "#bases", "location": "#location", "identity": "#identity",
                 "steps": "#recipes", "outputs": "#output-kinds", "review": "#next", "done": "#build-local"}[pid]
        self.query_one(focus).focus()
        self._validate()

    def _show_commands(self) -> None:
        parts = ids.identity_parts(self.query_one("#identity", Input).value)
        rg, name = (parts[1], parts[2]) if parts else ("rg-images", "id-aib")
        cmds = ids.az_commands(rg, name, self.answers.location)
        text = Text("Create it (and its role on the resource group) with:\n", style="bold")
        for c in cmds:
            text.append(f"  {c}\n", style="")
        text.append("The local provider accepts any id of the right form.", style="dim")
        self.query_one("#az-commands", Static).update(text)

    def _fill_recipes(self) -> None:
        sl = self.query_one("#recipes", SelectionList)
        if sl.option_count:
            return
        for r in recipes_for(self.answers.os):
            sl.add_option((f"{r.title}: {r.explain}", r.key, r.key == "commands"))
        sl.highlighted = 0
        if isinstance(sl, ChoiceList):
            sl.refresh_marks()

    def _fill_outputs(self) -> None:
        image = self.query_one("#image-id", Input)
        gallery = self.query_one("#gallery-id", Input)
        if not image.value:
            image.value = default_outputs(self.answers)[0].target
        if not gallery.value:
            gallery.value = gallery_image_id(self.answers)
        kinds = self.query_one("#output-kinds", SelectionList)
        if kinds.highlighted is None:
            kinds.highlighted = 0

    # -- checks ------------------------------------------------------------------------------------------------
    def _problem(self) -> tuple[str, str] | None:
        """(field id, problem) for the current page, or None."""
        pid = self.page_id
        if pid == "name":
            p = ids.check_template_name(self.query_one("#name", Input).value)
            if p is None and self.query_one("#name", Input).value.strip() in self.existing:
                p = "a file with that name exists here; choose another name"
            return ("name", p) if p else None
        if pid == "location":
            p = ids.check_location(self.query_one("#location", Input).value)
            return ("location", p) if p else None
        if pid == "identity":
            p = ids.check_identity(self.query_one("#identity", Input).value)
            return ("identity", p) if p else None
        if pid == "outputs":
            kinds = self.query_one("#output-kinds", SelectionList).selected
            if not kinds:
                return ("image-id", "choose at least one output")
            if "managedImage" in kinds:
                p = ids.check_managed_image(self.query_one("#image-id", Input).value)
                if p:
                    return ("image-id", p)
            if "gallery" in kinds:
                p = ids.check_gallery_image(self.query_one("#gallery-id", Input).value)
                if p:
                    return ("gallery-id", p)
        return None

    def _validate(self) -> bool:
        if not self.is_attached:  # a late Input.Changed after the wizard was closed
            return False
        try:
            return self._show_problems()
        except NoMatches:  # the page is being swapped; the next change validates again
            return False

    def _show_problems(self) -> bool:
        problem = self._problem()
        for fid in ("name", "location", "identity", "image-id", "gallery-id"):
            shown = self.query_one(f"#{fid}-problem", Static)
            widget = self.query_one(f"#{fid}", Input)
            if problem and problem[0] == fid:
                shown.update("✗ " + problem[1])
                widget.add_class("-invalid")
            else:
                shown.update("")
                widget.remove_class("-invalid")
        self.query_one("#next", Button).disabled = problem is not None
        return problem is None

    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        self._validate()
        if event.input.id == "identity":
            self._show_commands()

    @on(SelectionList.SelectedChanged, "#output-kinds")
    def _kinds_changed(self) -> None:
        self._validate()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_next()

    @on(OptionList.OptionSelected, "#bases")
    def _base_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id == "marketplace":
            self.action_marketplace()
            return
        entry = self.profiles[int(event.option.id or 0)]
        self.answers.profile, self.answers.source = entry.value, None
        self._set_os(entry.os.lower() or None)
        self.answers.generation = entry.generation or None
        self.action_next()

    def _set_os(self, os_family: str | None) -> None:
        if os_family != self.answers.os:
            self.query_one("#recipes", SelectionList).clear_options()
        self.answers.os = os_family

    def action_marketplace(self) -> None:
        if self.page_id != "base":
            return
        from .source_picker import SourcePickerScreen

        def picked(choice: Any) -> None:
            if choice is None:
                return
            if choice.kind == "profile":
                self.answers.profile, self.answers.source = choice.value, None
            else:
                self.answers.profile, self.answers.source = None, choice.value
                self.answers.generation = choice.generation or None
            self._set_os(choice.os or self.answers.os)
            self.notify(f"base image: {choice.value}")
            self.action_next()

        self.app.push_screen(SourcePickerScreen(near=self.folder, with_profiles=False), picked)

    # -- navigation --------------------------------------------------------------------------------------------
    def on_button_pressed(self, event: Button.Pressed) -> None:
        bid = event.button.id
        if bid == "next":
            self.action_next()
        elif bid == "back":
            self.action_back()
        elif bid == "build-local":
            self.action_build_local()
        elif bid == "open-editor":
            self.action_open_editor()

    def _collect(self) -> None:
        pid = self.page_id
        a = self.answers
        if pid == "name":
            a.name = self.query_one("#name", Input).value.strip()
        elif pid == "base":
            ol = self.query_one("#bases", OptionList)
            if ol.highlighted is not None and self.profiles:
                opt = ol.get_option_at_index(ol.highlighted)
                if opt.id and opt.id.isdigit() and a.source is None:
                    e = self.profiles[int(opt.id)]
                    a.profile = e.value
                    self._set_os(e.os.lower() or None)
        elif pid == "location":
            a.location = self.query_one("#location", Input).value.strip()
        elif pid == "identity":
            a.identity = self.query_one("#identity", Input).value.strip()
        elif pid == "steps":
            from aibtui.onboarding.recipes import RECIPE_BY_KEY

            chosen = self.query_one("#recipes", SelectionList).selected
            a.steps = []
            taken: set[str] = set()
            for key in [r.key for r in recipes_for(a.os) if r.key in chosen]:
                r = RECIPE_BY_KEY[key]
                name = r.default_name
                a.steps.append(make_step(r, name, r.defaults(a.os), a.os))
                taken.add(name)
        elif pid == "outputs":
            kinds = self.query_one("#output-kinds", SelectionList).selected
            a.outputs = []
            if "managedImage" in kinds:
                a.outputs.append(Output("managedImage", self.query_one("#image-id", Input).value.strip()))
            if "gallery" in kinds:
                a.outputs.append(Output("gallery", self.query_one("#gallery-id", Input).value.strip(), [a.location]))
            if "vhd" in kinds:
                a.outputs.append(Output("vhd"))

    def action_next(self) -> None:
        pid = self.page_id
        if pid == "review":
            self.action_write()
            return
        if pid == "done":
            return
        if not self._validate():
            problem = self._problem()
            if problem:
                self.notify(problem[1], severity="error")
            return
        self._collect()
        self.page += 1
        self._show()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The footer offers only what works on this page."""
        pid = self.page_id
        if action == "next":
            return pid != "done"
        if action == "write":
            return pid == "review"
        if action == "back":
            return pid == "done" or self.page > 0 or self._can_leave()
        return True

    def _can_leave(self) -> bool:
        """Whether a screen lies beneath (the wizard was opened with Ctrl+O or from Open)."""
        return self.is_attached and len(self.app.screen_stack) > 2 and self.app.screen_stack[-1] is self

    def action_back(self) -> None:
        if self.page_id == "done":  # the file is written: Esc opens it in the editor
            self.action_open_editor()
            return
        if self.page > 0:
            self.page -= 1
            self._show()
        elif self._can_leave():
            self.dismiss()
        else:
            self.notify("this is the first page (Ctrl+Q quits)")

    def _yaml(self) -> str:
        from aibtui.onboarding.yamltext import render_yaml

        return render_yaml(self.answers)

    # -- writing -----------------------------------------------------------------------------------------------
    def action_write(self) -> None:
        if self.page_id != "review":
            return
        self.query_one("#next", Button).disabled = True
        self._write(self.answers)

    @work(thread=True, exclusive=True, group="write")
    def _write(self, answers: Answers) -> None:
        from aibtui.compiler import compile_file
        from aibtui.onboarding.writer import TargetExists, write_project

        try:
            written = write_project(self.folder, answers)
        except (TargetExists, OSError) as exc:
            self.post_message(ProjectWritten(self.folder / answers.file_name, False, [f"not written: {exc}"]))
            return
        res = compile_file(written.path)
        notes = [f"wrote {written.path.name}"] + [f"wrote {p.relative_to(self.folder)} (a starter script)"
                                                  for p in written.scripts]
        notes += [d.format_text() for d in res.diagnostics]
        self.post_message(ProjectWritten(written.path, res.ok, notes))

    def on_project_written(self, message: ProjectWritten) -> None:
        if message.messages and message.messages[0].startswith("not written"):
            self.query_one("#next", Button).disabled = False
            self.notify(message.messages[0], severity="error", timeout=8)
            return
        self.written = message.path
        text = Text()
        text.append(f"✓ wrote {message.path.name}\n", style="bold green")
        if message.ok:
            text.append("✓ it compiles (`aibtui compile " + message.path.name + "`)\n\n", style="green")
        else:
            text.append("✗ it does not compile yet; the editor shows why\n\n", style="bold red")
        for line in message.messages[1:8]:
            text.append(line + "\n", style="dim")
        text.append("\nBuild it now on the local provider (no Azure needed; its log says whether steps run or are "
                    "simulated), or open it in the editor.")
        self.query_one("#done-text", Static).update(text)
        self._done_text = text
        self.page = PAGES.index("done")
        self._show()
        self._doctor()

    @work(thread=True, exclusive=True, group="doctor")
    def _doctor(self) -> None:
        """The preflight checks of `aibtui doctor` (docs/operations.md), shown under the summary."""
        from aibtui.arm.doctor import preflight
        from aibtui.arm.errors import ClientError
        from aibtui.config import ConfigError

        try:
            lines = [c.format() for c in preflight()]
        except (ClientError, ConfigError, OSError) as exc:
            lines = [f"[FAIL] doctor: {exc}"]
        to_screen(self, self._show_doctor, lines)

    def _show_doctor(self, lines: list[str]) -> None:
        text = self._done_text.copy()
        text.append("\n\npreflight (aibtui doctor):\n", style="bold")
        for line in lines:
            text.append(line + "\n", style="red" if line.startswith("[FAIL]") else "green")
        self.query_one("#done-text", Static).update(text)

    def on_key(self, event: Any) -> None:
        if self.page_id == "done" and event.key in ("b", "e"):
            event.stop()
            self.action_build_local() if event.key == "b" else self.action_open_editor()

    def action_build_local(self) -> None:
        if self.written is None:
            return
        self.app.switch_screen(_editor(self.written, build_with="local"))

    def action_open_editor(self) -> None:
        if self.written is not None:
            self.app.switch_screen(_editor(self.written))


def _editor(path: Path, build_with: str | None = None) -> Screen[None]:
    from .editor import EditorScreen

    return EditorScreen(path, build_with=build_with)


def _default_name(folder: Path) -> str:
    """The folder's name (or my-image), made free: ``NAME.aib.yaml`` must not exist there yet."""
    import re

    from aibtui.onboarding.recipes import free_name

    base = re.sub(r"[^A-Za-z0-9_.-]+", "-", folder.name).strip("-.")[:60]
    base = base if base and ids.check_template_name(base) is None else "my-image"
    try:
        taken = {p.name[: -len(".aib.yaml")] for p in folder.glob("*.aib.yaml")}
    except OSError:
        taken = set()
    return free_name(base, taken)
