"""The official image-template JSON -> the dialect's shorthands (the reverse of ``lower.py``).

Each shorthand is chosen only when lowering it gives back exactly the JSON it replaces; anything
else keeps its official form (which the dialect accepts verbatim). ``importer.py`` verifies the
whole result by lowering it again, so a rule here that is too eager shows up as AIB804, not as a
silent change.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .diagnostics import DiagnosticBag
from .import_yaml import Block, Flow, Lines, block_ok
from .model import STABLE_API_VERSIONS, TemplateModel, is_expression, is_opaque

_URN_PART = re.compile(r"^[^\s:]+$")
_STEP_TYPES = {"shell": "Shell", "powershell": "PowerShell", "file": "File",
               "windowsrestart": "WindowsRestart", "windowsupdate": "WindowsUpdate"}
_TARGET_TYPES = {"managedimage": "ManagedImage", "sharedimage": "SharedImage", "vhd": "VHD"}
_SOURCE_TYPES = {"platformimage": "PlatformImage", "managedimage": "ManagedImage",
                 "sharedimageversion": "SharedImageVersion"}
_KIND_KEY = {"Shell": "shell", "PowerShell": "powershell", "File": "file", "WindowsRestart": "windowsRestart",
             "WindowsUpdate": "windowsUpdate"}
_PS_OPTS = ("runElevated", "runAsSystem", "validExitCodes")
TARGET_REGIONS_SINCE = "2022-07-01"


@dataclass(frozen=True, slots=True)
class Urn:
    """A marketplace URN whose parts become variables one by one (``{{ publisher }}:...``)."""

    parts: tuple[str, ...]


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
            diags.add("AIB817", f"type '{value}' is written '{holder['type']}'", model.span_at(path + ("type",)))

    source = props.get("source")
    if isinstance(source, dict):
        stype = source.get("type")
        if isinstance(stype, str) and stype.lower() == "iso":
            diags.add("AIB803", "the source is an ISO image (sourceURI), which no stable apiVersion accepts; "
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
        diags.add("AIB817", f"`{where}.script` (a preview name) is written scriptUri",
                  model.span_at(path + ("script",), key=True))


def _literal(value: Any) -> bool:
    """A string that is neither an ARM expression nor holds a placeholder."""
    return isinstance(value, str) and not is_opaque(value)


def _strs(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _str_map(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())


def _source_ok(src: Any) -> bool:
    """A source lowering copies as written (a string would be parsed as a URN or an id)."""
    if not isinstance(src, dict) or "plan" in src:
        return False
    if "type" not in src:
        return "publisher" not in src and not any(k in src for k in ("urn", "managedImage", "imageVersion"))
    return True


def _step_ok(step: Any) -> bool:
    return isinstance(step, dict) and isinstance(step.get("type"), str) \
        and not any(k in step for k in _KIND_KEY.values())


def _steps_ok(steps: Any) -> bool:
    return isinstance(steps, list) and all(_step_ok(s) for s in steps)


def _validate_ok(val: Any) -> bool:
    if not isinstance(val, dict) or not set(val) <= {"inVMValidations", "continueDistributeOnFailure",
                                                     "sourceValidationOnly"}:
        return False
    if any(k in val and not isinstance(val[k], bool) for k in ("continueDistributeOnFailure",
                                                                "sourceValidationOnly")):
        return False
    return "inVMValidations" not in val or _steps_ok(val["inVMValidations"])


def _targets_ok(targets: Any) -> bool:
    return isinstance(targets, list) and all(
        isinstance(t, dict) and isinstance(t.get("type"), str) and "name" not in t
        and not any(k in t for k in ("managedImage", "gallery", "vhd")) for t in targets)


def _optimize_ok(opt: Any) -> bool:
    return isinstance(opt, dict) and not isinstance(opt.get("vmBoot"), bool)


def _in_order(d: dict[str, Any], order: tuple[str, ...]) -> dict[str, Any]:
    out = {k: d[k] for k in order if k in d}
    out.update((k, v) for k, v in d.items() if k not in out)
    return out


def duration(minutes: int) -> str | int:
    if minutes <= 0:
        return minutes
    return f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}m"


def run_output_name(derived: str) -> str:
    return re.sub(r"[^A-Za-z0-9\-_.]", "-", derived)[:64]


class Shaper:
    def __init__(self, api: str, model: TemplateModel, diags: DiagnosticBag,
                 urn_value: Callable[[str], str | None] | None = None) -> None:
        self.api = api
        # the value of an ARM reference that becomes a variable (None: it stays an expression)
        self.urn_value = urn_value or (lambda _text: None)
        self.model = model
        self.diags = diags
        self.location: str | None = None

    # -- the document --------------------------------------------------------------------------
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
                self.diags.add("AIB816", "dependsOn names other resources of the ARM template; they are not "
                               "imported", self.model.span_at(("dependsOn",), key=True))
        props = doc.get("properties")
        if isinstance(props, dict):
            out.update(self.properties(props))
        return out

    def identity(self, ident: Any) -> Any:
        if isinstance(ident, dict) and set(ident) == {"type", "userAssignedIdentities"} \
                and ident["type"] == "UserAssigned":
            uai = ident["userAssignedIdentities"]
            if isinstance(uai, dict) and len(uai) == 1:
                (key, value), = uai.items()
                if value == {}:
                    return key
        return ident

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

    # -- source ----------------------------------------------------------------------------------
    def source(self, src: Any) -> Any:
        if not isinstance(src, dict):
            return src
        stype = src.get("type")
        keys = set(src) - {"type"}
        core = {"publisher", "offer", "sku", "version"}
        if stype == "PlatformImage" and core <= keys <= core | {"planInfo"} \
                and self._urn_ok([src[k] for k in ("publisher", "offer", "sku", "version")]):
            urn: Any = ":".join(src[k] for k in ("publisher", "offer", "sku", "version"))
            if not all(_literal(src[k]) for k in core):
                urn = Urn(tuple(src[k] for k in ("publisher", "offer", "sku", "version")))
            if "planInfo" not in src:
                return urn
            plan = src["planInfo"]
            names = {"planName": "name", "planProduct": "product", "planPublisher": "publisher"}
            if _str_map(plan) and set(plan) <= set(names):
                return {"urn": urn, "plan": {names[k]: v for k, v in plan.items()}}
            return _in_order(src, ("type", "publisher", "offer", "sku", "version", "planInfo"))
        if stype == "ManagedImage" and keys == {"imageId"} and isinstance(src["imageId"], str):
            image = src["imageId"]
            low = image.lower()
            if low.startswith("/subscriptions/") and "/providers/microsoft.compute/images/" in low \
                    and "/providers/microsoft.compute/galleries/" not in low:
                return image
            return {"managedImage": image}
        if stype == "SharedImageVersion" and keys == {"imageVersionId"} and isinstance(src["imageVersionId"], str):
            version = src["imageVersionId"]
            low = version.lower()
            if low.startswith("/subscriptions/") and "/providers/microsoft.compute/galleries/" in low \
                    and "/versions/" in low:
                return version
            return {"imageVersion": version}
        return src

    def _urn_ok(self, parts: list[Any]) -> bool:
        """Whether the parts, as they render, make a URN lowering reads back into the same parts."""
        rendered = []
        for part in parts:
            if not isinstance(part, str) or not _URN_PART.match(part):
                return False
            if _literal(part):
                rendered.append(part)
            elif is_expression(part):
                value = self.urn_value(part)
                if value is not None and not _URN_PART.match(value):
                    return False
                rendered.append(part if value is None else value)
            else:
                return False
        return not is_opaque(":".join(rendered))

    # -- build -----------------------------------------------------------------------------------
    def build(self, vm: Any, timeout: Any, has_vm: bool, has_timeout: bool) -> tuple[dict[str, Any], dict[str, Any]]:
        build: dict[str, Any] = {}
        verbatim: dict[str, Any] = {}
        timeout_ok = not has_timeout or (isinstance(timeout, int) and not isinstance(timeout, bool)) \
            or (isinstance(timeout, str) and is_opaque(timeout))
        if not timeout_ok:
            if has_vm:
                verbatim["vmProfile"] = vm
            verbatim["buildTimeoutInMinutes"] = timeout
            return build, verbatim
        if has_vm:
            short = self.vm_profile(vm)
            if short is None:
                verbatim["vmProfile"] = vm
            else:
                build.update(short)
        if has_timeout:
            if isinstance(timeout, int) and not isinstance(timeout, bool):
                build["timeout"] = duration(timeout)
            elif isinstance(timeout, str) and is_opaque(timeout):
                build["timeout"] = timeout
            else:
                verbatim["buildTimeoutInMinutes"] = timeout
        return build, verbatim

    def vm_profile(self, vm: Any) -> dict[str, Any] | None:
        if not isinstance(vm, dict) or not vm:
            return None
        out: dict[str, Any] = {}
        for key, value in vm.items():
            if key == "vmSize" and isinstance(value, str):
                out["vmSize"] = value
            elif key == "osDiskSizeGB" and ((isinstance(value, int) and not isinstance(value, bool))
                                            or (isinstance(value, str) and is_opaque(value))):
                out["osDiskSizeGB"] = value
            elif key == "userAssignedIdentities" and _strs(value):
                out["identities"] = value
            elif key == "vnetConfig" and isinstance(value, dict) and value:
                names = {"subnetId": "subnet", "proxyVmSize": "proxyVmSize",
                         "containerInstanceSubnetId": "containerInstanceSubnet"}
                if set(value) <= set(names) and _str_map(value):
                    out.update({names[k]: v for k, v in value.items()})
                else:
                    out["vnetConfig"] = value
            else:
                return None
        return out

    # -- steps -----------------------------------------------------------------------------------
    def steps(self, steps: Any) -> Any:
        if not isinstance(steps, list):
            return steps
        return [self.step(s) for s in steps]

    def step(self, step: Any) -> Any:
        if not isinstance(step, dict):
            return step
        stype = step.get("type")
        kind = _KIND_KEY.get(stype) if isinstance(stype, str) else None
        if kind is None or ("name" in step and not isinstance(step["name"], str)):
            return step
        fields = {k: v for k, v in step.items() if k not in ("type", "name")}
        body: Any = None
        extra: dict[str, Any] = {}
        if stype in ("Shell", "PowerShell"):
            allowed = {"scriptUri", "sha256Checksum", "inline"} | (set(_PS_OPTS) if stype == "PowerShell" else set())
            if not set(fields) <= allowed or "inline" in fields and not _strs(fields["inline"]):
                return step
            if not any(k in fields for k in ("scriptUri", "inline")):
                return step
            if not all(isinstance(fields.get(k, ""), str) for k in ("scriptUri", "sha256Checksum")):
                return step
            extra = {k: fields[k] for k in _PS_OPTS if k in fields}
            script = fields.get("inline")
            if set(fields) - set(_PS_OPTS) == {"inline"}:
                body = self.script(script)
            else:
                body = {}
                if "scriptUri" in fields:
                    body["uri"] = fields["scriptUri"]
                if "sha256Checksum" in fields:
                    body["sha256"] = fields["sha256Checksum"]
                if "inline" in fields:
                    body["inline"] = self.script(script)
                if len(body) + len(extra) <= 2:  # {uri, runElevated} fits on one line
                    body.update(extra)
                    extra = {}
        elif stype == "File":
            if set(fields) - {"sha256Checksum"} != {"sourceUri", "destination"} or not _str_map(fields):
                return step
            body = {"from": fields["sourceUri"], "to": fields["destination"]}
            if "sha256Checksum" in fields:
                body["sha256"] = fields["sha256Checksum"]
        elif stype == "WindowsRestart":
            names = {"restartCommand": "command", "restartCheckCommand": "checkCommand", "restartTimeout": "timeout"}
            if not set(fields) <= set(names) or not _str_map(fields):
                return step
            body = {names[k]: v for k, v in fields.items()} or True
        else:  # WindowsUpdate
            if not set(fields) <= {"searchCriteria", "filters", "updateLimit"}:
                return step
            if "searchCriteria" in fields and not isinstance(fields["searchCriteria"], str):
                return step
            if "filters" in fields and not _strs(fields["filters"]):
                return step
            body = dict(fields) or True
        out: dict[str, Any] = {}
        if "name" in step:
            out["name"] = step["name"]
        out[kind] = body
        out.update(extra)
        return out

    @staticmethod
    def script(lines: list[str]) -> Any:
        if not lines:
            return []
        return Block(tuple(lines)) if block_ok(lines) else Lines(tuple(lines))

    # -- validate / optimize -----------------------------------------------------------------------
    def validate(self, val: Any) -> Any:
        if not isinstance(val, dict):
            return val
        names = {"inVMValidations": "steps", "continueDistributeOnFailure": "continueOnFailure",
                 "sourceValidationOnly": "sourceValidationOnly"}
        if not set(val) <= set(names):
            return {"steps" if k == "inVMValidations" else k: v for k, v in val.items()}
        steps = self.steps(val["inVMValidations"]) if "inVMValidations" in val else None
        if set(val) == {"inVMValidations"} and isinstance(steps, list):
            return steps
        out = {names[k]: v for k, v in val.items() if k != "inVMValidations"}
        if steps is not None:
            out["steps"] = steps
        return out

    def optimize(self, opt: Any) -> Any:
        if not isinstance(opt, dict):
            return opt
        vb = opt.get("vmBoot")
        if isinstance(vb, dict) and set(vb) == {"state"} and vb["state"] in ("Enabled", "Disabled"):
            return {**opt, "vmBoot": vb["state"] == "Enabled"}
        return opt

    # -- distribute ------------------------------------------------------------------------------
    def distribute(self, targets: Any) -> Any:
        if not isinstance(targets, list):
            return targets
        return [self.target(t) for t in targets]

    def target(self, t: Any) -> Any:
        if not isinstance(t, dict):
            return t
        ttype = t.get("type")
        if "runOutputName" in t and not isinstance(t["runOutputName"], str):
            return t
        tags = t.get("artifactTags")
        if tags is not None and not _str_map(tags):
            return t
        if ttype == "ManagedImage":
            return self.managed_target(t)
        if ttype == "SharedImage":
            return self.gallery_target(t)
        if ttype == "VHD":
            if not set(t) <= {"type", "runOutputName", "uri", "artifactTags"}:
                return t
            if "uri" in t and not isinstance(t["uri"], str):
                return t
            out: dict[str, Any] = {"vhd": {"uri": t["uri"]} if "uri" in t else True}
            return self.finish_target(t, out, "vhd")
        return t

    def managed_target(self, t: dict[str, Any]) -> Any:
        if not set(t) <= {"type", "imageId", "location", "runOutputName", "artifactTags"} \
                or not isinstance(t.get("imageId"), str):
            return t
        out: dict[str, Any] = {"managedImage": t["imageId"]}
        if "location" in t:
            if not isinstance(t["location"], str):
                return t
            if t["location"] != self.location:
                out["location"] = t["location"]
        elif self.location is not None:
            return t  # lowering would add the template's location
        derived = t["imageId"].rstrip("/").rsplit("/", 1)[-1]
        return self.finish_target(t, out, derived)

    def gallery_target(self, t: dict[str, Any]) -> Any:
        allowed = {"type", "galleryImageId", "runOutputName", "replicationRegions", "targetRegions",
                   "storageAccountType", "excludeFromLatest", "versioning", "replicationMode", "artifactTags"}
        if not set(t) <= allowed or not isinstance(t.get("galleryImageId"), str):
            return t
        gid = t["galleryImageId"]
        out: dict[str, Any] = {"gallery": gid}
        new_style = STABLE_API_VERSIONS.index(self.api) >= STABLE_API_VERSIONS.index(TARGET_REGIONS_SINCE)
        regions = self.regions(t, new_style)
        if regions is not None:
            out["regions"] = regions
        else:
            for key in ("replicationRegions", "targetRegions"):
                if key in t:
                    out[key] = t[key]
        if "storageAccountType" in t:
            if not isinstance(t["storageAccountType"], str):
                return t
            out["storageAccountType"] = t["storageAccountType"]
        if "excludeFromLatest" in t:
            if not isinstance(t["excludeFromLatest"], bool):
                return t
            out["excludeFromLatest"] = t["excludeFromLatest"]
        if "versioning" in t:
            v = t["versioning"]
            if isinstance(v, dict) and set(v) == {"scheme"} and v["scheme"] in ("Latest", "Source"):
                out["versioning"] = v["scheme"].lower()
            elif isinstance(v, str) and v.lower() in ("latest", "source"):
                return t  # lowering would turn the string into {scheme: ...}
            else:
                out["versioning"] = v
        if "replicationMode" in t:
            out["replicationMode"] = t["replicationMode"]
        derived = None
        if gid:
            parts = gid.rstrip("/").split("/")
            low = [p.lower() for p in parts]
            if "images" in low and low.index("images") + 1 < len(parts):
                derived = parts[low.index("images") + 1]
        return self.finish_target(t, out, derived)

    def regions(self, t: dict[str, Any], new_style: bool) -> Any:
        if new_style:
            tr = t.get("targetRegions")
            if "replicationRegions" in t or "storageAccountType" in t or not isinstance(tr, list) or not tr:
                return None
            out: list[Any] = []
            for r in tr:
                if not isinstance(r, dict) or not isinstance(r.get("name"), str) \
                        or not set(r) <= {"name", "replicaCount", "storageAccountType"}:
                    return None
                if "storageAccountType" in r and not isinstance(r["storageAccountType"], str):
                    return None
                if set(r) == {"name"}:
                    out.append(r["name"])
                else:
                    entry = {"name": r["name"]}
                    if "replicaCount" in r:
                        entry["replicas"] = r["replicaCount"]
                    if "storageAccountType" in r:
                        entry["storage"] = r["storageAccountType"]
                    out.append(entry)
            return Flow(tuple(out)) if all(isinstance(x, str) for x in out) else out
        rr = t.get("replicationRegions")
        if "targetRegions" in t or not _strs(rr) or not rr:
            return None
        return Flow(tuple(rr))

    def finish_target(self, t: dict[str, Any], out: dict[str, Any], derived: str | None) -> Any:
        rn = t.get("runOutputName")
        if rn is None:
            if derived is not None and not is_opaque(derived):
                return t  # lowering would derive a runOutputName the original does not have
        elif derived is None or is_opaque(derived) or is_opaque(rn) or rn != run_output_name(derived):
            out = {**out, "runOutputName": rn}
        if "artifactTags" in t:
            out["artifactTags"] = t["artifactTags"]
        return out

    # -- profiles ----------------------------------------------------------------------------------
    def profiles(self, expected: dict[str, Any]) -> list[str]:
        """Built-in profiles whose source is this template's source (checked exactly later)."""
        from .lower import Lowerer, LowerOptions, _Ctx
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
