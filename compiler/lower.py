"""Lowering: the compact dialect (a resolved, rendered node tree) -> the canonical TemplateModel.

Shorthands are expanded here (URN sources, one key per step kind, durations, identity, gallery
targets with regions), local files are read (inlined scripts, sha256 of local copies), and every
emitted JSON path is mapped back to the node it came from, so checking can point at file:line:col.
Official property names pass through verbatim; the schema engine checks them for the apiVersion.
"""

from __future__ import annotations

from . import code_ids as C
from .diagnostics import DiagnosticBag, Severity, Span
from .dialect.autorun import AutoRunLowering
from .dialect.common import (
    _SHORTHAND_PROPS,
    KIND_KEYS,
    OFFICIAL_PROPERTIES,
    TOP_KEYS,
    LowerOptions,
    _close,
    _Ctx,
    _ordered,
)
from .dialect.customize import StepsLowering
from .dialect.distribute import DistributeLowering
from .dialect.errorhandling import ErrorHandlingLowering
from .dialect.identity import IdentityLowering
from .dialect.optimize import OptimizeLowering
from .dialect.source import SourceLowering
from .dialect.validate import ValidateLowering
from .dialect.vm import BuildLowering
from .model import DEFAULT_API_VERSION, RESOURCE_TYPE, STABLE_API_VERSIONS, TemplateModel
from .nodes import Mapping, Node, Scalar

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the compile path
if TYPE_CHECKING:
    from typing import Any


class Lowerer(SourceLowering, IdentityLowering, BuildLowering, ValidateLowering, StepsLowering,
              DistributeLowering, OptimizeLowering, ErrorHandlingLowering, AutoRunLowering):
    """The driver: the top-level keys here; each section's lowering comes from its compiler/dialect module."""

    def __init__(self, ctx: _Ctx) -> None:
        self.c = ctx
        self.d = ctx.diags

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
            elif t is not None and t != RESOURCE_TYPE:  # S-01 as `check` says it of the same JSON
                d.add(C.AIB001, f"resource type is {t!r}: write it exactly {RESOURCE_TYPE!r}",
                      root.items["type"].span, severity=Severity.WARNING,
                      hint="ARM ignores the case of resource types; the output spells it exactly")
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
            props["errorHandling"] = self.error_handling(root.items["errorHandling"],
                                                         root.key_spans.get("errorHandling"))
        if "autoRun" in root.items:
            ar = self.auto_run(root.items["autoRun"])
            if ar is not None:
                props["autoRun"] = ar
        for k, (node, kspan, _) in verb.items():
            props[k] = self.verbatim(("properties", k), node, kspan)
        return _ordered(props, OFFICIAL_PROPERTIES)


def lower(node: Mapping, file: str, diags: DiagnosticBag, options: LowerOptions | None = None) -> TemplateModel | None:
    """Lower a resolved, rendered dialect document to the canonical model."""
    ctx = _Ctx(diags=diags, options=options or LowerOptions())
    return Lowerer(ctx).lower(node, file)
