"""Plain-prompt onboarding (`aibtui init`): the wizard's questions with input()/print.

The flow mirrors the TUI wizard and fills the same :class:`Answers`; ``render_yaml`` writes both
files, so the two front ends produce the same bytes for the same answers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from aibtui.compiler.errors import AibtuiError

from .answers import Answers, Output, default_outputs, gallery_image_id
from .recipes import check_field, check_step_name, free_name, make_step, recipes_for
from .resource_ids import (
    IDENTITY_EXPLAINED,
    az_commands,
    check_gallery_image,
    check_identity,
    check_location,
    check_managed_image,
    check_template_name,
)

Ask = Callable[[str], str]


class Aborted(AibtuiError):
    """The user ended the prompts (EOF or Ctrl-C)."""


def profile_choices() -> list[tuple[str, str, str | None]]:
    """(name, description, os) of the built-in base-image profiles (those that set a source)."""
    from aibtui.compiler.resolve import list_profiles

    out = []
    for p in list_profiles():
        if not p.builtin:
            continue
        try:
            text = p.path.read_text(encoding="utf-8")
        except OSError:
            continue
        if "\nsource:" not in "\n" + text:
            continue
        os_family = "windows" if "\nos: windows" in "\n" + text else "linux"
        out.append((p.name, p.description or "", os_family))
    return out


class Prompter:
    def __init__(self, ask: Ask, out: TextIO) -> None:
        self.ask_raw = ask
        self.out = out

    def say(self, text: str = "") -> None:
        self.out.write(text + "\n")

    def ask(self, question: str, default: str = "", check: Callable[[str], str | None] | None = None) -> str:
        while True:
            shown = f"{question} [{default}]: " if default else f"{question}: "
            try:
                answer = self.ask_raw(shown)
            except (EOFError, KeyboardInterrupt) as exc:
                raise Aborted() from exc
            answer = answer.strip() or default
            problem = check(answer) if check else None
            if problem is None:
                return answer
            self.say(f"  ! {problem}")

    def choose(self, question: str, options: list[str], default: int = 1) -> int:
        for i, text in enumerate(options, 1):
            self.say(f"  {i:>2}. {text}")

        def valid(v: str) -> str | None:
            return None if v.isdigit() and 1 <= int(v) <= len(options) else f"a number from 1 to {len(options)}"

        return int(self.ask(question, str(default), valid)) - 1

    def yes(self, question: str, default: bool = False) -> bool:
        ans = self.ask(question + (" (Y/n)" if default else " (y/N)"), "y" if default else "n",
                       lambda v: None if v.lower() in ("y", "yes", "n", "no") else "answer y or n")
        return ans.lower() in ("y", "yes")


def run_prompts(ask: Ask, out: TextIO, name_default: str = "my-image") -> Answers:
    p = Prompter(ask, out)
    a = Answers()
    p.say("Let's write an Azure Image Builder template. Enter keeps the [default]; Ctrl-D quits.")
    p.say()
    p.say("1. Name: the template's resource name in Azure, and the file's name.")
    a.name = p.ask("Name", name_default, check_template_name)
    p.say()
    p.say("2. Base image: a built-in profile sets the marketplace image, its OS family and generation.")
    profiles = profile_choices()
    names = [f"{n:<22} {d}" for n, d, _ in profiles]
    default = next((i for i, (n, _, _) in enumerate(profiles) if n == "ubuntu-22.04-gen2"), 0) + 1
    idx = p.choose("Base image", names, default)
    a.profile, _, a.os = profiles[idx]
    p.say()
    p.say("3. Location: the Azure region the build runs in; outputs go there unless you say otherwise.")
    a.location = p.ask("Location", "westus2", check_location)
    p.say()
    p.say("4. Identity: " + IDENTITY_EXPLAINED)
    p.say("   To create one (and its role on the resource group):")
    for cmd in az_commands(location=a.location):
        p.say(f"     {cmd}")
    a.identity = p.ask("Identity resource id", a.identity, check_identity)
    p.say()
    p.say("5. Steps: what to do on the build VM, in order.")
    recipes = recipes_for(a.os)
    taken: set[str] = set()
    while True:
        choice = p.choose("Add a step", ["no more steps"] + [f"{r.title}: {r.explain}" for r in recipes], 1)
        if choice == 0:
            break
        recipe = recipes[choice - 1]
        name = p.ask("  Step name", free_name(recipe.default_name, taken), lambda v: check_step_name(v, taken))
        values = recipe.defaults(a.os)
        for f in recipe.fields:
            if f.multiline:
                p.say(f"  {f.label}; separate lines with ';'")
                raw = p.ask(f"  {f.key}", values[f.key].replace("\n", "; "),
                            lambda v, f=f, r=recipe: check_field(r, f.key, v, a.os))
                values[f.key] = "\n".join(x.strip() for x in raw.split(";") if x.strip())
            else:
                values[f.key] = p.ask(f"  {f.label}", values[f.key],
                                      lambda v, f=f, r=recipe: check_field(r, f.key, v, a.os))
        a.steps.append(make_step(recipe, name, values, a.os))
        taken.add(name)
    p.say()
    p.say("6. Outputs: a managed image (one region, quick), a gallery image version (replicated,"
          " versioned) or a VHD.")
    kinds = p.choose("Output", ["managed image", "gallery image version", "VHD", "managed image and VHD"], 1)
    if kinds in (0, 3):
        target = default_outputs(a)[0].target
        a.outputs.append(Output("managedImage", p.ask("Managed image id", target, check_managed_image)))
    if kinds == 1:
        target = p.ask("Gallery image definition id", gallery_image_id(a), check_gallery_image)
        regions = p.ask("Replicate to regions (comma-separated)", a.location)
        a.outputs.append(Output("gallery", target, [r.strip() for r in regions.split(",") if r.strip()]))
    if kinds in (2, 3):
        a.outputs.append(Output("vhd"))
    return a


