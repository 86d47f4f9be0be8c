"""``aibtui import``: existing template JSON / ARM templates -> idiomatic ``*.aib.yaml``.

Pure: no printing, no exiting. The JSON is read by ``jsonload`` and the image templates found by
``jsoninput.templates_from_json`` (read-only fields dropped, apiVersion resolved); this module
turns each template into the dialect in three steps:

1. **shape** (``import_shape.py``): the official JSON -> dialect shorthands (URN sources, one key
   per step kind, durations, gallery targets with regions, identity ids). Every shorthand is used
   only where lowering gives back exactly the same JSON; anything else is written verbatim under
   its official name.
2. **values** (``_Values``): strings that are not plain values become variables: ``<placeholder>``
   tokens (declared with no value and a ``SET ME`` comment: compiling without ``--set`` is an
   error naming them), ``[parameters('x')]`` with a literal default and ``[variables('y')]`` with
   a literal value. Other ARM expressions stay as opaque strings (a warning each), and the
   parameters and variables they use are declared under ``arm:`` so ``--format arm`` keeps them
   working. ``{{``, ``{%`` and ``{#`` in literal text are wrapped in ``{% raw %}``.
3. **verify**: the YAML is lowered again (with the placeholders given back by ``--set``) and
   compared with the template it came from; a built-in profile is offered as ``extends:`` only
   when that comparison still holds. A difference is an error (AIB804), never a silent change.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import code_ids as C
from .diagnostics import Diagnostic, DiagnosticBag, Severity, Span
from .import_shape import Shaper, Urn, canonical_types
from .jsonload import load_json
from .model import RESOURCE_TYPE, STABLE_API_VERSIONS, TemplateModel, is_expression, placeholders
from .nodes import Mapping, Node, Scalar, Sequence, to_plain
from .yamlwriter import Block, Commented, Flow, FlowMap, Lines, dump

_PARAM = re.compile(r"\[\s*parameters\(\s*'([^']*)'\s*\)\s*\]", re.IGNORECASE)
_VARIABLE = re.compile(r"\[\s*variables\(\s*'([^']*)'\s*\)\s*\]", re.IGNORECASE)
_REFS = re.compile(r"\b(parameters|variables)\(\s*'([^']*)'\s*\)", re.IGNORECASE)
_PLACEHOLDER = re.compile(r"<([^<>\"\n]{1,80})>")
_RESERVED = frozenset({"true", "false", "none", "True", "False", "None", "and", "or", "not", "in", "is",
                       "if", "else", "self", "loop", "caller", "varargs", "kwargs", "super", "range"})
_TEMPLATE_MARKS = ("{{", "{%", "{#")
_BRACE = re.compile(r"\{(?=[{%#])")
MANY_ESCAPES = 400  # past this many strings to escape, a `{` variable replaces {% raw %}
# what an ARM expression may not stand for, most telling first (the first one is the reason shown)
_CONTAINERS: dict[tuple[str, ...], tuple[str, ...]] = {
    ("properties",): ("customize", "source", "distribute", "validate", "vmProfile", "optimize",
                      "errorHandling", "autoRun", "managedResourceTags", "additionalDataDisks"),
    (): ("identity", "tags", "dependsOn"),
}
# read from the JSON by templates_from_json; the importer says the same in its own words
_REWORDED = frozenset({C.AIB712, C.AIB713, C.AIB714, C.AIB715})


@dataclass(frozen=True)
class Variable:
    name: str
    value: Any  # None: a "set me" variable
    origin: str  # what it replaces: "<region>", "[parameters('x')]"
    kind: str  # placeholder | parameter | variable


@dataclass
class ImportedTemplate:
    name: str | None
    span: Span | None
    text: str | None = None  # the *.aib.yaml; None when refused
    expected: dict[str, Any] | None = None  # the template it compiles back to (given `sets`)
    sets: dict[str, str] = field(default_factory=dict)  # --set values that give back the original
    variables: list[Variable] = field(default_factory=list)
    profile: str | None = None
    exact: bool = False  # verified: lowering the YAML gives `expected`


@dataclass
class ImportResult:
    file: str
    templates: list[ImportedTemplate] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(d.severity.value == "error" for d in self.diagnostics)


@dataclass(frozen=True)
class ImportOptions:
    resource: str | None = None  # pick one template of an ARM file by name
    api_version: str | None = None  # for a REST body, which has none
    profiles: bool = True  # offer a built-in profile as extends:
    verify: bool = True
    parameters: dict[str, Any] | None = None  # ARM parameter values (compiler/armeval/params.py)


# -- entry points ---------------------------------------------------------------------------------

def import_file(path: str | Path, options: ImportOptions | None = None) -> ImportResult:
    """Read a JSON file (bounded, like `check`) and import its image templates."""
    from .sources import read_source

    file = str(path)
    diags = DiagnosticBag()
    p = Path(path)
    if p.suffix.lower() == ".bicep":
        diags.add(C.AIB716, "Bicep files are not read: compile it with `az bicep build` and import the JSON",
                  Span(file, 1, 1), hint=f"az bicep build --file {p.name}  (writes {p.with_suffix('.json').name})")
        return ImportResult(file, [], diags.sorted())
    text = read_source(p, diags)
    if text is None:
        return ImportResult(file, [], diags.sorted())
    return _import(text, file, options or ImportOptions(), diags)


def import_text(text: str, file: str = "<input>", options: ImportOptions | None = None) -> ImportResult:
    return _import(text, file, options or ImportOptions(), DiagnosticBag())


def _import(text: str, file: str, options: ImportOptions, diags: DiagnosticBag) -> ImportResult:
    from .jsoninput import templates_from_json

    result = ImportResult(file)
    node = load_json(text, file, diags)
    if node is None:
        result.diagnostics = diags.sorted()
        return result
    found = DiagnosticBag()
    models = templates_from_json(node, file, found, parameters=options.parameters, as_written=True)
    for d in found.sorted():
        if d.code not in _REWORDED:
            diags.items.append(d)
    root = node if isinstance(node, Mapping) else None
    models = _pick(models, root, options, file, diags)
    for model in models:
        result.templates.append(_one(model, root, text, file, options, diags))
    result.diagnostics = diags.sorted()
    return result


def _pick(models: list[TemplateModel], root: Mapping | None, options: ImportOptions, file: str,
          diags: DiagnosticBag) -> list[TemplateModel]:
    if options.resource is None:
        return models
    names = [_literal_name(m, root) for m in models]
    chosen = [m for m, n in zip(models, names, strict=True) if n == options.resource]
    if not chosen:
        shown = ", ".join(n or "(no literal name)" for n in names) or "none"
        diags.add(C.AIB802, f"no image template named '{options.resource}' in {file}; found: {shown}",
                  root.span if root is not None else Span(file, 1, 1))
    return chosen


def _literal_name(model: TemplateModel, root: Mapping | None) -> str | None:
    name = model.doc.get("name")
    if not isinstance(name, str):
        return None
    if is_expression(name) and root is not None:
        resolved = _Scope.of(model, root).literal(name)
        if isinstance(resolved, str):
            return resolved
    return name


# -- ARM scope --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Scope:
    parameters: dict[str, Any]
    variables: dict[str, Any]
    followed: bool  # False: a nested deployment's scope, which the import does not follow

    @staticmethod
    def of(model: TemplateModel, root: Mapping | None) -> _Scope:
        if root is None or model.spans.get(()) is None:
            return _Scope({}, {}, False)
        resources = root.get("resources")
        items: list[Node] = []
        if isinstance(resources, Sequence):
            items = list(resources.items)
        elif isinstance(resources, Mapping):
            items = list(resources.items.values())
        if not any(r.span == model.spans[()] for r in items):
            return _Scope({}, {}, False)
        params = root.get("parameters")
        variables = root.get("variables")
        return _Scope(to_plain(params) if isinstance(params, Mapping) else {},
                      to_plain(variables) if isinstance(variables, Mapping) else {}, True)

    def lookup(self, table: dict[str, Any], name: str) -> tuple[str, Any] | None:
        if name in table:
            return name, table[name]
        low = name.lower()
        for key, value in table.items():
            if key.lower() == low:
                return key, value
        return None

    def literal(self, expr: str) -> Any:
        """The literal value of ``[parameters('x')]`` (its default) or ``[variables('y')]``, else None."""
        m = _PARAM.fullmatch(expr)
        if m:
            hit = self.lookup(self.parameters, m.group(1))
            if hit and isinstance(hit[1], dict) and "defaultValue" in hit[1]:
                return _plain_literal(hit[1]["defaultValue"])
            return None
        m = _VARIABLE.fullmatch(expr)
        if m:
            hit = self.lookup(self.variables, m.group(1))
            return _plain_literal(hit[1]) if hit else None
        return None


def _plain_literal(value: Any) -> Any:
    if isinstance(value, bool) or isinstance(value, (int, float)):
        return value
    if isinstance(value, str) and not is_expression(value):
        return value
    return None


# -- one template ---------------------------------------------------------------------------------

def _one(model: TemplateModel, root: Mapping | None, text: str, file: str, options: ImportOptions,
         diags: DiagnosticBag) -> ImportedTemplate:
    span = model.span_at(())
    out = ImportedTemplate(name=_literal_name(model, root), span=span)
    doc = model.doc
    if not _importable(model, diags):
        return out
    api = options.api_version or _api_version(model, root, diags)
    expected = canonical_types(doc, api, model, diags)
    if expected is None:
        return out
    expected["apiVersion"] = api
    expected["type"] = RESOURCE_TYPE
    if doc.get("type") not in (None, RESOURCE_TYPE):
        # S-01, with the severity `aibtui check` gives the same file (AIB001 is a warning for case)
        diags.add(C.AIB817, f"type '{doc.get('type')}' is written {RESOURCE_TYPE}", model.span_at(("type",)),
                  severity=Severity.WARNING, rule="S-01")
    header: list[str] = []
    expected = _drop_unknown(expected, model, diags, header)
    if not options.api_version and _raw_api_version(model, root) not in STABLE_API_VERSIONS:
        # the file names no stable version (a preview, or none): take the first stable one whose
        # schema has every key the template uses (`stagingResourceGroup` came after 2020-02-14)
        fitted = _fit_version(expected, api)
        if fitted != api:
            diags.add(C.AIB813, f"imported as apiVersion {fitted}, the first stable version whose schema has "
                      f"every key the template uses ({api} lacks some)", model.span_at(("apiVersion",)))
            api = expected["apiVersion"] = fitted
    _drop_off_schema(expected, api, model, diags)
    scope = _Scope(dict(model.arm_parameters), {}, True) if _evaluated(model) else _Scope.of(model, root)
    shaper = Shaper(api, model, diags, urn_value=lambda text: _urn_var(scope, text))
    dialect = shaper.document(expected)
    values = _Values(scope, model, diags)
    values.many = count_marked(dialect) > MANY_ESCAPES
    dialect = values.walk(dialect, ())
    arm = values.arm_section()
    if arm:
        dialect["arm"] = arm
    out.variables = list(values.vars.values())
    out.sets = {v.name: v.origin for v in out.variables if v.value is None}
    out.expected = _with_values(expected, out.variables)
    if not scope.followed and values.kept:
        diags.add(C.AIB810, "the template sits in a nested deployment; its ARM expressions are kept as "
                  "written, without declaring what they use", span)
    candidates = shaper.profiles(expected) if options.profiles else []
    name = Path(file).name
    header.insert(0, f"imported from {name} by `aibtui import`")
    if values.set_me and all(v.value is None for v in values.vars.values()):
        header.append("SET ME: each ~ in vars is a <placeholder> of the original; give it a value here or with "
                      "--set NAME=VALUE")
    elif values.set_me:
        header.append("set the variables marked SET ME (here or with --set NAME=VALUE) before you build")
    for profile in candidates:
        trial = {"extends": profile, **{k: v for k, v in dialect.items() if k != "source"}}
        yaml_text = _render(trial, values, header)
        if _verify(yaml_text, file, out, DiagnosticBag()) is None:
            out.profile = profile
            out.text = yaml_text
            out.exact = True
            return out
    yaml_text = _render(dialect, values, header)
    out.text = yaml_text
    if options.verify:
        problem = _verify(yaml_text, file, out, DiagnosticBag())
        if problem is not None:
            diags.add(C.AIB804, f"the imported file does not compile back to the same template: {problem}", span)
        out.exact = problem is None
    return out


def _evaluated(model: TemplateModel) -> bool:
    """The model is an evaluated ARM template (compiler/armeval): its only expressions are the values
    known at deployment, whose parameters ``model.arm_parameters`` declares."""
    return bool(model.unknowns) or bool(model.arm_parameters)


def _urn_var(scope: _Scope, text: str) -> str | None:
    """The value an ARM reference in a URN part renders to when it becomes a variable, else None."""
    if not scope.followed:
        return None
    value = scope.literal(text)
    if value is None:
        return None
    return value if isinstance(value, str) and not placeholders(value) else "<no urn>"


def _importable(model: TemplateModel, diags: DiagnosticBag) -> bool:
    props = model.get(("properties",))
    if props is not None and not isinstance(props, dict):
        diags.add(C.AIB800, f"`properties` is {_what(props)}, not the template's properties; what it "
                  "builds is only known when ARM deploys it", model.span_at(("properties",)),
                  hint="import the template ARM deploys (for example from `az image builder show` or a "
                       "GET of the resource), or write the *.aib.yaml by hand")
        return False
    ok = True
    for base, keys in _CONTAINERS.items():
        parent = model.get(base)
        if not isinstance(parent, dict):
            continue
        for key in keys:
            value = parent.get(key)
            if isinstance(value, str) and (is_expression(value) or placeholders(value)):
                path = ".".join(base + (key,))
                shown = value if len(value) <= 160 else value[:150] + "...]"
                diags.add(C.AIB800, f"`{path}` is supplied by {shown!r}, not written in the template; "
                          "aibtui cannot know what it holds", model.span_at(base + (key,)),
                          hint=f"paste the value of {path} into the *.aib.yaml; the rest can be imported once "
                               "it is literal")
                ok = False
    return ok


def _what(value: Any) -> str:
    if isinstance(value, str):
        return f"the ARM expression {value[:60]!r}" if is_expression(value) else f"the string {value[:60]!r}"
    return f"a {type(value).__name__}"


def _api_version(model: TemplateModel, root: Mapping | None, diags: DiagnosticBag) -> str:
    from .jsoninput import PREVIEW_API_VERSIONS

    checked = model.doc.get("apiVersion")
    api = checked if checked in STABLE_API_VERSIONS else STABLE_API_VERSIONS[-2]
    raw_span = model.span_at(("apiVersion",))
    raw = _raw_api_version(model, root)
    if raw is None:
        diags.add(C.AIB814, f"the template gives no literal apiVersion; the file says apiVersion: {api}",
                  raw_span, hint="change it if you deploy with another version")
    elif raw.lower() in PREVIEW_API_VERSIONS:
        diags.add(C.AIB813, f"apiVersion {raw} is a retired preview; imported as {api}, the first stable version",
                  raw_span)
    elif raw not in STABLE_API_VERSIONS:
        diags.add(C.AIB814, f"apiVersion {raw!r} is not a known version; the file says apiVersion: {api}",
                  raw_span)
    return api


def _raw_api_version(model: TemplateModel, root: Mapping | None) -> str | None:
    span = model.spans.get(("apiVersion",))
    raw: Any = None
    if span is not None:
        raw = _value_at(root, span) if root is not None else None
    if raw is None:
        return None
    if isinstance(raw, str) and is_expression(raw):
        literal = _Scope.of(model, root).literal(raw)
        return literal if isinstance(literal, str) else None
    return raw if isinstance(raw, str) and not placeholders(raw) else None


def _value_at(root: Node, span: Span) -> Any:
    work: list[Node] = [root]
    while work:
        n = work.pop()
        if isinstance(n, Scalar):
            if n.span == span:
                return n.value
        elif isinstance(n, Mapping):
            work.extend(n.items.values())
        elif isinstance(n, Sequence):
            work.extend(n.items)
    return None


def _drop_unknown(doc: dict[str, Any], model: TemplateModel, diags: DiagnosticBag,
                  header: list[str]) -> dict[str, Any]:
    from .dialect.common import OFFICIAL_PROPERTIES

    keep = ("type", "apiVersion", "name", "location", "tags", "identity", "dependsOn", "properties")
    spelled = {k.lower(): k for k in keep}
    out: dict[str, Any] = {}
    for key, value in doc.items():
        if key not in keep and key.lower() in spelled and spelled[key.lower()] not in doc:
            # ARM reads resource property names without regard to case: `Tags` is tags
            diags.add(C.AIB817, f"`{key}` is written {spelled[key.lower()]}", model.span_at((key,), key=True))
            out[spelled[key.lower()]] = value
        elif key in keep:
            out[key] = value
        elif key == "comments" and isinstance(value, str):
            header.extend(line.strip() for line in value.splitlines() if line.strip())
        else:
            diags.add(C.AIB815, f"`{key}` is an ARM setting of the resource, not part of the image template; "
                      "dropped", model.span_at((key,), key=True))
    props = out.get("properties")
    if isinstance(props, dict):
        kept = {}
        official = {k.lower(): k for k in OFFICIAL_PROPERTIES}
        for key, value in props.items():
            if key in OFFICIAL_PROPERTIES:
                kept[key] = value
            elif key.lower() in official and official[key.lower()] not in props:
                diags.add(C.AIB817, f"`properties.{key}` is written {official[key.lower()]}",
                          model.span_at(("properties", key), key=True))
                kept[official[key.lower()]] = value
            else:
                diags.add(C.AIB815, f"`properties.{key}` is not an image-template property; dropped",
                          model.span_at(("properties", key), key=True))
        out["properties"] = kept
    return out


def _drop_off_schema(doc: dict[str, Any], api: str, model: TemplateModel, diags: DiagnosticBag) -> None:
    """Import never writes a file that does not compile: a key the official schema of ``api`` does
    not know (``vmProfile.tags``), and a null value (ARM reads it as absent), are dropped with a
    warning that points at them in the original."""

    def nulls(value: Any, path: tuple[Any, ...]) -> None:
        if isinstance(value, dict):
            for key in list(value):
                if value[key] is None:
                    del value[key]
                    diags.add(C.AIB818, f"`{_dotted(path + (key,))}` is null; dropped (ARM reads it as absent)",
                              _span_as_written(model, path + (key,)), hint="remove it from the original too")
                else:
                    nulls(value[key], path + (key,))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                nulls(item, path + (i,))

    nulls(doc.get("properties"), ("properties",))
    from .schema import builtin_errors

    for _ in range(8):  # a dropped key can uncover none, but stay bounded
        unknown = [e for e in builtin_errors(doc, api) if e.code == C.AIB501 and e.path]
        if not unknown:
            return
        for err in unknown:
            path = err.path
            parent: Any = doc
            for part in path[:-1]:
                if isinstance(parent, dict):
                    parent = parent[part]
                elif isinstance(parent, list) and isinstance(part, int):
                    parent = parent[part]
                else:
                    parent = None
            if not isinstance(parent, dict) or path[-1] not in parent:
                continue
            guess = _GUESS.search(err.message)
            key = str(path[-1])
            if guess and guess.group(1).lower() == key.lower() and guess.group(1) not in parent:
                # ARM reads property names without regard to case: `VmProfile` is vmProfile
                _rename(parent, key, guess.group(1))
                diags.add(C.AIB817, f"`{_dotted(path)}` is written {guess.group(1)}", _span_as_written(model, path))
                continue
            del parent[key]
            diags.add(C.AIB818, f"`{_dotted(path)}` is not in the schema of apiVersion {api}; dropped",
                      _span_as_written(model, path))


_GUESS = re.compile(r"did you mean '([^']+)'")


def _span_as_written(model: TemplateModel, path: tuple[Any, ...]) -> Span | None:
    """The key's span in the original, whose keys may be spelt in another case (`VmProfile`)."""
    written: list[Any] = []
    cur: Any = model.doc
    for part in path:
        if isinstance(cur, dict) and isinstance(part, str) and part not in cur:
            part = next((k for k in cur if isinstance(k, str) and k.lower() == part.lower()), part)
        written.append(part)
        cur = cur.get(part) if isinstance(cur, dict) else (
            cur[part] if isinstance(cur, list) and isinstance(part, int) and part < len(cur) else None)
    return model.span_at(tuple(written), key=True)


def _rename(mapping: dict[str, Any], old: str, new: str) -> None:
    """Rename a key in place, keeping the order of the keys."""
    items = [(new if k == old else k, v) for k, v in mapping.items()]
    mapping.clear()
    mapping.update(items)


def _fit_version(doc: dict[str, Any], api: str) -> str:
    """``api``, or the first later stable version with fewer keys its schema does not know."""
    from .schema import builtin_errors

    def unknown(version: str) -> int:
        return sum(1 for e in builtin_errors(doc, version) if e.code == C.AIB501)

    best, fewest = api, unknown(api)
    for version in STABLE_API_VERSIONS:
        if version > api and fewest:
            count = unknown(version)
            if count < fewest:
                best, fewest = version, count
    return best


def _dotted(path: tuple[Any, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


def _with_values(expected: dict[str, Any], variables: list[Variable]) -> dict[str, Any]:
    """The expected template, with each ARM reference that became a variable with a value replaced
    by that value (what ARM deploys when the parameter keeps its default)."""
    typed = {v.origin: v.value for v in variables if v.value is not None}
    if not typed:
        return expected

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return typed.get(value, value)
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    return {k: walk(v) for k, v in expected.items()}


# -- values: placeholders, ARM expressions, template marks ----------------------------------------

class _Values:
    def __init__(self, scope: _Scope, model: TemplateModel, diags: DiagnosticBag) -> None:
        self.scope = scope
        self.model = model
        self.diags = diags
        self.vars: dict[str, Variable] = {}
        self.by_origin: dict[str, str] = {}
        self.comments: dict[str, str] = {}
        self.kept: list[str] = []
        self.refs: dict[str, set[str]] = {"parameters": set(), "variables": set()}
        self.set_me = False
        self.many = False  # escape with a `{` variable instead of {% raw %} (see esc)
        self.brace: str | None = None
        # an evaluated ARM template: "[parameters('x')]" left by a parameter without a value -> x
        self.unset_parameters = {f"[{expr}]": name for expr, _reason, name in model.unknowns.values()
                                 if name and expr == f"parameters('{name}')"}

    def walk(self, value: Any, path: tuple[str | int, ...]) -> Any:
        if isinstance(value, Commented):
            return Commented(self.walk(value.value, path), value.comment)
        if isinstance(value, str):
            return self.string(value, script=False)
        if isinstance(value, Urn):
            return ":".join(self.string(part, script=False) for part in value.parts)
        if isinstance(value, Block):
            return Block(tuple(self.string(line, script=True) for line in value.lines))
        if isinstance(value, Lines):
            return Lines(tuple(self.string(line, script=True) for line in value.lines))
        if isinstance(value, dict):
            return {k: self.walk(v, path + (k,)) for k, v in value.items()}
        if isinstance(value, list):
            return [self.walk(v, path + (i,)) for i, v in enumerate(value)]
        if isinstance(value, Flow):
            return Flow(tuple(self.walk(v, path) for v in value.items))
        return value

    def string(self, text: str, *, script: bool) -> str:
        unset = self.unset_parameters.get(text)
        if unset is not None:
            return self.ref(self.variable_for_unset(text, unset))
        if is_expression(text):
            literal = self.scope.literal(text) if self.scope.followed else None
            if literal is not None:
                return self.ref(self.variable_for_expression(text, literal))
            self.keep(text)
            return self.esc(text)
        if script or not placeholders(text):
            return self.esc(text)
        parts: list[str] = []
        pos = 0
        for m in _PLACEHOLDER.finditer(text):
            parts.append(self.esc(text[pos:m.start()]))
            parts.append(self.ref(self.variable_for_placeholder(m.group(0), m.group(1))))
            pos = m.end()
        parts.append(self.esc(text[pos:]))
        return "".join(parts)

    @staticmethod
    def ref(name: str) -> str:
        return "{{ " + name + " }}"

    def _declare(self, base: str, origin: str, value: Any, kind: str, comment: str) -> str:
        if origin in self.by_origin:
            return self.by_origin[origin]
        name = _var_name(base)
        n = 2
        while name in self.vars:
            name = f"{_var_name(base)}_{n}"
            n += 1
        self.vars[name] = Variable(name, value, origin, kind)
        self.by_origin[origin] = name
        self.comments[name] = comment
        if value is None:
            self.set_me = True
        return name

    def variable_for_placeholder(self, token: str, inner: str) -> str:
        if token not in self.by_origin:
            self.diags.add(C.AIB812, f"placeholder {token} becomes the variable `{_var_name(inner)}` (no value: "
                           "set it when you compile)", self._span_of(token, part=True))
        return self._declare(inner, token, None, "placeholder", f"SET ME: replaces {token}")

    def variable_for_expression(self, expr: str, literal: Any) -> str:
        m = _PARAM.fullmatch(expr)
        kind = "parameter" if m else "variable"
        name = (m or _VARIABLE.fullmatch(expr)).group(1)  # type: ignore[union-attr]
        table = self.scope.parameters if kind == "parameter" else self.scope.variables
        hit = self.scope.lookup(table, name)
        comment = f"ARM {kind} '{name}'"
        if kind == "parameter" and hit and isinstance(hit[1], dict):
            meta = hit[1].get("metadata")
            desc = meta.get("description") if isinstance(meta, dict) else None
            if isinstance(desc, str) and desc.strip():
                comment += ": " + " ".join(desc.split())[:100]
        value: Any = literal
        if isinstance(literal, str) and placeholders(literal):
            value = None
            comment = f"SET ME: ARM {kind} '{name}' defaults to the placeholder {literal}"
        if expr not in self.by_origin:
            self.diags.add(C.AIB811, f"{expr} becomes the variable `{_var_name(name)}`"
                           + (f" = {literal!r}" if value is not None else " (no value: set it when you compile)"),
                           self._span_of(expr))
        return self._declare(name, expr, value, kind, comment)

    def variable_for_unset(self, expr: str, name: str) -> str:
        """An ARM parameter the evaluation had no value for: a SET ME variable of the same name."""
        if expr not in self.by_origin:
            self.diags.add(C.AIB811, f"{expr} has no value; it becomes the variable `{_var_name(name)}` (set it "
                           "when you compile)", self._span_of(expr))
        return self._declare(name, expr, None, "parameter", f"SET ME: ARM parameter '{name}' (no value given)")

    def keep(self, expr: str) -> None:
        if expr not in self.kept:
            self.kept.append(expr)
            self.diags.add(C.AIB810, f"ARM expression kept as it is: {expr[:120]}", self._span_of(expr))
        for kind, name in _REFS.findall(expr):
            self.refs[kind.lower()].add(name)

    def _span_of(self, value: str, *, part: bool = False) -> Span | None:
        """Where the template first writes ``value`` (or, with ``part``, a string holding it)."""
        for path, span in self.model.spans.items():
            found = self.model.get(path)
            if found == value or (part and isinstance(found, str) and value in found):
                return span
        return self.model.span_at(())

    def arm_section(self) -> dict[str, Any]:
        """The ARM parameters and variables the kept expressions use (transitively)."""
        if not self.scope.followed:
            return {}
        params: dict[str, Any] = {}
        variables: dict[str, Any] = {}
        pending = [(k, n) for k in ("parameters", "variables") for n in sorted(self.refs[k])]
        while pending:
            kind, name = pending.pop()
            table = self.scope.parameters if kind == "parameters" else self.scope.variables
            target = params if kind == "parameters" else variables
            hit = self.scope.lookup(table, name)
            if hit is None or hit[0] in target:
                continue
            target[hit[0]] = hit[1]
            for k2, n2 in _REFS.findall(_flatten(hit[1])):
                pending.append((k2.lower(), n2))
        out: dict[str, Any] = {}
        if params:
            out["parameters"] = {k: params[k] for k in sorted(params, key=str.lower)}
        if variables:
            out["variables"] = {k: variables[k] for k in sorted(variables, key=str.lower)}
        return {k: _escape_tree(v, self.esc) for k, v in out.items()}

    def esc(self, text: str) -> str:
        """Literal text the renderer leaves alone. ``{% raw %}`` reads best; past ``MANY_ESCAPES``
        strings (each raw string costs the renderer a Jinja template, and it allows 2000) a variable
        holding ``{`` is used instead, which the renderer's fast path substitutes."""
        if not any(mark in text for mark in _TEMPLATE_MARKS):
            return text
        if not self.many and "endraw" not in text:
            return escape(text)
        if self.brace is None:
            self.brace = self._declare("lbrace", "{", "{", "escape",
                                       'a literal "{": the original writes {{, {% or {# where it is used')
        return _BRACE.sub("{{ " + self.brace + " }}", text)

    def vars_section(self) -> Any:
        if all(v.value is None for v in self.vars.values()):
            return FlowMap(tuple((name, None) for name in self.vars))  # the header says SET ME once
        out: dict[str, Any] = {}
        for name, var in self.vars.items():
            value = self.esc(var.value) if isinstance(var.value, str) else var.value
            out[name] = Commented(value, self.comments[name])
        return out


def _flatten(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return " ".join(_flatten(v) for v in value.values())
    if isinstance(value, list):
        return " ".join(_flatten(v) for v in value)
    return ""


def _escape_tree(value: Any, esc: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return esc(value)
    if isinstance(value, dict):
        return {k: _escape_tree(v, esc) for k, v in value.items()}
    if isinstance(value, list):
        return [_escape_tree(v, esc) for v in value]
    return value


def escape(text: str) -> str:
    """Literal text the renderer leaves alone: ``{{``, ``{%`` and ``{#`` go inside ``{% raw %}``
    (text that itself says ``endraw`` needs :meth:`_Values.esc`)."""
    if not any(mark in text for mark in _TEMPLATE_MARKS):
        return text
    return "{% raw %}" + text + "{% endraw %}"


def count_marked(value: Any) -> int:
    """How many scalars of a dialect tree hold ``{{``, ``{%`` or ``{#`` (a script block counts once)."""
    if isinstance(value, str):
        return int(any(mark in value for mark in _TEMPLATE_MARKS))
    if isinstance(value, (Block, Lines)):
        hits = [any(mark in line for mark in _TEMPLATE_MARKS) for line in value.lines]
        return int(any(hits)) if isinstance(value, Block) else sum(hits)
    if isinstance(value, Commented):
        return count_marked(value.value)
    if isinstance(value, dict):
        return sum(count_marked(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return sum(count_marked(v) for v in value)
    if isinstance(value, (Flow, Urn)):
        return count_marked(list(value.items if isinstance(value, Flow) else value.parts))
    return 0


def _var_name(text: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_]+", "_", text.strip()).strip("_") or "value"
    if name[0].isdigit():
        name = "v_" + name
    if name in _RESERVED:
        name += "_"
    return name


# -- writing and verifying --------------------------------------------------------------------------

_ORDER = ("extends", "vars", "apiVersion", "name", "location", "tags", "identity", "dependsOn", "source",
          "build", "customize", "validate", "distribute")


def _render(dialect: dict[str, Any], values: _Values, header: list[str]) -> str:
    doc: dict[str, Any] = {}
    for key in _ORDER:
        if key == "vars":
            if values.vars:
                doc["vars"] = values.vars_section()
        elif key in dialect:
            doc[key] = dialect[key]
    for key, value in dialect.items():
        if key not in doc:
            doc[key] = value
    return dump(doc, header)


def lowered(text: str, file: str, sets: dict[str, str], diags: DiagnosticBag) -> dict[str, Any] | None:
    """The template a dialect text lowers to (no checks): what `compile` would emit."""
    from .dialect.common import LowerOptions
    from .lower import lower
    from .render import render
    from .resolve import ResolveOptions, resolve_node
    from .sources import load_source

    node = load_source(text, file, diags)
    if not isinstance(node, Mapping):
        return None
    path = Path(file).resolve()
    resolved = resolve_node(node, path, diags, ResolveOptions(root=path.parent))
    if resolved is None or diags.has_errors:
        return None
    rendered = render(resolved.node, dict(sets), diags)
    if rendered is None or diags.has_errors:
        return None
    model = lower(rendered, file, diags, LowerOptions(root=resolved.root))
    if model is None or diags.has_errors:
        return None
    return model.doc


def _verify(text: str, file: str, out: ImportedTemplate, diags: DiagnosticBag) -> str | None:
    """None when the text lowers to ``out.expected``; else where it differs."""
    doc = lowered(text, str(Path(file).with_suffix(".aib.yaml")), out.sets, diags)
    if doc is None:
        errors = [d for d in diags.sorted() if d.severity.value == "error"]
        first = errors[0] if errors else None
        return f"it does not lower ({first.code}: {first.message})" if first else "it does not lower"
    return first_difference(out.expected, doc)


def first_difference(a: Any, b: Any, path: str = "") -> str | None:
    """The first path where two JSON values differ (dict order ignored), or None."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in list(a) + [k for k in b if k not in a]:
            if key not in a or key not in b:
                return f"{path}.{key} is only in the {'original' if key in a else 'import'}"
            diff = first_difference(a[key], b[key], f"{path}.{key}")
            if diff:
                return diff
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path or '.'} has {len(a)} items in the original, {len(b)} in the import"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            diff = first_difference(x, y, f"{path}[{i}]")
            if diff:
                return diff
        return None
    if a != b or type(a) is not type(b):
        return f"{path or '.'} is {a!r} in the original, {b!r} in the import"
    return None


__all__ = ["ImportOptions", "ImportResult", "ImportedTemplate", "Variable", "escape", "first_difference",
           "import_file", "import_text", "lowered"]
