"""Lowering: the compact dialect (a resolved, rendered node tree) -> the canonical TemplateModel.

Shorthands are expanded here (URN sources, one key per step kind, durations, identity, gallery
targets with regions), local files are read (inlined scripts, sha256 of local copies), and every
emitted JSON path is mapped back to the node it came from, so checking can point at file:line:col.
Official property names pass through verbatim; the schema engine checks them for the apiVersion.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from . import code_ids as C
from .diagnostics import DiagnosticBag, Span
from .model import (
    DEFAULT_API_VERSION,
    RESOURCE_TYPE,
    STABLE_API_VERSIONS,
    JsonPath,
    TemplateModel,
    is_opaque,
    record_spans,
)
from .nodes import Mapping, Node, Scalar, Sequence, to_plain, type_name
from .records import dataclass, field
from .sources import safe_resolve

# Official ImageTemplateProperties names across every stable version (a test keeps this in sync
# with compiler/schemas/*.json). Each may be written verbatim at the top level or under properties.
OFFICIAL_PROPERTIES: tuple[str, ...] = (
    "buildTimeoutInMinutes", "vmProfile", "stagingResourceGroup", "source", "customize", "validate",
    "optimize", "distribute", "errorHandling", "autoRun", "managedResourceTags", "additionalDataDisks",
)
# dialect keys that lower to a property (shorthand owner -> properties it writes)
_SHORTHAND_PROPS = {
    "source": ("source",), "customize": ("customize",), "validate": ("validate",),
    "distribute": ("distribute",), "autoRun": ("autoRun",), "errorHandling": ("errorHandling",),
    "optimize": ("optimize",), "build": ("vmProfile", "buildTimeoutInMinutes"),
}
TOP_KEYS: tuple[str, ...] = (
    "description", "apiVersion", "type", "vars", "name", "location", "tags", "identity", "dependsOn",
    "os", "generation", "source", "build", "customize", "validate", "distribute", "autoRun",
    "errorHandling", "optimize", "properties", "arm",
    "buildTimeoutInMinutes", "vmProfile", "stagingResourceGroup", "managedResourceTags", "additionalDataDisks",
)
# keys users put at the wrong level, and where they belong
_MISPLACED = {
    "vmSize": "build.vmSize", "osDiskSizeGB": "build.osDiskSizeGB", "timeout": "build.timeout",
    "subnet": "build.subnet", "subnetId": "build.subnet", "vnetConfig": "build.vnetConfig",
    "steps": "customize", "customizers": "customize", "customizations": "customize",
    "distributions": "distribute", "targets": "distribute", "image": "source", "sourceImage": "source",
    "variables": "vars", "profile": "extends", "profiles": "extends", "region": "location",
    "extends": "the file's top level (profiles are resolved before lowering)",
}
KIND_KEYS = ("shell", "powershell", "file", "windowsRestart", "windowsUpdate")
_KIND_TYPE = {"shell": "Shell", "powershell": "PowerShell", "file": "File",
              "windowsRestart": "WindowsRestart", "windowsUpdate": "WindowsUpdate"}
_TARGET_KEYS = ("managedImage", "gallery", "vhd")
_DURATION = re.compile(r"^\s*(?:(\d+)\s*h(?:ours?)?)?\s*(?:(\d+)\s*m(?:in(?:utes?)?)?)?\s*$")
_URN_PART = re.compile(r"^[^\s:]+$")
MAX_INLINE_BYTES = 512 * 1024
MAX_FILE_STEP_BYTES = 20_000_000  # F-04: "meant for small files, under 20 MB"
TARGET_REGIONS_SINCE = "2022-07-01"


@dataclass
class LowerOptions:
    api_version: str | None = None  # --api-version; wins over the file's apiVersion
    root: Path | None = None  # project root for local files
    allow_outside_root: bool = False


@dataclass
class _Ctx:
    diags: DiagnosticBag
    options: LowerOptions
    spans: dict[JsonPath, Span] = field(default_factory=dict)
    key_spans: dict[JsonPath, Span] = field(default_factory=dict)
    coerced: dict[Span, tuple[str, str]] = field(default_factory=dict)
    deps: list[str] = field(default_factory=list)
    api_version: str = DEFAULT_API_VERSION
    location: str | None = None


def _describe_yaml_value(node: Scalar) -> str:
    v = node.value
    if isinstance(v, bool):
        return f"the boolean {str(v).lower()}"
    if v is None:
        return "null (an empty value)"
    if isinstance(v, (int, float)):
        return f"the number {v}"
    return f"a {type(v).__name__}"


class Lowerer:
    def __init__(self, ctx: _Ctx) -> None:
        self.c = ctx
        self.d = ctx.diags

    # -- small helpers -----------------------------------------------------------------------------
    def mark(self, path: JsonPath, node: Node, key_span: Span | None = None) -> None:
        self.c.spans[path] = node.span
        if key_span is not None:
            self.c.key_spans[path] = key_span

    def verbatim(self, path: JsonPath, node: Node, key_span: Span | None = None) -> Any:
        record_spans(node, path, self.c.spans, self.c.key_spans)
        if key_span is not None:
            self.c.key_spans[path] = key_span
        # Remember plain scalars YAML 1.1 read as non-strings (`sku: no`): if the schema wanted a
        # string there, check_model turns its type error into the "quote it" diagnostic.
        work = [node]
        while work:
            n = work.pop()
            if isinstance(n, Scalar):
                if n.plain and n.value is not None and not isinstance(n.value, str):
                    self.c.coerced[n.span] = (n.raw, _describe_yaml_value(n))
            elif isinstance(n, Mapping):
                work.extend(n.items.values())
            elif isinstance(n, Sequence):
                work.extend(n.items)
        return to_plain(node)

    def string(self, node: Node, what: str) -> str | None:
        """A string value; a YAML 1.1 non-string read from a plain scalar is an error (quote it)."""
        if isinstance(node, Scalar):
            if isinstance(node.value, str):
                return node.value
            if node.plain and node.value is not None:
                self.d.add(C.AIB104, f"`{node.raw}` was read as {_describe_yaml_value(node)}, but {what} "
                           "must be a string", node.span,
                           hint=f"quote the value so it stays a string: '{node.raw}'")
                return None
            if node.value is None:
                self.d.add(C.AIB401, f"{what} is empty", node.span, hint=f"give {what} a value")
                return None
        self.d.add(C.AIB401, f"{what} must be a string, not {type_name(node)}", node.span)
        return None

    def boolean(self, node: Node, what: str) -> bool | None:
        if isinstance(node, Scalar) and isinstance(node.value, bool):
            return node.value
        self.d.add(C.AIB401, f"{what} must be true or false, not {type_name(node)}", node.span)
        return None

    def mapping(self, node: Node, what: str) -> Mapping | None:
        if isinstance(node, Mapping):
            return node
        self.d.add(C.AIB401, f"{what} must be a mapping, not {type_name(node)}", node.span)
        return None

    def unknown_keys(self, node: Mapping, allowed: tuple[str, ...] | list[str], where: str) -> None:
        for key in node.items:
            if key in allowed:
                continue
            near = _close(key, list(allowed), n=1, cutoff=0.6) or [
                a for a in allowed if a.lower() == key.lower()]
            hint = None
            if near:
                hint = f"did you mean '{near[0]}'?"
            elif where == "the top level" and key in _MISPLACED:
                hint = f"did you mean {_MISPLACED[key]}?"
            else:
                hint = "allowed here: " + ", ".join(sorted(allowed))
            self.d.add(C.AIB400, f"unknown key '{key}' in {where}", node.key_spans.get(key, node.span), hint=hint)

    # -- local files -------------------------------------------------------------------------------
    def local_file(self, node: Node, what: str) -> Path | None:
        rel = self.string(node, what)
        if rel is None:
            return None
        if "://" in rel:
            self.d.add(C.AIB406, f"{what} must be a local path, not a URL: {rel}", node.span,
                       hint="the compiler never downloads; use `uri:` for remote scripts")
            return None
        base = Path(node.span.file).parent if node.span.file and not node.span.file.startswith("<") else Path.cwd()
        path = safe_resolve(base / rel)
        root = self.c.options.root
        if root is not None and not self.c.options.allow_outside_root:
            try:
                path.relative_to(safe_resolve(root))
            except ValueError:
                self.d.add(C.AIB412, f"{rel} resolves to {path}, outside the project root {root}", node.span)
                return None
        if not path.is_file():
            self.d.add(C.AIB406, f"local file not found: {rel} (looked at {path})", node.span,
                       hint="paths are relative to the file that names them")
            return None
        self.c.deps.append(str(path))
        return path

    def read_lines(self, node: Node, what: str) -> list[str] | None:
        path = self.local_file(node, what)
        if path is None:
            return None
        size = path.stat().st_size
        if size > MAX_INLINE_BYTES:
            self.d.add(C.AIB413, f"{path.name} is {size} bytes; inlining is limited to {MAX_INLINE_BYTES}",
                       node.span, hint="upload it and use `uri:` with `local:` for the checksum")
            return None
        data = path.read_bytes()
        if b"\0" in data:
            self.d.add(C.AIB413, f"{path.name} is a binary file and cannot be inlined", node.span)
            return None
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            self.d.add(C.AIB413, f"{path.name} is not UTF-8 text", node.span)
            return None
        self.d.add(C.AIB407, f"the lines of {node.value} are inlined into the template", node.span)
        return _split_lines(text)

    # -- top level ---------------------------------------------------------------------------------
    def lower(self, root: Mapping, file: str) -> TemplateModel | None:
        c, d = self.c, self.d
        self.unknown_keys(root, TOP_KEYS, "the top level")
        api = self.api_version(root)
        c.api_version = api
        doc: dict[str, Any] = {"type": RESOURCE_TYPE, "apiVersion": api}
        c.spans[()] = Span(root.span.file, root.span.line, root.span.col)  # where "the template" is
        if "type" in root.items:
            t = self.string(root.items["type"], "type")
            if t is not None and t.lower() != RESOURCE_TYPE.lower():
                d.add(C.AIB401, f"type is '{t}'; an image template is {RESOURCE_TYPE}",
                      root.items["type"].span, rule="S-01")
            self.mark(("type",), root.items["type"], root.key_spans.get("type"))
        if "apiVersion" in root.items:
            self.mark(("apiVersion",), root.items["apiVersion"], root.key_spans.get("apiVersion"))
        for key in ("name", "location"):
            if key in root.items:
                value = self.string(root.items[key], key)
                if value is not None:
                    doc[key] = value
                    self.mark((key,), root.items[key], root.key_spans.get(key))
        if isinstance(doc.get("location"), str):
            c.location = doc["location"]
        if "tags" in root.items:
            tags = self.tags(root.items["tags"], ("tags",), "tags")
            if tags is not None:
                doc["tags"] = tags
                c.key_spans[("tags",)] = root.key_spans["tags"]
        if "identity" in root.items:
            ident = self.identity(root.items["identity"])
            if ident is not None:
                doc["identity"] = ident
                c.key_spans[("identity",)] = root.key_spans["identity"]
        if "dependsOn" in root.items:
            doc["dependsOn"] = self.string_list(root.items["dependsOn"], ("dependsOn",), "dependsOn")
        doc["properties"] = self.properties(root)
        c.spans.setdefault(("properties",), root.items["properties"].span if "properties" in root.items
                           else root.span)
        os_family = self.os_family(root)
        generation = self.generation(root)
        return TemplateModel(doc=doc, spans=c.spans, key_spans=c.key_spans, api_version=api,
                             os_family=os_family, generation=generation, file=file, origin="dialect",
                             dependencies=c.deps, coerced=c.coerced, name_required=False)

    def api_version(self, root: Mapping) -> str:
        if self.c.options.api_version:
            api = self.c.options.api_version
            if api not in STABLE_API_VERSIONS:
                self.d.add(C.AIB410, f"--api-version {api} is not a stable image-template API version", None)
                return DEFAULT_API_VERSION
            return api
        node = root.items.get("apiVersion")
        if node is None:
            return DEFAULT_API_VERSION
        # An unquoted 2024-02-01 is a YAML date; its text is unambiguous, so read it as written.
        text = node.raw if isinstance(node, Scalar) and node.plain else self.string(node, "apiVersion")
        if not text:
            return DEFAULT_API_VERSION
        if text not in STABLE_API_VERSIONS:
            hint = None
            if text.endswith("-preview"):
                hint = "preview API versions are retired; use a stable one, e.g. 2020-02-14 or later"
            near = _close(text, STABLE_API_VERSIONS, n=1)
            if near and hint is None:
                hint = f"did you mean {near[0]}?"
            self.d.add(C.AIB410, f"apiVersion {text} is not a stable image-template API version", node.span,
                       hint=hint, rule="S-02")
            return DEFAULT_API_VERSION
        return text

    def os_family(self, root: Mapping) -> str | None:
        node = root.items.get("os")
        if node is None:
            return None
        value = self.string(node, "os")
        if value is None:
            return None
        if value.lower() not in ("linux", "windows"):
            self.d.add(C.AIB401, f"os is '{value}'; it must be linux or windows", node.span)
            return None
        return value.lower()

    def generation(self, root: Mapping) -> str | None:
        node = root.items.get("generation")
        if node is None:
            return None
        value = node.value if isinstance(node, Scalar) else None
        text = str(value).upper() if value is not None else ""
        if text in ("1", "V1", "GEN1"):
            return "V1"
        if text in ("2", "V2", "GEN2"):
            return "V2"
        self.d.add(C.AIB401, f"generation is '{value}'; it must be V1 or V2", node.span)
        return None

    def tags(self, node: Node, path: JsonPath, what: str) -> dict[str, str] | None:
        m = self.mapping(node, what)
        if m is None:
            return None
        out: dict[str, str] = {}
        self.mark(path, m)
        for k, v in m.items.items():
            if is_opaque_node(v):
                out[k] = v.value  # type: ignore[union-attr]
            else:
                s = self.string(v, f"the value of {what} '{k}'")
                if s is None:
                    continue
                out[k] = s
            self.mark(path + (k,), v, m.key_spans.get(k))
        return out

    def string_list(self, node: Node, path: JsonPath, what: str) -> list[str]:
        if isinstance(node, Scalar) and isinstance(node.value, str):
            node = Sequence(node.span, [node])
        if not isinstance(node, Sequence):
            self.d.add(C.AIB401, f"{what} must be a list of strings, not {type_name(node)}", node.span)
            return []
        out: list[str] = []
        self.mark(path, node)
        for item in node.items:
            s = self.string(item, f"an entry of {what}")
            if s is not None:
                self.mark(path + (len(out),), item)
                out.append(s)
        return out

    def identity(self, node: Node) -> Any:
        if isinstance(node, Mapping):
            return self.verbatim(("identity",), node)
        if isinstance(node, Scalar) and isinstance(node.value, str):
            ids = [node]
        elif isinstance(node, Sequence):
            ids = node.items
        else:
            self.d.add(C.AIB411, f"identity must be a resource id, a list of ids or a mapping, not "
                       f"{type_name(node)}", node.span, rule="I-04")
            return None
        uai: dict[str, Any] = {}
        self.mark(("identity",), node)
        self.mark(("identity", "type"), node)
        self.mark(("identity", "userAssignedIdentities"), node)
        for item in ids:
            s = self.string(item, "an identity")
            if s is not None:
                uai[s] = {}
                self.mark(("identity", "userAssignedIdentities", s), item)
                self.c.key_spans[("identity", "userAssignedIdentities", s)] = item.span
        return {"type": "UserAssigned", "userAssignedIdentities": uai}

    # -- properties --------------------------------------------------------------------------------
    def properties(self, root: Mapping) -> dict[str, Any]:
        d = self.d
        verb: dict[str, tuple[Node, Span | None, str]] = {}  # property -> (node, key span, where)
        props_node = root.items.get("properties")
        if props_node is not None:
            pm = self.mapping(props_node, "properties")
            if pm is not None:
                self.unknown_keys(pm, OFFICIAL_PROPERTIES, "properties")
                for k, v in pm.items.items():
                    if k in OFFICIAL_PROPERTIES:
                        verb[k] = (v, pm.key_spans.get(k), "properties." + k)
        for k in OFFICIAL_PROPERTIES:
            if k in root.items and k not in _SHORTHAND_PROPS:
                if k in verb:
                    d.add(C.AIB408, f"{k} is given twice: at the top level and as {verb[k][2]}",
                          root.key_spans.get(k, root.span), hint="keep one of them")
                    continue
                verb[k] = (root.items[k], root.key_spans.get(k), k)
        # a dialect key and its verbatim twin under properties: conflict
        for short, owned in _SHORTHAND_PROPS.items():
            if short in root.items:
                for prop in owned:
                    if prop in verb and not (short == "build" and prop == "vmProfile"):
                        d.add(C.AIB408, f"{verb[prop][2]} and `{short}:` both set {prop}",
                              root.key_spans.get(short, root.span), hint="keep one of them")
        props: dict[str, Any] = {}
        # vmProfile + timeout from build:
        vm: dict[str, Any] = {}
        if "vmProfile" in verb:
            vnode, kspan, _ = verb.pop("vmProfile")
            v = self.verbatim(("properties", "vmProfile"), vnode, kspan)
            if isinstance(v, dict):
                vm = v
            else:
                props["vmProfile"] = v
        timeout_set = False
        if "build" in root.items:
            timeout_set = self.build(root.items["build"], vm, props)
        if "buildTimeoutInMinutes" in verb:
            node, kspan, where = verb.pop("buildTimeoutInMinutes")
            if timeout_set:
                d.add(C.AIB408, f"{where} and build.timeout both set the build timeout", node.span,
                      hint="keep one of them")
            else:
                props["buildTimeoutInMinutes"] = self.verbatim(("properties", "buildTimeoutInMinutes"), node, kspan)
        if vm or "vmProfile" in self.c.spans or ("properties", "vmProfile") in self.c.spans:
            if vm:
                props["vmProfile"] = vm
        if "source" in root.items:
            src = self.source(root.items["source"])
            if src is not None:
                props["source"] = src
                self.c.key_spans[("properties", "source")] = root.key_spans["source"]
        if "customize" in root.items:
            props["customize"] = self.steps(root.items["customize"], ("properties", "customize"),
                                            KIND_KEYS, "customize")
            self.c.key_spans[("properties", "customize")] = root.key_spans["customize"]
        if "validate" in root.items:
            val = self.validate(root.items["validate"])
            if val is not None:
                props["validate"] = val
        if "optimize" in root.items:
            opt = self.optimize(root.items["optimize"])
            if opt is not None:
                props["optimize"] = opt
        if "distribute" in root.items:
            props["distribute"] = self.distribute(root.items["distribute"])
            self.c.key_spans[("properties", "distribute")] = root.key_spans["distribute"]
        if "errorHandling" in root.items:
            props["errorHandling"] = self.verbatim(("properties", "errorHandling"), root.items["errorHandling"],
                                                   root.key_spans.get("errorHandling"))
        if "autoRun" in root.items:
            ar = self.auto_run(root.items["autoRun"])
            if ar is not None:
                props["autoRun"] = ar
        for k, (node, kspan, _) in verb.items():
            props[k] = self.verbatim(("properties", k), node, kspan)
        return _ordered(props, OFFICIAL_PROPERTIES)

    def build(self, node: Node, vm: dict[str, Any], props: dict[str, Any]) -> bool:
        m = self.mapping(node, "build")
        if m is None:
            return False
        allowed = ("vmSize", "osDiskSizeGB", "timeout", "subnet", "proxyVmSize", "containerInstanceSubnet",
                   "identities", "vnetConfig", "userAssignedIdentities")
        self.unknown_keys(m, allowed, "build")
        base = ("properties", "vmProfile")
        self.c.spans.setdefault(base, m.span)
        timeout_set = False

        def setleaf(key: str, path: JsonPath, value: Any, vnode: Node) -> None:
            target = vm
            for part in path[:-1]:
                target = target.setdefault(part, {})  # type: ignore[assignment]
                if not isinstance(target, dict):
                    return
            if path[-1] in target:
                self.d.add(C.AIB408, f"build.{key} and vmProfile.{'.'.join(map(str, path))} both set "
                           f"{path[-1]}", vnode.span, hint="keep one of them")
                return
            target[path[-1]] = value
            self.mark(base + path, vnode, m.key_spans.get(key))

        for key, vnode in m.items.items():
            if key == "timeout":
                minutes = self.duration_minutes(vnode)
                if minutes is not None:
                    props["buildTimeoutInMinutes"] = minutes
                    self.mark(("properties", "buildTimeoutInMinutes"), vnode, m.key_spans.get(key))
                    timeout_set = True
            elif key == "vmSize":
                s = self.string(vnode, "build.vmSize")
                if s is not None:
                    setleaf(key, ("vmSize",), s, vnode)
            elif key == "osDiskSizeGB":
                if isinstance(vnode, Scalar) and isinstance(vnode.value, int) and not isinstance(vnode.value, bool):
                    setleaf(key, ("osDiskSizeGB",), vnode.value, vnode)
                elif is_opaque_node(vnode):
                    setleaf(key, ("osDiskSizeGB",), vnode.value, vnode)  # type: ignore[union-attr]
                else:
                    self.d.add(C.AIB401, f"build.osDiskSizeGB must be a whole number of GB, not {type_name(vnode)}",
                               vnode.span, rule="V-02")
            elif key == "subnet":
                s = self.string(vnode, "build.subnet")
                if s is not None:
                    setleaf(key, ("vnetConfig", "subnetId"), s, vnode)
            elif key == "proxyVmSize":
                s = self.string(vnode, "build.proxyVmSize")
                if s is not None:
                    setleaf(key, ("vnetConfig", "proxyVmSize"), s, vnode)
            elif key == "containerInstanceSubnet":
                s = self.string(vnode, "build.containerInstanceSubnet")
                if s is not None:
                    setleaf(key, ("vnetConfig", "containerInstanceSubnetId"), s, vnode)
            elif key in ("identities", "userAssignedIdentities"):
                ids = self.string_list(vnode, base + ("userAssignedIdentities",), f"build.{key}")
                setleaf(key, ("userAssignedIdentities",), ids, vnode)
            elif key == "vnetConfig":
                vc = self.verbatim(base + ("vnetConfig",), vnode, m.key_spans.get(key))
                if isinstance(vc, dict) and isinstance(vm.get("vnetConfig"), dict):
                    for k2, v2 in vc.items():
                        if k2 in vm["vnetConfig"]:
                            self.d.add(C.AIB408, f"build.vnetConfig.{k2} is set twice", vnode.span)
                        else:
                            vm["vnetConfig"][k2] = v2
                else:
                    setleaf(key, ("vnetConfig",), vc, vnode)
        if "vnetConfig" in vm and isinstance(vm["vnetConfig"], dict):
            vm["vnetConfig"] = _ordered(vm["vnetConfig"], ("subnetId", "containerInstanceSubnetId", "proxyVmSize"))
        ordered = _ordered(vm, ("vmSize", "osDiskSizeGB", "userAssignedIdentities", "vnetConfig"))
        vm.clear()
        vm.update(ordered)
        return timeout_set

    def duration_minutes(self, node: Node) -> int | None:
        if isinstance(node, Scalar):
            v = node.value
            if isinstance(v, int) and not isinstance(v, bool):
                return v
            if isinstance(v, str):
                if is_opaque(v):
                    return v  # type: ignore[return-value]
                text = v.strip()
                if text.isdigit():
                    return int(text)
                mt = _DURATION.match(text)
                if mt and (mt.group(1) or mt.group(2)):
                    return int(mt.group(1) or 0) * 60 + int(mt.group(2) or 0)
        self.d.add(C.AIB405, f"build.timeout `{getattr(node, 'raw', '') or type_name(node)}` is not a duration",
                   node.span, rule="B-01")
        return None

    # -- source ------------------------------------------------------------------------------------
    def source(self, node: Node) -> dict[str, Any] | None:
        path: JsonPath = ("properties", "source")
        if isinstance(node, Scalar):
            text = self.string(node, "source")
            if text is None:
                return None
            out = self.source_from_string(text, node)
            if out is not None:
                self.mark(path, node)
                for k in out:
                    self.mark(path + (k,), node)
            return out
        m = self.mapping(node, "source")
        if m is None:
            return None
        if "type" in m.items or not any(k in m.items for k in ("urn", "managedImage", "imageVersion")):
            out = self.verbatim(path, m)
            if "type" not in out and "publisher" in out:
                out = {"type": "PlatformImage", **out}
                self.mark(path + ("type",), m)
            if "plan" in out:
                self.d.add(C.AIB400, "unknown key 'plan' in an official source", m.key_spans["plan"],
                           hint="use `planInfo: {planName, planProduct, planPublisher}`, or `urn:` with `plan:`")
            return out
        self.unknown_keys(m, ("urn", "plan", "managedImage", "imageVersion"), "source")
        kinds = [k for k in ("urn", "managedImage", "imageVersion") if k in m.items]
        if len(kinds) > 1:
            self.d.add(C.AIB408, f"source has both {kinds[0]} and {kinds[1]}", m.span, hint="keep one of them")
            return None
        kind = kinds[0]
        text = self.string(m.items[kind], f"source.{kind}")
        if text is None:
            return None
        self.mark(path, m)
        if kind == "urn":
            out = self.urn(text, m.items[kind])
        elif kind == "managedImage":
            out = {"type": "ManagedImage", "imageId": text}
        else:
            out = {"type": "SharedImageVersion", "imageVersionId": text}
        if out is None:
            return None
        for k in out:
            self.mark(path + (k,), m.items[kind])
        if "plan" in m.items:
            if kind != "urn":
                self.d.add(C.AIB408, "plan goes with a marketplace (urn) source", m.key_spans["plan"], rule="SRC-03")
            else:
                pm = self.mapping(m.items["plan"], "source.plan")
                if pm is not None:
                    self.unknown_keys(pm, ("name", "product", "publisher"), "source.plan")
                    plan: dict[str, Any] = {}
                    for short, official in (("name", "planName"), ("product", "planProduct"),
                                            ("publisher", "planPublisher")):
                        if short in pm.items:
                            s = self.string(pm.items[short], f"source.plan.{short}")
                            if s is not None:
                                plan[official] = s
                                self.mark(path + ("planInfo", official), pm.items[short], pm.key_spans[short])
                    out["planInfo"] = plan
                    self.mark(path + ("planInfo",), pm, m.key_spans["plan"])
        return out

    def source_from_string(self, text: str, node: Node) -> dict[str, Any] | None:
        low = text.lower()
        if low.startswith("/subscriptions/"):
            if "/providers/microsoft.compute/galleries/" in low:
                if "/versions/" not in low:
                    self.d.add(C.AIB403, "a gallery source names an image version: .../images/IMAGE/versions/VERSION",
                               node.span, rule="SRC-05", hint="append /versions/latest to use the newest version")
                    return None
                return {"type": "SharedImageVersion", "imageVersionId": text}
            if "/providers/microsoft.compute/images/" in low:
                return {"type": "ManagedImage", "imageId": text}
            self.d.add(C.AIB403, "this resource id is neither a managed image nor a gallery image version",
                       node.span, rule="SRC-04",
                       hint="managed image: .../providers/Microsoft.Compute/images/NAME; gallery: "
                            ".../galleries/G/images/I/versions/V")
            return None
        if is_opaque(text):
            self.d.add(C.AIB403, f"source `{text}` is an expression or placeholder; give a URN or an image id",
                       node.span)
            return None
        return self.urn(text, node)

    def urn(self, text: str, node: Node) -> dict[str, Any] | None:
        parts = text.split(":")
        if len(parts) == 3:
            parts.append("latest")
        if len(parts) != 4 or not all(_URN_PART.match(p) for p in parts):
            self.d.add(C.AIB403, f"`{text}` is not a marketplace URN publisher:offer:sku[:version]", node.span,
                       rule="SRC-02", hint="e.g. Canonical:ubuntu-24_04-lts:server:latest, or an image resource id")
            return None
        return {"type": "PlatformImage", "publisher": parts[0], "offer": parts[1], "sku": parts[2],
                "version": parts[3]}

    # -- steps -------------------------------------------------------------------------------------
    def steps(self, node: Node, path: JsonPath, kinds: tuple[str, ...], what: str) -> list[Any]:
        if not isinstance(node, Sequence):
            if isinstance(node, Scalar) and node.value is None:
                return []
            self.d.add(C.AIB401, f"{what} must be a list of steps, not {type_name(node)}", node.span)
            return []
        self.mark(path, node)
        out: list[Any] = []
        for item in node.items:
            step = self.step(item, path + (len(out),), kinds, what)
            if step is not None:
                out.append(step)
        return out

    def step(self, node: Node, path: JsonPath, kinds: tuple[str, ...], what: str) -> dict[str, Any] | None:
        m = self.mapping(node, f"a step in {what}")
        if m is None:
            return None
        present = [k for k in KIND_KEYS if k in m.items]
        if "type" in m.items:
            if present:
                self.d.add(C.AIB404, f"a step names both type and `{present[0]}`", m.key_spans[present[0]])
                return None
            return self.verbatim(path, m)
        if len(present) != 1:
            if present:
                msg = f"step names {len(present)} kinds ({', '.join(present)}); a step does exactly one thing"
                span = m.key_spans[present[1]]
            else:
                name = m.items.get("name")
                label = f" '{name.value}'" if isinstance(name, Scalar) else ""
                msg = f"step{label} names no kind"
                span = m.span
            near = None
            if not present:
                for k in m.items:
                    cand = _close(k, list(kinds), n=1, cutoff=0.6)
                    if cand:
                        near = f"did you mean '{cand[0]}' instead of '{k}'?"
                        break
            self.d.add(C.AIB404, msg, span, hint=near)
            return None
        kind = present[0]
        if kind not in kinds:
            self.d.add(C.AIB404, f"`{kind}` steps are not allowed in {what}", m.key_spans[kind],
                       hint="validation steps are shell, powershell or file")
            return None
        self.mark(path, m)
        out: dict[str, Any] = {"type": _KIND_TYPE[kind]}
        self.mark(path + ("type",), m.items[kind], m.key_spans[kind])
        if "name" in m.items:
            name = self.string(m.items["name"], "a step name")
            if name is not None:
                out["name"] = name
                self.mark(path + ("name",), m.items["name"], m.key_spans["name"])
        step_level = {"shell": ("name", "shell"),
                      "powershell": ("name", "powershell", "runElevated", "runAsSystem", "validExitCodes"),
                      "file": ("name", "file"), "windowsRestart": ("name", "windowsRestart"),
                      "windowsUpdate": ("name", "windowsUpdate")}[kind]
        self.unknown_keys(m, step_level, f"a {kind} step")
        body = m.items[kind]
        if kind in ("shell", "powershell"):
            self.script_step(kind, body, m, path, out)
        elif kind == "file":
            self.file_step(body, path, out)
        elif kind == "windowsRestart":
            self.restart_step(body, path, out)
        else:
            self.update_step(body, path, out)
        return out

    def script_step(self, kind: str, body: Node, step: Mapping, path: JsonPath, out: dict[str, Any]) -> None:
        ps_opts = ("runElevated", "runAsSystem", "validExitCodes")
        fields: dict[str, Any] = {}
        if isinstance(body, Scalar):
            if isinstance(body.value, str):
                fields["inline"] = _split_lines(body.value)
                self.mark(path + ("inline",), body)
                self.block_line_spans(body, path + ("inline",), len(fields["inline"]))
            else:
                self.string(body, f"the {kind} script")
        elif isinstance(body, Sequence):
            fields["inline"] = self.string_list(body, path + ("inline",), f"{kind} commands")
        elif isinstance(body, Mapping):
            allowed = ["inline", "script", "uri", "scriptUri", "sha256", "sha256Checksum", "local"]
            if kind == "powershell":
                allowed += list(ps_opts)
            self.unknown_keys(body, allowed, f"a {kind} step")
            sources = [k for k in ("inline", "script", "uri", "scriptUri") if k in body.items]
            if "uri" in body.items and "scriptUri" in body.items:
                self.d.add(C.AIB408, "uri and scriptUri are the same thing; keep one", body.key_spans["scriptUri"])
            if "inline" in body.items and "script" in body.items:
                self.d.add(C.AIB408, "inline and script both give the commands; keep one", body.key_spans["script"],
                           rule="SH-01")
            if not sources:
                self.d.add(C.AIB402, f"a {kind} step needs inline, script or uri", body.span, rule="SH-01")
            for key, vnode in body.items.items():
                kspan = body.key_spans.get(key)
                if key == "inline":
                    if isinstance(vnode, Scalar) and isinstance(vnode.value, str):
                        fields["inline"] = _split_lines(vnode.value)
                        self.mark(path + ("inline",), vnode, kspan)
                        self.block_line_spans(vnode, path + ("inline",), len(fields["inline"]))
                    else:
                        fields["inline"] = self.string_list(vnode, path + ("inline",), f"{kind}.inline")
                elif key == "script":
                    lines = self.read_lines(vnode, f"{kind}.script")
                    if lines is not None:
                        fields["inline"] = lines
                        self.mark(path + ("inline",), vnode, kspan)
                elif key in ("uri", "scriptUri"):
                    s = self.string(vnode, f"{kind}.{key}")
                    if s is not None:
                        fields["scriptUri"] = s
                        self.mark(path + ("scriptUri",), vnode, kspan)
                elif key in ("sha256", "sha256Checksum"):
                    self.checksum_field(vnode, kspan, path, fields, f"{kind}.{key}")
                elif key == "local":
                    pass
                else:  # powershell options inside the mapping
                    fields[key] = self.verbatim(path + (key,), vnode, kspan)
            if "local" in body.items:
                self.local_checksum(body.items["local"], path, fields, f"{kind}.local", "scriptUri" in fields)
        else:
            self.d.add(C.AIB401, f"{kind} must be a script, a list of commands or a mapping", body.span)
        if kind == "powershell":
            for opt in ps_opts:
                if opt in step.items:
                    if opt in fields:
                        self.d.add(C.AIB408, f"{opt} is set at step level and inside powershell",
                                   step.key_spans[opt])
                    else:
                        fields[opt] = self.verbatim(path + (opt,), step.items[opt], step.key_spans[opt])
        order = ("scriptUri", "sha256Checksum", "inline", "runElevated", "runAsSystem", "validExitCodes")
        out.update(_ordered(fields, order))

    def block_line_spans(self, node: Scalar, path: JsonPath, count: int) -> None:
        """Each line of a literal block scalar (`shell: |`) gets its own span, so per-command
        diagnostics (SH-03, C-05) point at the line, not at the `|`."""
        if not node.block_indent:
            return
        file, first = node.span.file, node.span.line + 1
        col = node.block_indent + 1
        for i in range(count):
            self.c.spans[path + (i,)] = Span(file, first + i, col, first + i, col)

    def checksum_field(self, vnode: Node, kspan: Span | None, path: JsonPath, fields: dict[str, Any],
                       what: str) -> None:
        s = self.string(vnode, what)
        if s is not None:
            fields["sha256Checksum"] = s
            self.mark(path + ("sha256Checksum",), vnode, kspan)

    def local_checksum(self, vnode: Node, path: JsonPath, fields: dict[str, Any], what: str, remote: bool) -> None:
        if not remote:
            self.d.add(C.AIB408, f"{what} is a local copy of a remote file, but there is no remote uri",
                       vnode.span, hint="for a local script use `script:`; `local:` goes with `uri:`/`from:`")
            return
        local = self.local_file(vnode, what)
        if local is None:
            return
        data = local.read_bytes()
        if what == "file.local" and len(data) > MAX_FILE_STEP_BYTES:
            self.d.add(C.AIB417, f"{local.name} is {len(data) / 1e6:.1f} MB; the File step is meant for files "
                       f"under {MAX_FILE_STEP_BYTES // 1_000_000} MB", vnode.span)
        import hashlib

        digest = hashlib.sha256(data).hexdigest()
        given = fields.get("sha256Checksum")
        if isinstance(given, str) and not is_opaque(given):
            if given.lower() != digest:
                self.d.add(C.AIB415, f"the local copy's sha256 is {digest}, but sha256Checksum says {given}",
                           self.c.spans.get(path + ("sha256Checksum",), vnode.span), rule="SH-02",
                           hint="update sha256Checksum, or the local copy is not the file the URI serves")
            return
        fields["sha256Checksum"] = digest
        self.mark(path + ("sha256Checksum",), vnode)

    def file_step(self, body: Node, path: JsonPath, out: dict[str, Any]) -> None:
        m = self.mapping(body, "file")
        if m is None:
            return
        self.unknown_keys(m, ("from", "sourceUri", "to", "destination", "sha256", "sha256Checksum", "local"),
                          "a file step")
        fields: dict[str, Any] = {}
        for short, official in (("from", "sourceUri"), ("to", "destination")):
            if short in m.items and official in m.items:
                self.d.add(C.AIB408, f"{short} and {official} are the same thing; keep one", m.key_spans[official])
            key = short if short in m.items else official
            if key in m.items:
                s = self.string(m.items[key], f"file.{key}")
                if s is not None:
                    fields[official] = s
                    self.mark(path + (official,), m.items[key], m.key_spans[key])
            else:
                self.d.add(C.AIB402, f"a file step needs `{short}` ({official})", m.span, rule="F-01")
        for key in ("sha256", "sha256Checksum"):
            if key in m.items:
                self.checksum_field(m.items[key], m.key_spans[key], path, fields, f"file.{key}")
        if "local" in m.items:
            self.local_checksum(m.items["local"], path, fields, "file.local", "sourceUri" in fields)
        out.update(_ordered(fields, ("sourceUri", "destination", "sha256Checksum")))

    def restart_step(self, body: Node, path: JsonPath, out: dict[str, Any]) -> None:
        if isinstance(body, Scalar) and (body.value is True or body.value is None):
            return
        m = self.mapping(body, "windowsRestart")
        if m is None:
            return
        names = {"command": "restartCommand", "checkCommand": "restartCheckCommand", "timeout": "restartTimeout"}
        self.unknown_keys(m, list(names) + list(names.values()), "a windowsRestart step")
        fields: dict[str, Any] = {}
        for key, vnode in m.items.items():
            official = names.get(key, key)
            if official in fields:
                self.d.add(C.AIB408, f"{key} and {official} are the same thing; keep one", m.key_spans[key])
                continue
            if official == "restartTimeout" and isinstance(vnode, Scalar) and isinstance(vnode.value, int) \
                    and not isinstance(vnode.value, bool):
                self.d.add(C.AIB405, f"restart timeout {vnode.value} has no unit", vnode.span, rule="WR-01",
                           hint=f"write it with a unit, e.g. {vnode.value}m")
                continue
            s = self.string(vnode, f"windowsRestart.{key}")
            if s is not None:
                fields[official] = s
                self.mark(path + (official,), vnode, m.key_spans[key])
        out.update(_ordered(fields, ("restartCommand", "restartCheckCommand", "restartTimeout")))

    def update_step(self, body: Node, path: JsonPath, out: dict[str, Any]) -> None:
        if isinstance(body, Scalar) and (body.value is True or body.value is None):
            return
        m = self.mapping(body, "windowsUpdate")
        if m is None:
            return
        self.unknown_keys(m, ("searchCriteria", "filters", "updateLimit"), "a windowsUpdate step")
        fields: dict[str, Any] = {}
        for key, vnode in m.items.items():
            kspan = m.key_spans[key]
            if key == "searchCriteria":
                s = self.string(vnode, "windowsUpdate.searchCriteria")
                if s is not None:
                    fields[key] = s
                    self.mark(path + (key,), vnode, kspan)
            elif key == "filters":
                fields[key] = self.string_list(vnode, path + (key,), "windowsUpdate.filters")
                self.c.key_spans[path + (key,)] = kspan
            else:
                fields[key] = self.verbatim(path + (key,), vnode, kspan)
        out.update(_ordered(fields, ("searchCriteria", "filters", "updateLimit")))

    # -- validate / optimize / autoRun -------------------------------------------------------------
    def validate(self, node: Node) -> dict[str, Any] | None:
        path: JsonPath = ("properties", "validate")
        vkinds = ("shell", "powershell", "file")
        if isinstance(node, Sequence):
            self.mark(path, node)
            return {"inVMValidations": self.steps(node, path + ("inVMValidations",), vkinds, "validate")}
        m = self.mapping(node, "validate")
        if m is None:
            return None
        self.unknown_keys(m, ("steps", "inVMValidations", "continueOnFailure", "continueDistributeOnFailure",
                              "sourceValidationOnly"), "validate")
        self.mark(path, m)
        out: dict[str, Any] = {}
        for short, official in (("continueOnFailure", "continueDistributeOnFailure"),
                                ("sourceValidationOnly", "sourceValidationOnly")):
            for key in {short, official}:
                if key in m.items:
                    if official in out:
                        self.d.add(C.AIB408, f"{key} is given twice", m.key_spans[key])
                        continue
                    value = self.boolean(m.items[key], f"validate.{key}")
                    if value is not None:
                        out[official] = value
                        self.mark(path + (official,), m.items[key], m.key_spans[key])
        for key in ("steps", "inVMValidations"):
            if key in m.items:
                if "inVMValidations" in out:
                    self.d.add(C.AIB408, "steps and inVMValidations are the same thing; keep one", m.key_spans[key])
                    continue
                out["inVMValidations"] = self.steps(m.items[key], path + ("inVMValidations",), vkinds, "validate")
        return out

    def optimize(self, node: Node) -> Any:
        path: JsonPath = ("properties", "optimize")
        m = self.mapping(node, "optimize")
        if m is None:
            return None
        out = self.verbatim(path, m)
        vb = m.items.get("vmBoot")
        if isinstance(vb, Scalar) and isinstance(vb.value, bool):
            out["vmBoot"] = {"state": "Enabled" if vb.value else "Disabled"}
            self.mark(path + ("vmBoot", "state"), vb)
        return out

    def auto_run(self, node: Node) -> Any:
        path: JsonPath = ("properties", "autoRun")
        if isinstance(node, Scalar) and isinstance(node.value, bool):
            self.mark(path, node)
            self.mark(path + ("state",), node)
            return {"state": "Enabled" if node.value else "Disabled"}
        if isinstance(node, Scalar) and isinstance(node.value, str):
            self.mark(path, node)
            self.mark(path + ("state",), node)
            return {"state": node.value}
        return self.verbatim(path, node)

    # -- distribute --------------------------------------------------------------------------------
    def distribute(self, node: Node) -> list[Any]:
        path: JsonPath = ("properties", "distribute")
        if not isinstance(node, Sequence):
            self.d.add(C.AIB401, f"distribute must be a list of targets, not {type_name(node)}", node.span,
                       rule="DI-01")
            return []
        self.mark(path, node)
        out: list[Any] = []
        for item in node.items:
            target = self.target(item, path + (len(out),))
            if target is not None:
                out.append(target)
        return out

    def target(self, node: Node, path: JsonPath) -> dict[str, Any] | None:
        m = self.mapping(node, "a distribute target")
        if m is None:
            return None
        present = [k for k in _TARGET_KEYS if k in m.items]
        if "type" in m.items:
            if present:
                self.d.add(C.AIB409, f"a target names both type and `{present[0]}`", m.key_spans[present[0]])
                return None
            if "name" in m.items and "runOutputName" not in m.items:
                out = self.verbatim(path, Mapping(m.span, {k: v for k, v in m.items.items() if k != "name"},
                                                  {k: v for k, v in m.key_spans.items() if k != "name"}))
                out["runOutputName"] = self.string(m.items["name"], "name") or ""
                self.mark(path + ("runOutputName",), m.items["name"], m.key_spans["name"])
                return out
            return self.verbatim(path, m)
        if len(present) != 1:
            self.d.add(C.AIB409, "a distribute target names exactly one of managedImage, gallery, vhd"
                       + (f" (this one names {', '.join(present)})" if present else ""),
                       m.span, rule="DI-01")
            return None
        kind = present[0]
        self.mark(path, m)
        common = ["name", "runOutputName", "artifactTags", kind]
        extra = {"managedImage": ["location"],
                 "gallery": ["regions", "storageAccountType", "excludeFromLatest", "versioning", "replicationMode",
                             "replicationRegions", "targetRegions"],
                 "vhd": []}[kind]
        self.unknown_keys(m, common + extra, f"a {kind} target")
        body = m.items[kind]
        out: dict[str, Any] = {}
        derived_name: str | None = None
        if kind == "managedImage":
            out["type"] = "ManagedImage"
            image_id = self.string(body, "managedImage")
            if image_id is not None:
                out["imageId"] = image_id
                self.mark(path + ("imageId",), body, m.key_spans[kind])
                derived_name = image_id.rstrip("/").rsplit("/", 1)[-1]
            if "location" in m.items:
                loc = self.string(m.items["location"], "location")
                if loc is not None:
                    out["location"] = loc
                    self.mark(path + ("location",), m.items["location"], m.key_spans["location"])
            elif self.c.location is not None:
                out["location"] = self.c.location
                self.mark(path + ("location",), body)
        elif kind == "gallery":
            out["type"] = "SharedImage"
            gid = self.string(body, "gallery")
            if gid is not None:
                out["galleryImageId"] = gid
                self.mark(path + ("galleryImageId",), body, m.key_spans[kind])
                parts = gid.rstrip("/").split("/")
                low = [p.lower() for p in parts]
                if "images" in low and low.index("images") + 1 < len(parts):
                    derived_name = parts[low.index("images") + 1]
            self.gallery_fields(m, path, out)
        else:
            out["type"] = "VHD"
            if isinstance(body, Mapping):
                self.unknown_keys(body, ("uri",), "vhd")
                if "uri" in body.items:
                    uri = self.string(body.items["uri"], "vhd.uri")
                    if uri is not None:
                        out["uri"] = uri
                        self.mark(path + ("uri",), body.items["uri"], body.key_spans["uri"])
            elif not (isinstance(body, Scalar) and (body.value is True or body.value is None)):
                self.d.add(C.AIB409, "vhd takes `true` or `{uri: ...}`", body.span, rule="DI-06")
            derived_name = "vhd"
        self.mark(path + ("type",), body, m.key_spans[kind])
        names = [k for k in ("runOutputName", "name") if k in m.items]
        if len(names) == 2:
            self.d.add(C.AIB408, "name and runOutputName are the same thing; keep one", m.key_spans["name"])
        if names:
            rn = self.string(m.items[names[0]], names[0])
            if rn is not None:
                out["runOutputName"] = rn
                self.mark(path + ("runOutputName",), m.items[names[0]], m.key_spans[names[0]])
        elif derived_name and not is_opaque(derived_name):
            out["runOutputName"] = re.sub(r"[^A-Za-z0-9\-_.]", "-", derived_name)[:64]
            self.mark(path + ("runOutputName",), body)
        if "artifactTags" in m.items:
            tags = self.tags(m.items["artifactTags"], path + ("artifactTags",), "artifactTags")
            if tags is not None:
                out["artifactTags"] = tags
                self.c.key_spans[path + ("artifactTags",)] = m.key_spans["artifactTags"]
        return out

    def gallery_fields(self, m: Mapping, path: JsonPath, out: dict[str, Any]) -> None:
        new_style = STABLE_API_VERSIONS.index(self.c.api_version) >= STABLE_API_VERSIONS.index(TARGET_REGIONS_SINCE)
        account_node = m.items.get("storageAccountType")
        if "regions" in m.items:
            for verbatim_key in ("replicationRegions", "targetRegions"):
                if verbatim_key in m.items:
                    self.d.add(C.AIB408, f"regions and {verbatim_key} both set the regions; keep one",
                               m.key_spans[verbatim_key])
            rnode = m.items["regions"]
            kspan = m.key_spans["regions"]
            if isinstance(rnode, Scalar) and isinstance(rnode.value, str):
                rnode = Sequence(rnode.span, [rnode])
            if not isinstance(rnode, Sequence):
                self.d.add(C.AIB401, f"regions must be a list, not {type_name(rnode)}", rnode.span, rule="DI-04")
            elif new_style:
                regions: list[Any] = []
                rpath = path + ("targetRegions",)
                self.mark(rpath, rnode, kspan)
                for item in rnode.items:
                    entry = self.region_entry(item, rpath + (len(regions),))
                    if entry is None:
                        continue
                    if account_node is not None and "storageAccountType" not in entry:
                        acct = self.string(account_node, "storageAccountType")
                        if acct is not None:
                            entry["storageAccountType"] = acct
                            self.mark(rpath + (len(regions), "storageAccountType"), account_node)
                    regions.append(entry)
                out["targetRegions"] = regions
                account_node = None  # folded into each region
            else:
                names: list[str] = []
                rpath = path + ("replicationRegions",)
                self.mark(rpath, rnode, kspan)
                for item in rnode.items:
                    if isinstance(item, Mapping):
                        extra = [k for k in item.items if k not in ("name",)]
                        if extra:
                            self.d.add(C.AIB409, f"per-region {', '.join(extra)} need apiVersion "
                                       f"{TARGET_REGIONS_SINCE} or later (this template uses {self.c.api_version})",
                                       item.key_spans[extra[0]], rule="DI-04",
                                       hint="set apiVersion: 2022-07-01 or later, or list region names only")
                        item = item.items.get("name", item)
                    s = self.string(item, "a region")
                    if s is not None:
                        self.mark(rpath + (len(names),), item)
                        names.append(s)
                out["replicationRegions"] = names
        for key in ("replicationRegions", "targetRegions"):
            if key in m.items:
                out[key] = self.verbatim(path + (key,), m.items[key], m.key_spans[key])
        if account_node is not None:
            acct = self.string(account_node, "storageAccountType")
            if acct is not None:
                out["storageAccountType"] = acct
                self.mark(path + ("storageAccountType",), account_node, m.key_spans["storageAccountType"])
        if "excludeFromLatest" in m.items:
            v = self.boolean(m.items["excludeFromLatest"], "excludeFromLatest")
            if v is not None:
                out["excludeFromLatest"] = v
                self.mark(path + ("excludeFromLatest",), m.items["excludeFromLatest"], m.key_spans["excludeFromLatest"])
        if "versioning" in m.items:
            vnode = m.items["versioning"]
            scheme = vnode.value.lower() if isinstance(vnode, Scalar) and isinstance(vnode.value, str) else None
            if scheme in ("latest", "source"):
                out["versioning"] = {"scheme": vnode.value.capitalize()}
                self.mark(path + ("versioning",), vnode, m.key_spans["versioning"])
                self.mark(path + ("versioning", "scheme"), vnode)
            else:
                out["versioning"] = self.verbatim(path + ("versioning",), vnode, m.key_spans["versioning"])
        if "replicationMode" in m.items:
            out["replicationMode"] = self.verbatim(path + ("replicationMode",), m.items["replicationMode"],
                                                   m.key_spans["replicationMode"])

    def region_entry(self, item: Node, path: JsonPath) -> dict[str, Any] | None:
        if isinstance(item, Scalar):
            s = self.string(item, "a region")
            if s is None:
                return None
            self.mark(path, item)
            self.mark(path + ("name",), item)
            return {"name": s}
        m = self.mapping(item, "a region")
        if m is None:
            return None
        names = {"name": "name", "replicas": "replicaCount", "replicaCount": "replicaCount",
                 "storage": "storageAccountType", "storageAccountType": "storageAccountType"}
        self.unknown_keys(m, list(names), "a region")
        self.mark(path, m)
        entry: dict[str, Any] = {}
        for key, vnode in m.items.items():
            official = names.get(key)
            if official is None:
                continue
            if official in entry:
                self.d.add(C.AIB408, f"{key} is given twice in a region", m.key_spans[key])
                continue
            entry[official] = (self.string(vnode, f"region {key}") if official != "replicaCount"
                               else to_plain(vnode))
            self.mark(path + (official,), vnode, m.key_spans[key])
        if "name" not in entry:
            self.d.add(C.AIB402, "a region needs a name", m.span, rule="DI-04")
            return None
        return _ordered(entry, ("name", "replicaCount", "storageAccountType"))


def _close(word: str, options: Any, n: int = 1, cutoff: float = 0.6) -> list[str]:
    from difflib import get_close_matches  # only on the error path: keeps `compile` start-up lean

    return get_close_matches(word, options, n=n, cutoff=cutoff)


def is_opaque_node(node: Node) -> bool:
    return isinstance(node, Scalar) and is_opaque(node.value)


def _split_lines(text: str) -> list[str]:
    lines = text.replace("\r\n", "\n").split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def _ordered(d: dict[str, Any], order: tuple[str, ...] | list[str]) -> dict[str, Any]:
    out = {k: d[k] for k in order if k in d}
    for k, v in d.items():
        if k not in out:
            out[k] = v
    return out


def lower(node: Mapping, file: str, diags: DiagnosticBag, options: LowerOptions | None = None) -> TemplateModel | None:
    """Lower a resolved, rendered dialect document to the canonical model."""
    ctx = _Ctx(diags=diags, options=options or LowerOptions())
    return Lowerer(ctx).lower(node, file)
