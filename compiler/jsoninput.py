"""Existing template JSON in, image-template models out: find the templates, then check them.

Four shapes are read (``templates_from_json``):

* an ARM deployment template (``$schema`` names a deploymentTemplate, or it has ``resources``):
  every resource whose ``type`` is ``Microsoft.VirtualMachineImages/imageTemplates`` (any case),
  in a ``resources`` list or, with ``languageVersion: 2.0``, an object of named resources, and in
  nested ``Microsoft.Resources/deployments`` (``properties.template``), whatever their depth;
* a bare resource (``type`` is imageTemplates), as the quickstarts publish them;
* a REST PUT body, or a GET / portal export (no ``type``; ``properties`` holds ``source``,
  ``customize`` or ``distribute``).

What the service sets and a GET returns (``id``, ``systemData``, ``provisioningState``,
``lastRunStatus``, ``source.exactVersion``, identity ``principalId``/``clientId`` ...) is removed
before checking, one note each. ``apiVersion`` may be an ARM expression: ``[parameters('x')]`` with a
literal ``defaultValue`` and ``[variables('x')]`` with a literal value are resolved; anything else is
checked against ``DEFAULT_API_VERSION`` with a note. The retired preview versions are checked
against 2020-02-14, the first stable one, with a warning. The model's ``doc["apiVersion"]`` is the
version actually checked (its span still points at what the file wrote), so the schema engine and
the rules agree with the diagnostics about it.

Nodes are never mutated: a template with read-only fields is rebuilt along the changed paths.
"""

from __future__ import annotations

import re
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from . import check
from . import code_ids as C
from .diagnostics import DiagnosticBag, Span
from .jsonload import DEFAULT_JSON_BUDGET, load_json
from .model import (
    DEFAULT_API_VERSION,
    RESOURCE_TYPE,
    STABLE_API_VERSIONS,
    TemplateModel,
    is_expression,
    model_from_node,
    placeholders,
)
from .nodes import Mapping, Node, Scalar, Sequence, lookup, type_name
from .records import dataclass
from .yamlload import decode_text

if TYPE_CHECKING:
    from .armeval.template import FoundTemplate

PREVIEW_API_VERSIONS: tuple[str, ...] = ("2018-02-01-preview", "2019-02-01-preview", "2019-05-01-preview")
FIRST_STABLE_API_VERSION = STABLE_API_VERSIONS[0]
DEPLOYMENTS_TYPE = "Microsoft.Resources/deployments"
MAX_NESTED_DEPLOYMENTS = 32

# Read-only fields of imageTemplates (the REST spec marks them readOnly): a GET or a portal export
# carries them; a PUT ignores or refuses them. ``*`` matches any key (identity resource ids).
READ_ONLY_PATHS: tuple[tuple[str, ...], ...] = (
    ("id",),
    ("systemData",),
    ("etag",),
    ("identity", "principalId"),
    ("identity", "tenantId"),
    ("identity", "userAssignedIdentities", "*", "principalId"),
    ("identity", "userAssignedIdentities", "*", "clientId"),
    ("properties", "provisioningState"),
    ("properties", "provisioningError"),
    ("properties", "lastRunStatus"),
    ("properties", "exactStagingResourceGroup"),
    ("properties", "source", "exactVersion"),
)
# Keys ARM accepts on any resource that say nothing about the image template itself.
ARM_ONLY_KEYS: tuple[str, ...] = ("copy", "scope", "metadata", "existing")
# Values the schema expects to be objects or lists; an ARM expression there hides a whole subtree.
_CONTAINER_KEYS: dict[tuple[str, ...], tuple[str, ...]] = {
    (): ("identity", "tags", "properties", "dependsOn"),
    ("properties",): ("source", "customize", "distribute", "vmProfile", "validate", "optimize",
                      "errorHandling", "autoRun", "managedResourceTags", "additionalDataDisks"),
    ("properties", "vmProfile"): ("vnetConfig", "userAssignedIdentities"),
}
_BODY_KEYS = ("source", "customize", "distribute")
_PARAM_REF = re.compile(r"\[\s*parameters\(\s*'([^']*)'\s*\)\s*\]", re.IGNORECASE)
_VAR_REF = re.compile(r"\[\s*variables\(\s*'([^']*)'\s*\)\s*\]", re.IGNORECASE)
_NO_VALUE = re.compile(r"parameter '([^']+)' has no value")
_DATE_VERSION = re.compile(r"\d{4}-\d{2}-\d{2}(-preview)?")

PREVIEW_HINT = (
    "move to a stable apiVersion. The preview versions wrote discriminators in lower case (`shell`, "
    "`managedImage`, `sharedImage`) and allowed an `ISO` source; from 2020-02-14 on they are `Shell`, "
    "`ManagedImage`, `SharedImage`, and ISO sources are gone (use a PlatformImage, e.g. RHEL BYOS), "
    "so the schema check below reports those"
)


@dataclass(frozen=True, slots=True)
class _Scope:
    """What ``parameters('x')`` and ``variables('x')`` mean where a resource is declared."""

    parameters: Mapping | None = None
    variables: Mapping | None = None
    passed: Mapping | None = None  # an inner-scope nested deployment's properties.parameters


# -- entry points -------------------------------------------------------------------------------------

def check_json_file(path: str | Path, diags: DiagnosticBag, *, schema_engine: str = "builtin",
                    max_bytes: int = DEFAULT_JSON_BUDGET.max_chars,
                    parameters: dict[str, Node] | None = None) -> list[TemplateModel]:
    """Read, find and check the image templates of one JSON file. Never raises for a bad file."""
    p = Path(path)
    file = str(path)
    where = Span(file, 1, 1)
    try:
        if p.is_dir():
            diags.add(C.AIB100, f"{file} is a directory, not a file", where,
                      hint="name the template files, e.g. templates/*.json")
            return []
        if not p.exists():
            diags.add(C.AIB100, f"{file} does not exist", where)
            return []
        if p.suffix.lower() == ".bicep":
            diags.add(C.AIB716, "Bicep files are not read: compile it with `az bicep build` and check the JSON",
                      where, hint=f"az bicep build --file {p.name}  (writes {p.with_suffix('.json').name})")
            return []
        st = p.stat()
        if not stat.S_ISREG(st.st_mode):  # a FIFO would block, /dev/zero would never end
            diags.add(C.AIB100, f"{file} is not a regular file", where)
            return []
        if st.st_size > max_bytes:
            diags.add(C.AIB702, f"file is {st.st_size} bytes; the limit is {max_bytes}", where)
            return []
        with p.open("rb") as fh:
            data = fh.read(max_bytes + 1)  # bounded even if the file grows while we read it
        if len(data) > max_bytes:
            diags.add(C.AIB702, f"file is more than {max_bytes} bytes", where)
            return []
    except OSError as exc:
        diags.add(C.AIB100, f"cannot read {file}: {exc.strerror or exc}", where)
        return []
    text = decode_text(data, file, diags)
    if text is None:
        return []
    return check_json_text(text, file, diags, schema_engine=schema_engine, parameters=parameters)


def check_json_text(text: str, file: str, diags: DiagnosticBag, *,
                    schema_engine: str = "builtin", parameters: dict[str, Node] | None = None,
                    ) -> list[TemplateModel]:
    """Load JSON text, find its image templates, and check each (schema, then the seed rules)."""
    node = load_json(text, file, diags)
    if node is None:
        return []
    models = templates_from_json(node, file, diags, parameters=parameters)
    for model in models:
        check.check_model(model, diags, schema_engine=schema_engine)
    return models


def templates_from_json(node: Node, file: str, diags: DiagnosticBag, *,
                        parameters: dict[str, Node] | None = None, as_written: bool = False,
                        ) -> list[TemplateModel]:
    """Every image template in a loaded JSON document, as models whose spans point into ``file``
    (a value passed in from elsewhere keeps its own span). An ARM template is evaluated with the
    ``parameters`` given (compiler/armeval). With ``as_written`` (the importer, which keeps ARM
    parameters as dialect variables), a resource of the root template whose containers are all
    literal is taken as written, not evaluated, when no parameters are given; and the deployment
    target (subscription, resource group) is unknown instead of a stand-in, so it stays an
    expression."""
    if not isinstance(node, Mapping):
        diags.add(C.AIB710, f"the JSON document is {type_name(node)}; an image template is an object",
                  node.span)
        return []
    schema = _text(node.get("$schema")) or ""
    if "deploymentparameters" in schema.lower():
        diags.add(C.AIB710, "this is an ARM parameters file, not a template", node.span,
                  hint="check the deployment template with it: aibtui check TEMPLATE.json -p PARAMETERS.json")
        return []
    if _is_image_type(node.get("type")):
        return [_model(node, file, diags, _Scope(), shape="resource")]
    if "deploymenttemplate" in schema.lower() or "resources" in node.items:
        return _from_arm(node, file, diags, parameters=parameters, as_written=as_written)
    props = node.get("properties")
    if isinstance(props, Mapping) and any(k in props.items for k in _BODY_KEYS):
        return [_model(node, file, diags, _Scope(), shape="body")]
    if any(k in node.items for k in _BODY_KEYS):
        diags.add(C.AIB710, "this looks like the `properties` of an image template, without the resource "
                  "around it", node.span,
                  hint='wrap it as {"type": "Microsoft.VirtualMachineImages/imageTemplates", '
                  '"apiVersion": "2024-02-01", "location": ..., "identity": ..., "properties": {...}}')
        return []
    if isinstance(props, Mapping) and "template" in props.items:
        return _from_arm(node, file, diags, deployment_only=True)
    diags.add(C.AIB710, "no image template here: not an ARM deployment template, no `type` "
              f"{RESOURCE_TYPE}, and no `properties` with source, customize or distribute", node.span)
    return []


# -- ARM deployment templates -------------------------------------------------------------------------

def _from_arm(root: Mapping, file: str, diags: DiagnosticBag, *, deployment_only: bool = False,
              parameters: dict[str, Node] | None = None, as_written: bool = False) -> list[TemplateModel]:
    """Evaluate the template like ARM deploys it (compiler/armeval) and model each image template."""
    from .armeval.template import find_image_templates

    outcome = find_image_templates(root, file, parameters, deployment_only=deployment_only,
                                   standins=not as_written)
    for p in outcome.problems + outcome.not_followed:
        diags.add(p.code, p.message, p.span, hint=p.hint or None)
    found: list[TemplateModel] = []
    for each in outcome.found:
        if as_written and not parameters and not each.where and not _built_by_expressions(each.raw):
            scope = _Scope(_mapping(root.get("parameters")), _mapping(root.get("variables")))
            found.append(_model(each.raw, file, diags, scope, shape="arm"))
            continue
        model = _model(each.node, file, diags, _Scope(), shape="arm", evaluated=each)
        model.arm_parameters = dict(each.scope.arm_parameters) if each.scope is not None else {}
        found.append(model)
    if not found and not any(t.lower() == RESOURCE_TYPE.lower() for t in outcome.types):
        seen = ", ".join(dict.fromkeys(outcome.types)) or "none"
        diags.add(C.AIB710, f"the ARM template has no {RESOURCE_TYPE} resource", root.span,
                  hint=f"resource types found: {seen}")
    return found


# Parts of a resource that no check reads: an unknown value there hides nothing (AVM's image
# template name ends with utcNow(), for example).
_UNCHECKED_SECTIONS = frozenset({"name", "dependsOn", "condition", "comments", "metadata", "scope"})


def _built_by_expressions(res: Mapping) -> bool:
    """An ARM expression stands for `properties` or one of the containers the dialect needs literal."""
    for base, keys in _CONTAINER_KEYS.items():
        parent: Node | None = res
        for part in base:
            parent = parent.get(part) if isinstance(parent, Mapping) else None
        if isinstance(parent, Scalar) and is_expression(parent.value):
            return True
        if not isinstance(parent, Mapping):
            continue
        for key in keys:
            value = parent.get(key)
            if isinstance(value, Scalar) and is_expression(value.value):
                return True
    props = res.get("properties")
    return isinstance(props, Mapping) and "copy" in props.items


def _not_checked(model: TemplateModel, evaluated: FoundTemplate, diags: DiagnosticBag) -> None:
    """One AIB720 note per section of the template that holds a value known only at deployment."""
    from .armeval.template import section_of

    label = _label(model, evaluated)
    seen: set[str] = set()
    for path, unknown in evaluated.unknowns:
        model.unknowns[path] = (unknown.expr, unknown.reason, unknown.parameter)
        section = section_of(path)
        if section in seen or section in _UNCHECKED_SECTIONS:
            continue
        seen.add(section)
        named = unknown.parameter or next(iter(_NO_VALUE.findall(unknown.reason)), None)
        if named:
            hint = f"give it: --parameters {named}=VALUE, or a parameters file"
        elif "cannot be evaluated" in unknown.reason:
            hint = "fix the expression (see the warning at it)"
        else:
            hint = ("the value exists only when ARM deploys: check the deployed template too "
                    "(`az image builder show ... > t.json`, then `aibtui check t.json`); --strict makes "
                    "anything not checked an error")
        diags.add(C.AIB720, f"{label}: `{section}` not checked: {unknown.reason}", unknown.span, hint=hint)


def _label(model: TemplateModel, evaluated: FoundTemplate) -> str:
    name = model.doc.get("name")
    shown = f"image template '{name}'" if isinstance(name, str) and not is_expression(name) else "image template"
    return f"{shown} ({evaluated.where})" if evaluated.where else shown


def _drop_nulls(node: Node) -> Node:
    """Properties an expression left null are absent for the resource provider: leave them out."""
    if isinstance(node, Mapping):
        items: dict[str, Node] = {}
        changed = False
        for k, v in node.items.items():
            if isinstance(v, Scalar) and v.value is None:
                changed = True
                continue
            nv = _drop_nulls(v)
            changed = changed or nv is not v
            items[k] = nv
        if not changed:
            return node
        return Mapping(node.span, items, {k: s for k, s in node.key_spans.items() if k in items})
    if isinstance(node, Sequence):
        new = [_drop_nulls(v) for v in node.items]
        if all(a is b for a, b in zip(new, node.items, strict=True)):
            return node
        return Sequence(node.span, new)
    return node


# -- one template ---------------------------------------------------------------------------------------

def _model(res: Mapping, file: str, diags: DiagnosticBag, scope: _Scope, *, shape: str,
           evaluated: FoundTemplate | None = None) -> TemplateModel:
    if evaluated is not None:
        res = _drop_nulls(res)  # type: ignore[assignment]
    node = _strip_read_only(res, diags)
    if shape != "body":
        node = _without_keys(node, ARM_ONLY_KEYS, diags)
    version = _api_version(node, scope, diags, shape)
    if evaluated is None:
        _note_expressions(node, diags)
    model = model_from_node(node, file, api_version=version, origin="json", name_required=shape != "body")
    if evaluated is not None:
        _not_checked(model, evaluated, diags)
    model.doc["apiVersion"] = version  # the version checked; the span still shows what was written
    if shape == "body" and "type" not in model.doc:
        # A PUT body carries the type and the version in its URL, not in the body.
        model.doc = {"type": RESOURCE_TYPE, **model.doc}
    return model


def _api_version(res: Mapping, scope: _Scope, diags: DiagnosticBag, shape: str) -> str:
    raw_node = res.get("apiVersion")
    where = raw_node.span if raw_node is not None else res.span
    if raw_node is None:
        what = "a REST body carries it in the URL" if shape == "body" else "the resource has none"
        diags.add(C.AIB713, f"no apiVersion ({what}); checked against {DEFAULT_API_VERSION}", where,
                  hint="add \"apiVersion\" to check against the version you deploy with")
        return DEFAULT_API_VERSION
    raw = raw_node.value if isinstance(raw_node, Scalar) else None
    if not isinstance(raw, str):
        diags.add(C.AIB714, f"apiVersion is {type_name(raw_node)}, not a string; checked against "
                  f"{DEFAULT_API_VERSION}", where)
        return DEFAULT_API_VERSION
    value, source = raw, ""
    if is_expression(raw):
        resolved = _resolve(raw, scope)
        if resolved is None:
            diags.add(C.AIB713, f"apiVersion {raw} has no literal value here; checked against "
                      f"{DEFAULT_API_VERSION}", where,
                      hint="give the parameter a defaultValue (or the variable a literal value) to "
                      "check against the version you deploy with")
            return DEFAULT_API_VERSION
        value, source = resolved
    shown = f"{raw} ({source} is {value!r})" if source else value
    if value in STABLE_API_VERSIONS:
        return value
    if value.lower() in PREVIEW_API_VERSIONS:
        diags.add(C.AIB712, f"apiVersion {shown} is a retired preview version; checked against "
                  f"{FIRST_STABLE_API_VERSION}, the first stable version", where, hint=PREVIEW_HINT)
        return FIRST_STABLE_API_VERSION
    if placeholders(value):
        diags.add(C.AIB713, f"apiVersion {shown} is an unfilled placeholder; checked against "
                  f"{DEFAULT_API_VERSION}", where, hint=f"write a stable version: {', '.join(STABLE_API_VERSIONS)}")
        return DEFAULT_API_VERSION
    chosen = DEFAULT_API_VERSION
    if _DATE_VERSION.fullmatch(value):
        earlier = [v for v in STABLE_API_VERSIONS if v <= value[:10]]
        chosen = earlier[-1] if earlier else FIRST_STABLE_API_VERSION
    diags.add(C.AIB714, f"apiVersion {shown} is not a known version of imageTemplates; checked against "
              f"{chosen}", where, hint=f"stable versions: {', '.join(STABLE_API_VERSIONS)}")
    return chosen


def _resolve(expr: str, scope: _Scope) -> tuple[str, str] | None:
    """``[parameters('x')]`` / ``[variables('x')]`` to a literal string: (value, where it came from)."""
    m = _PARAM_REF.fullmatch(expr)
    if m:
        name = m.group(1)
        passed = _lookup(scope.passed, name)
        if passed is not None:
            value = _text(passed.get("value")) if isinstance(passed, Mapping) else None
            if value is not None and not is_expression(value):
                return value, f"the value passed to parameter '{name}'"
        param = _lookup(scope.parameters, name)
        if isinstance(param, Mapping):
            default = _text(param.get("defaultValue"))
            if default is not None and not is_expression(default):
                return default, f"the default of parameter '{name}'"
        return None
    m = _VAR_REF.fullmatch(expr)
    if m:
        name = m.group(1)
        value = _text(_lookup(scope.variables, name))
        if value is not None and not is_expression(value):
            return value, f"variable '{name}'"
    return None


def _lookup(mapping: Mapping | None, name: str) -> Node | None:
    return lookup(mapping, name) if mapping is not None else None


def _strip_read_only(res: Mapping, diags: DiagnosticBag) -> Mapping:
    return _strip(res, READ_ONLY_PATHS, (), diags)


def _strip(node: Mapping, patterns: tuple[tuple[str, ...], ...], at: tuple[str, ...],
           diags: DiagnosticBag) -> Mapping:
    """A copy of ``node`` without the keys the patterns name (bounded by the patterns' length)."""
    drop = {p[0] for p in patterns if len(p) == 1}
    deeper = [p for p in patterns if len(p) > 1]
    items: dict[str, Node] = {}
    key_spans: dict[str, Span] = {}
    changed = False
    for key, child in node.items.items():
        key_span = node.key_spans.get(key, child.span)
        if key in drop:
            path = ".".join(at[:-1] + ("<id>",) if at and at[-2:-1] == ("userAssignedIdentities",) else at)
            path = f"{path}.{key}" if path else key
            diags.add(C.AIB711, f"`{path}` is read-only (the service sets it); ignored", key_span)
            changed = True
            continue
        sub = tuple(p[1:] for p in deeper if p[0] in (key, "*"))
        if sub and isinstance(child, Mapping):
            new_child = _strip(child, sub, at + (key,), diags)
            changed = changed or new_child is not child
            child = new_child
        items[key] = child
        key_spans[key] = key_span
    if not changed:
        return node
    return Mapping(node.span, items, key_spans)


def _without_keys(node: Mapping, keys: tuple[str, ...], diags: DiagnosticBag) -> Mapping:
    present = [k for k in keys if k in node.items]
    if not present:
        return node
    for key in present:
        if key == "copy":
            diags.add(C.AIB717, "a copy loop: the template is checked once, as written", node.key_spans[key])
    items = {k: v for k, v in node.items.items() if k not in present}
    key_spans = {k: v for k, v in node.key_spans.items() if k not in present}
    return Mapping(node.span, items, key_spans)


def _note_expressions(res: Mapping, diags: DiagnosticBag) -> None:
    for base, keys in _CONTAINER_KEYS.items():
        parent: Node | None = res
        for part in base:
            parent = parent.get(part) if isinstance(parent, Mapping) else None
        if not isinstance(parent, Mapping):
            continue
        for key in keys:
            value = parent.get(key)
            if isinstance(value, Scalar) and is_expression(value.value):
                path = ".".join(base + (key,))
                diags.add(C.AIB715, f"`{path}` is one ARM expression; what it builds cannot be checked "
                          "literally", value.span,
                          hint="only the literal parts of the template are checked")


# -- small helpers ----------------------------------------------------------------------------------------

def _text(node: Node | None) -> str | None:
    return node.value if isinstance(node, Scalar) and isinstance(node.value, str) else None


def _mapping(node: Node | None) -> Mapping | None:
    return node if isinstance(node, Mapping) else None


def _is_image_type(node: Node | None) -> bool:
    value = _text(node)
    return value is not None and value.strip().lower() == RESOURCE_TYPE.lower()


__all__ = [
    "ARM_ONLY_KEYS",
    "FIRST_STABLE_API_VERSION",
    "PREVIEW_API_VERSIONS",
    "READ_ONLY_PATHS",
    "check_json_file",
    "check_json_text",
    "templates_from_json",
]
