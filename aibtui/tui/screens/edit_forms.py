"""The editor's forms: fields and checks for a step, a distribution target and the build settings.

Each ``*_form`` returns the :class:`FormScreen` and a function turning its values into the
dialect mapping the document gets.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from aibtui.onboarding import resource_ids as ids
from aibtui.onboarding.recipes import (
    Recipe,
    check_field,
    check_step_name,
    free_name,
    make_step,
    recipe_of_step,
)

from .form import Field, FormScreen

Convert = Callable[[dict[str, str]], Any]

VM_SIZE = re.compile(r"^Standard_[A-Za-z0-9_]+$")
DURATION = re.compile(r"^(?:\d+|(?:\d+h)?(?:\d+m)?)$")


def step_form(step: dict[str, Any] | None, recipe: Recipe | None, os_family: str | None, taken: set[str],
              focus: str | None = None) -> tuple[FormScreen, Convert]:
    if step is not None:
        found, values = recipe_of_step(step)
        if found is None:
            return raw_step_form(step, taken, focus)
        recipe = found
        name = str(step.get("name", ""))
    else:
        assert recipe is not None
        values = recipe.defaults(os_family)
        name = free_name(recipe.default_name, taken)
    others = taken - {name} if step is not None else taken
    fields = [Field("name", "Name", name, lambda v: check_step_name(v, others), help="unique in the list (C-01)")]
    for f in recipe.fields:
        fields.append(Field(f.key, f.label, values.get(f.key, f.default),
                            lambda v, k=f.key, r=recipe: check_field(r, k, v, os_family), multiline=f.multiline,
                            help=f.help))
    title = f"{'Edit' if step is not None else 'Add'} step: {recipe.title}"
    if focus not in {f.key for f in fields}:
        focus = "commands" if focus in ("shell", "powershell", "inline") and recipe.key == "commands" else None

    def convert(v: dict[str, str]) -> dict[str, Any]:
        made = make_step(recipe, v["name"].strip(), v, os_family)
        if step is not None:  # keep what the form does not show (before/after, runElevated, ...)
            kind_keys = {"shell", "powershell", "file", "windowsRestart", "windowsUpdate"}
            extra = {k: val for k, val in step.items() if k not in made and k not in kind_keys}
            made.update(extra)
        return made

    return FormScreen(title, fields, explain=recipe.explain, focus=focus), convert


def raw_step_form(item: dict[str, Any], taken: set[str], focus: str | None = None,
                  what: str = "step") -> tuple[FormScreen, Convert]:
    """Any step (or target) as YAML text, checked as you type: it must be a mapping with a name."""
    import yaml

    text = yaml.safe_dump(item, sort_keys=False, default_flow_style=False, allow_unicode=True, width=4096)
    name = str(item.get("name", ""))
    others = taken - {name}

    def check(v: str) -> str | None:
        try:
            data = yaml.safe_load(v)
        except yaml.YAMLError as exc:
            return f"not valid YAML: {str(exc).splitlines()[0]}"
        if not isinstance(data, dict):
            return "a mapping (key: value lines)"
        if what == "step":
            return check_step_name(str(data.get("name", "")), others)
        return None

    def convert(v: dict[str, str]) -> Any:
        return yaml.safe_load(v["yaml"])

    form = FormScreen(f"Edit {what} (YAML)", [Field("yaml", "The item, as in the file", text, check, multiline=True)],
                      explain="This item uses a form the recipes do not cover; edit it as YAML.", focus="yaml")
    return form, convert



TARGET_KINDS = {"managedImage": "managed image id", "gallery": "gallery image definition id", "vhd": "vhd"}


def target_kind(target: dict[str, Any]) -> str:
    for k in TARGET_KINDS:
        if k in target:
            return k
    return str(target.get("type", "?"))


def target_form(target: dict[str, Any] | None, kind: str, taken: set[str],
                focus: str | None = None) -> tuple[FormScreen, Convert]:
    target = dict(target or {})
    if target and target_kind(target) not in TARGET_KINDS:
        return raw_step_form(target, taken, focus, what="target")
    kind = target_kind(target) if target else kind
    name = str(target.get("runOutputName") or target.get("name") or "")
    fields: list[Field] = []
    if kind == "managedImage":
        fields.append(Field("id", "Managed image id", str(target.get("managedImage", "")), ids.check_managed_image))
    elif kind == "gallery":
        fields.append(Field("id", "Gallery image definition id", str(target.get("gallery", "")),
                            ids.check_gallery_image))
        regions = target.get("regions") or []
        text = ", ".join(r if isinstance(r, str) else str(r.get("name", "")) for r in regions)
        fields.append(Field("regions", "Replicate to regions (comma-separated)", text, _check_regions))
    others = taken - {name}
    fields.append(Field("name", "Run output name (empty: derived)", name,
                        lambda v: None if not v.strip() or v.strip() not in others
                        else f"'{v.strip()}' is taken (DI-02)"))
    explain = {"managedImage": "A managed image in one region: quick to create VMs from.",
               "gallery": "A new version of a gallery image definition, replicated to the regions listed.",
               "vhd": "A VHD in the staging storage account (deleting the template deletes it)."}[kind]

    def convert(v: dict[str, str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if kind == "vhd":
            out["vhd"] = target.get("vhd", True)
        else:
            out[kind] = v["id"].strip()
        if kind == "gallery" and v.get("regions", "").strip():
            old = {(r if isinstance(r, str) else r.get("name")): r for r in target.get("regions") or []}
            out["regions"] = [old.get(r.strip(), r.strip()) for r in v["regions"].split(",") if r.strip()]
        if v.get("name", "").strip():
            out["runOutputName"] = v["name"].strip()
        for k, val in target.items():  # keep what the form does not show (artifactTags, versioning, ...)
            if k not in out and k not in ("managedImage", "gallery", "vhd", "regions", "runOutputName", "name"):
                out[k] = val
        return out

    title = f"{'Edit' if target else 'Add'} target: {TARGET_KINDS[kind] if kind != 'vhd' else 'VHD'}"
    return FormScreen(title, fields, explain=explain, focus=focus), convert


def _check_regions(v: str) -> str | None:
    for r in [x.strip() for x in v.split(",") if x.strip()]:
        p = ids.check_location(r)
        if p:
            return f"{r}: {p}"
    return None


BUILD_FIELDS = (("vmSize", "Build VM size", "Standard_D2s_v3 for Linux; Windows wants 4 vCPUs or more"),
                ("osDiskSizeGB", "OS disk size in GB (empty or 0: the source's)", ""),
                ("timeout", "Timeout (minutes, or 90m, 4h, 1h30m)", "AIB gives up after this; default 4h"),
                ("subnet", "Subnet id (optional, for a private build VM)", ""))


def check_build(key: str, v: str) -> str | None:
    v = v.strip()
    if not v:
        return None
    if key == "vmSize" and not VM_SIZE.match(v):
        return "a VM size such as Standard_D2s_v3"
    if key == "osDiskSizeGB" and (not v.isdigit() or int(v) > 4095):
        return "a whole number of GB, 0 to 4095"
    if key == "timeout":
        if not DURATION.match(v) or v in ("",):
            return "minutes (e.g. 90) or a duration (90m, 4h, 1h30m)"
        minutes = int(v) if v.isdigit() else _minutes(v)
        if not 6 <= minutes <= 960:
            return "between 6 minutes and 16 hours (B-01, B-02)"
    if key == "subnet":
        return ids.check_subnet(v)
    return None


def _minutes(v: str) -> int:
    h = re.search(r"(\d+)h", v)
    m = re.search(r"(\d+)m", v)
    return (int(h.group(1)) * 60 if h else 0) + (int(m.group(1)) if m else 0)


def build_form(build: dict[str, Any], focus: str | None = None) -> tuple[FormScreen, Convert]:
    fields = [Field(k, label, "" if build.get(k) is None else str(build.get(k)), lambda v, k=k: check_build(k, v),
                    help=help_text) for k, label, help_text in BUILD_FIELDS]

    def convert(v: dict[str, str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, _label, _h in BUILD_FIELDS:
            val = v[k].strip()
            if not val:
                out[k] = None
            elif k == "osDiskSizeGB" or (k == "timeout" and val.isdigit()):
                out[k] = int(val)
            else:
                out[k] = val
        return out

    return FormScreen("Build settings", fields, explain="The build VM and the time AIB may take.", focus=focus), convert
