"""The official image-template JSON -> the dialect's shorthands (the reverse of ``lower.py``).

Each shorthand is chosen only when lowering it gives back exactly the JSON it replaces; anything
else keeps its official form (which the dialect accepts verbatim). ``importer.py`` verifies the
whole result by lowering it again, so a rule here that is too eager shows up as AIB804, not as a
silent change.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from . import code_ids as C
from .diagnostics import DiagnosticBag
from .dialect.customize import StepsShaping
from .dialect.distribute import DistributeShaping
from .dialect.identity import IdentityShaping
from .dialect.optimize import OptimizeShaping
from .dialect.shaping import Urn as Urn  # re-exported for importer.py
from .dialect.shaping import _optimize_ok, _source_ok, _steps_ok, _targets_ok, _validate_ok
from .dialect.source import SourceShaping
from .dialect.validate import ValidateShaping
from .dialect.vm import BuildShaping
from .model import TemplateModel

_STEP_TYPES = {"shell": "Shell", "powershell": "PowerShell", "file": "File",
               "windowsrestart": "WindowsRestart", "windowsupdate": "WindowsUpdate"}
_TARGET_TYPES = {"managedimage": "ManagedImage", "sharedimage": "SharedImage", "vhd": "VHD"}
_SOURCE_TYPES = {"platformimage": "PlatformImage", "managedimage": "ManagedImage",
                 "sharedimageversion": "SharedImageVersion"}


def canonical_types(doc: dict[str, Any], api: str, model: TemplateModel,
                    diags: DiagnosticBag) -> dict[str, Any] | None:
    """A copy of ``doc`` with step, target and source types spelled as the stable schema spells
    them (the preview versions wrote ``shell``, ``sharedImage``...). None when the source is ISO."""
    out = copy.deepcopy(doc)
    props = out.get("properties")
    if not isinstance(props, dict):
        return out

    def fix(holder: dict[str, Any], table: dict[str, str], path: tuple[str | int, ...]) -> None:
        value = holder.get("type")
        if isinstance(value, str) and value.lower() in table and table[value.lower()] != value:
            holder["type"] = table[value.lower()]
            diags.add(C.AIB817, f"type '{value}' is written '{holder['type']}'", model.span_at(path + ("type",)))

    source = props.get("source")
    if isinstance(source, dict):
        stype = source.get("type")
        if isinstance(stype, str) and stype.lower() == "iso":
            diags.add(C.AIB803, "the source is an ISO image (sourceURI), which no stable apiVersion accepts; "
                      "not imported", model.span_at(("properties", "source", "type")))
            return None
        fix(source, _SOURCE_TYPES, ("properties", "source"))
    for key, table in (("customize", _STEP_TYPES), ("distribute", _TARGET_TYPES)):
        items = props.get(key)
        if isinstance(items, list):
            for i, item in enumerate(items):
                if isinstance(item, dict):
                    fix(item, table, ("properties", key, i))
                    if key == "customize":
                        _preview_script(item, ("properties", key, i), model, diags)
    validate = props.get("validate")
    if isinstance(validate, dict) and isinstance(validate.get("inVMValidations"), list):
        for i, item in enumerate(validate["inVMValidations"]):
            if isinstance(item, dict):
                fix(item, _STEP_TYPES, ("properties", "validate", "inVMValidations", i))
    return out


def _preview_script(step: dict[str, Any], path: tuple[str | int, ...], model: TemplateModel,
                    diags: DiagnosticBag) -> None:
    """The first preview wrote a script step's URI as `script`; every stable version calls it `scriptUri`."""
    if step.get("type") in ("Shell", "PowerShell") and "script" in step and "scriptUri" not in step:
        items = [("scriptUri" if k == "script" else k, v) for k, v in step.items()]
        step.clear()
        step.update(items)
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
        diags.add(C.AIB817, f"`{where}.script` (a preview name) is written scriptUri",
                  model.span_at(path + ("script",), key=True))


class Shaper(SourceShaping, IdentityShaping, BuildShaping, ValidateShaping, StepsShaping, DistributeShaping,
             OptimizeShaping):
    """The driver: the document and `properties`; each section's short form comes from its
    compiler/dialect module."""

    def __init__(self, api: str, model: TemplateModel, diags: DiagnosticBag,
                 urn_value: Callable[[str], str | None] | None = None) -> None:
        self.api = api
        # the value of an ARM reference that becomes a variable (None: it stays an expression)
        self.urn_value = urn_value or (lambda _text: None)
        self.model = model
        self.diags = diags
        self.location: str | None = None

    def document(self, doc: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"apiVersion": self.api}
        for key in ("name", "location"):
            if key in doc:
                out[key] = doc[key]
        self.location = doc.get("location") if isinstance(doc.get("location"), str) else None
        if "tags" in doc:
            out["tags"] = doc["tags"]
        if "identity" in doc:
            out["identity"] = self.identity(doc["identity"])
        if "dependsOn" in doc:
            out["dependsOn"] = doc["dependsOn"]
            if doc["dependsOn"]:
                self.diags.add(C.AIB816, "dependsOn names other resources of the ARM template; they are not "
                               "imported", self.model.span_at(("dependsOn",), key=True))
        props = doc.get("properties")
        if isinstance(props, dict):
            out.update(self.properties(props))
        return out

    def properties(self, props: dict[str, Any]) -> dict[str, Any]:
        """Shorthands for what they can hold; the rest (a value of an unexpected shape, which the
        schema check will report) goes verbatim under ``properties:``, which lowering copies as is."""
        out: dict[str, Any] = {}
        verbatim: dict[str, Any] = {}
        if "source" in props:
            if _source_ok(props["source"]):
                out["source"] = self.source(props["source"])
            else:
                verbatim["source"] = props["source"]
        build, leftovers = self.build(props.get("vmProfile"), props.get("buildTimeoutInMinutes"),
                                      "vmProfile" in props, "buildTimeoutInMinutes" in props)
        if build:
            out["build"] = build
        verbatim.update(leftovers)
        for key, ok, shorten in (("customize", _steps_ok, self.steps), ("validate", _validate_ok, self.validate),
                                 ("distribute", _targets_ok, self.distribute),
                                 ("optimize", _optimize_ok, self.optimize)):
            if key in props:
                if ok(props[key]):
                    out[key] = shorten(props[key])
                else:
                    verbatim[key] = props[key]
        if "autoRun" in props:
            ar = props["autoRun"]
            if isinstance(ar, dict) and set(ar) == {"state"} and ar["state"] in ("Enabled", "Disabled"):
                out["autoRun"] = ar["state"] == "Enabled"
            elif isinstance(ar, dict):
                out["autoRun"] = ar
            else:
                verbatim["autoRun"] = ar
        for key in ("errorHandling", "stagingResourceGroup", "managedResourceTags", "additionalDataDisks"):
            if key in props:
                out[key] = props[key]
        if verbatim:
            out["properties"] = verbatim
        return out

    def profiles(self, expected: dict[str, Any]) -> list[str]:
        """Built-in profiles whose source is this template's source (checked exactly later)."""
        from .dialect.common import LowerOptions, _Ctx
        from .lower import Lowerer
        from .resolve import list_profiles
        from .yamlload import load_yaml

        source = expected.get("properties", {}).get("source") if isinstance(expected.get("properties"), dict) \
            else None
        if not isinstance(source, dict) or source.get("type") != "PlatformImage":
            return []
        out: list[str] = []
        for info in list_profiles():
            if not info.builtin:
                continue
            bag = DiagnosticBag()
            try:
                node = load_yaml(info.path.read_text(encoding="utf-8"), str(info.path), bag)
            except OSError:
                continue
            src = node.items.get("source") if node is not None and hasattr(node, "items") else None
            if src is None or "extends" in node.items:  # type: ignore[union-attr]
                continue
            lowered = Lowerer(_Ctx(diags=bag, options=LowerOptions())).source(src)
            if lowered == source and not bag.has_errors:
                out.append(info.name)
        return out
