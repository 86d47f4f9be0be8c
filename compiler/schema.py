"""Validation against the official ARM schema of the model's apiVersion, with source spans.

The schemas in ``schemas/<apiVersion>.json`` are Microsoft's, unchanged on disk. Loading one applies
three changes in memory (``patched_schema``), so that the files mean what Azure's tooling means:

1. NOTES.md: every discriminated union (source, customize[], distribute[], inVMValidations[],
   versioning, trigger properties) is ``allOf: [base, {oneOf: [variants]}]`` and the base says
   ``additionalProperties: false`` while listing only the discriminator (and ``name`` /
   ``runOutputName``). Taken literally that rejects every real step. The base is opened, and each
   variant is closed instead over exactly its own keys plus the base's keys, so an unknown key is
   still an error, per variant.
2. Every other object schema that lists properties is closed (``additionalProperties: false``) unless
   it says otherwise. The published files leave them open, which would let ``buildTimeoutInMinute``
   or ``validate`` on an apiVersion that lacks it pass silently; the service rejects such keys.
3. The resource gains the generic ARM resource keys a template may carry beside the provider's own
   (``dependsOn``, ``comments``, ``condition``).

Two engines read the same patched document:

* ``builtin`` (the default, on the hot compile path): a small compiler from the JSON Schema keywords
  these files use (``SUPPORTED_KEYWORDS``) to a tree of check nodes, built once per apiVersion and
  cached. It knows the two idioms of ARM schemas: ``oneOf: [X, expression]`` (an ARM expression
  ``[...]`` or else X, and X's errors are the ones reported) and discriminated unions (the variant is
  picked by its ``type``/``scheme``/``kind`` value and only that variant is checked), which is what
  makes its messages readable. No jsonschema import; linear in the size of the document.
* ``jsonschema``: the reference implementation (Draft 7, because the files use ``const`` although
  they claim draft-04), with the common ``expression`` definition served from a local registry.
  ``aibtui check --schema-engine jsonschema`` and the tests use it to prove the two agree.

A key unknown for the model's apiVersion but known at the same definition in another stable version
is reported as a version problem (AIB508/AIB509), found through a cross-version index that is only
built when an unknown key turns up.
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
import re
from collections import namedtuple
from pathlib import Path

from . import code_ids as C
from .diagnostics import DiagnosticBag
from .errors import AibtuiError
from .model import STABLE_API_VERSIONS, JsonPath, TemplateModel, is_expression
from .nodes import value_type_name
from .records import dataclass

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the compile path
if TYPE_CHECKING:
    from typing import Any, NamedTuple

SCHEMA_DIR = Path(__file__).parent / "schemas"
COMMON_DEFINITIONS_URI = "https://schema.management.azure.com/schemas/common/definitions.json"
EXPRESSION_REF = COMMON_DEFINITIONS_URI + "#/definitions/expression"
# What ``model.is_expression`` accepts, as a JSON Schema (for the jsonschema engine's local registry).
EXPRESSION_SCHEMA: dict[str, Any] = {"type": "string", "pattern": r"^\[(?s:[^\[].*)?\]\Z"}
RESOURCE_DEFINITION = "imageTemplates"
ENGINES = ("builtin", "jsonschema")

# Keywords the builtin engine implements, and keywords that only annotate or hold definitions.
SUPPORTED_KEYWORDS = frozenset({
    "type", "$ref", "oneOf", "allOf", "properties", "required", "enum", "const", "items",
    "additionalProperties", "minimum", "maximum", "pattern",
})
ANNOTATION_KEYWORDS = frozenset({"description", "id", "$schema", "title", "definitions", "resourceDefinitions"})
_KNOWN_KEYWORDS = SUPPORTED_KEYWORDS | ANNOTATION_KEYWORDS

# Generic ARM resource keys allowed beside the provider's properties (D-01 names dependsOn).
ARM_RESOURCE_KEYS: dict[str, Any] = {
    "dependsOn": {"type": "array", "items": {"type": "string"}},
    "comments": {"type": "string"},
    "condition": {"oneOf": [{"type": "boolean"}, {"$ref": EXPRESSION_REF}]},
}


class SchemaError(AibtuiError):
    """A schema file uses something the builtin engine does not implement."""


# -- where a problem is, in words; which seed rule it enforces ---------------------------------------

# (locator, key) -> seed rule id. A locator is a definition name, ``Union[value]`` for one variant of a
# discriminated union, or ``parent.key`` for an inline object. (locator, None) covers the whole object
# and everything below it unless something more specific applies.
_RULES: dict[tuple[str, str | None], str] = {
    ("imageTemplates", "type"): "S-01",
    ("imageTemplates", "apiVersion"): "S-02",
    ("imageTemplates", "location"): "L-01",
    ("imageTemplates", "tags"): "T-01",
    ("imageTemplates", "dependsOn"): "D-01",
    ("imageTemplates", "identity"): "I-04",  # its shape; a missing identity is I-01 (_MISSING_RULES)
    ("ImageTemplateIdentity", None): "I-04",
    ("ImageTemplateProperties", "buildTimeoutInMinutes"): "B-02",
    ("ImageTemplateProperties", "distribute"): "DI-01",
    ("ImageTemplateVmProfile", "vmSize"): "V-01",
    ("ImageTemplateVmProfile", "osDiskSizeGB"): "V-02",
    ("ImageTemplateVmProfile", "vnetConfig"): "V-03",
    ("VirtualNetworkConfig", None): "V-03",
    ("ImageTemplateSource[PlatformImage]", None): "SRC-02",
    ("PlatformImagePurchasePlan", None): "SRC-03",
    ("ImageTemplateSource[ManagedImage]", None): "SRC-04",
    ("ImageTemplateSource[SharedImageVersion]", None): "SRC-05",
    ("ImageTemplateCustomizer", "name"): "C-01",
    ("ImageTemplateCustomizer[Shell]", None): "SH-01",
    ("ImageTemplateCustomizer[File]", None): "F-01",
    ("ImageTemplateCustomizer[PowerShell]", None): "PS-01",
    ("ImageTemplateCustomizer[WindowsRestart]", None): "WR-01",
    ("ImageTemplateCustomizer[WindowsUpdate]", None): "WU-01",
    ("ImageTemplateDistributor", "type"): "DI-01",
    ("ImageTemplateDistributor", "runOutputName"): "DI-02",
    ("ImageTemplateDistributor[ManagedImage]", None): "DI-03",
    ("ImageTemplateDistributor[SharedImage]", None): "DI-04",
    ("ImageTemplateDistributor[VHD]", None): "DI-06",
}

# a required key that is missing breaks the rule that asks for it, not the one about its shape
_MISSING_RULES = {"identity": "I-01"}

_NOUNS: dict[str, str] = {
    "imageTemplates": "the image template",
    "ImageTemplateProperties": "properties",
    "ImageTemplateVmProfile": "vmProfile",
    "VirtualNetworkConfig": "vnetConfig",
    "ImageTemplateIdentity": "identity",
    "PlatformImagePurchasePlan": "planInfo",
    "TargetRegion": "a target region",
    "ImageTemplatePropertiesValidate": "validate",
    "ImageTemplatePropertiesOptimize": "optimize",
    "ImageTemplatePropertiesOptimizeVmBoot": "optimize.vmBoot",
    "ImageTemplatePropertiesOptimizeWorkload": "optimize.workload",
    "ImageTemplatePropertiesErrorHandling": "errorHandling",
    "ImageTemplateAutoRun": "autoRun",
    "DataDisk": "a data disk",
    "imageTemplates_triggers_childResource": "a trigger resource",
}

# Discriminated unions: what one of them is called ("a Shell customizer").
_UNION_KINDS: dict[str, str] = {
    "ImageTemplateCustomizer": "customizer",
    "ImageTemplateInVMValidator": "validator",
    "ImageTemplateDistributor": "distribute target",
    "ImageTemplateSource": "source",
    "DistributeVersioner": "versioning scheme",
    "TriggerProperties": "trigger",
}

_PATTERN_WORDS: dict[str, str] = {
    "^[A-Za-z0-9-_.]{1,64}$": "1 to 64 letters, digits, '-', '_' or '.'",
}

_TYPE_WORDS = {
    "string": "a string", "integer": "an integer", "number": "a number", "boolean": "a boolean",
    "object": "a mapping", "array": "a list", "null": "null",
}


# -- loading and patching ---------------------------------------------------------------------------

def _iter_schemas(root: Any) -> list[dict[str, Any]]:
    """Every schema object in a schema document (not values of enum/const/required)."""
    out: list[dict[str, Any]] = []
    stack = [root]
    while stack:
        s = stack.pop()
        if not isinstance(s, dict):
            continue
        out.append(s)
        for k in ("properties", "definitions", "resourceDefinitions"):
            m = s.get(k)
            if isinstance(m, dict):
                stack.extend(m.values())
        for k in ("allOf", "oneOf"):
            m = s.get(k)
            if isinstance(m, list):
                stack.extend(m)
        for k in ("items", "additionalProperties"):
            m = s.get(k)
            if isinstance(m, dict):
                stack.append(m)
    return out


def _local_ref(ref: Any) -> str | None:
    if isinstance(ref, str) and ref.startswith("#/definitions/") and "/" not in ref[14:]:
        return ref[14:]
    return None


@dataclass(frozen=True, slots=True)
class _UnionShape:
    disc: str
    base: dict[str, Any]
    variants: tuple[tuple[Any, str, dict[str, Any]], ...]  # (discriminator value, definition, const member)


def _union_shape(s: dict[str, Any]) -> _UnionShape | None:
    """``allOf: [base, {oneOf: [{allOf: [{$ref: D}, {properties: {disc: {const: V}}}]}, ...]}]``."""
    all_of = s.get("allOf")
    if not isinstance(all_of, list) or len(all_of) != 2:
        return None
    base, alt = all_of
    if not isinstance(base, dict) or not isinstance(alt, dict) or set(alt) != {"oneOf"}:
        return None
    base_props = base.get("properties")
    if not isinstance(base_props, dict) or not isinstance(alt["oneOf"], list):
        return None
    disc: str | None = None
    variants: list[tuple[Any, str, dict[str, Any]]] = []
    for branch in alt["oneOf"]:
        inner = branch.get("allOf") if isinstance(branch, dict) else None
        if not isinstance(inner, list) or len(inner) != 2 or not all(isinstance(x, dict) for x in inner):
            return None
        ref, member = inner
        name = _local_ref(ref.get("$ref"))
        props = member.get("properties")
        if name is None or not isinstance(props, dict):
            return None
        consts = [(k, p["const"]) for k, p in props.items() if isinstance(p, dict) and "const" in p]
        if len(consts) != 1 or (disc is not None and consts[0][0] != disc):
            return None
        disc = consts[0][0]
        variants.append((consts[0][1], name, member))
    if disc is None or disc not in base_props:
        return None
    return _UnionShape(disc, base, tuple(variants))


def _patch(doc: dict[str, Any]) -> dict[str, Any]:
    """Apply the three in-memory changes described in the module docstring (in place)."""
    defs = doc.get("definitions", {})
    resource = doc["resourceDefinitions"][RESOURCE_DEFINITION]
    props = resource.setdefault("properties", {})
    for k, v in ARM_RESOURCE_KEYS.items():
        props.setdefault(k, json.loads(json.dumps(v)))
    schemas = _iter_schemas(doc)
    settled: set[int] = set()
    for s in schemas:
        shape = _union_shape(s)
        if shape is None:
            continue
        base = shape.base
        if base.get("additionalProperties") is False:
            del base["additionalProperties"]
        settled.add(id(base))
        for _value, name, member in shape.variants:
            vdef = defs.get(name, {})
            settled.add(id(vdef))
            allowed = set(base["properties"]) | set(vdef.get("properties", {}))
            for k in sorted(allowed):
                member["properties"].setdefault(k, {})
            member["additionalProperties"] = False
            settled.add(id(member))
    for s in schemas:
        p = s.get("properties")
        if id(s) not in settled and isinstance(p, dict) and p and "additionalProperties" not in s:
            s["additionalProperties"] = False
    return doc


@functools.cache
def patched_schema(api_version: str) -> dict[str, Any]:
    """The official schema of ``api_version`` with the in-memory fixes applied. Do not mutate it."""
    if api_version not in STABLE_API_VERSIONS:
        raise ValueError(f"no schema for apiVersion {api_version!r}")
    raw = json.loads((SCHEMA_DIR / f"{api_version}.json").read_text(encoding="utf-8"))
    return _patch(raw)


# -- the builtin engine: compiled check nodes -------------------------------------------------------

if TYPE_CHECKING:
    class _Err(NamedTuple):
        code: str
        path: JsonPath
        message: str
        rule: str | None = None
        hint: str | None = None
        key: bool = False  # point at the key, not the value
        gate: tuple[str, str, Any] | None = None  # ("key"|"variant"|"enum", locator, name): other versions
else:  # the class typing.NamedTuple would build, without importing typing
    _Err = namedtuple("_Err", ("code", "path", "message", "rule", "hint", "key", "gate"),
                      defaults=(None, None, False, None))


_MISSING = object()


def _name(path: JsonPath) -> str:
    """``inline[2]``, ``customize[0]``, ``osDiskSizeGB``: how a message names the value at ``path``."""
    if not path:
        return "the template"
    i = len(path) - 1
    while i > 0 and isinstance(path[i], int):
        i -= 1
    head = path[i]
    text = str(head) if isinstance(head, str) else f"[{head}]"
    return text + "".join(f"[{p}]" for p in path[i + 1:])


def _show(v: Any) -> str:
    if isinstance(v, str):
        return repr(v if len(v) <= 60 else v[:57] + "...")
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    if isinstance(v, dict):
        return "a mapping"
    if isinstance(v, list):
        return "a list"
    return str(v)


def did_you_mean(word: str, options: Any) -> str | None:
    """The closest option: a case-insensitive match first, then difflib."""
    low = {str(o).lower(): str(o) for o in options}
    w = word.lower()
    if w in low:
        return low[w]
    import difflib  # lazily: only error paths need it

    close = difflib.get_close_matches(w, list(low), n=1, cutoff=0.6)
    return low[close[0]] if close else None


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


# JSON type names a value of exactly this Python type always has (a float holding an integer is
# also an "integer": _has_type decides what this table leaves open).
_JSON_TYPES: dict[type, frozenset[str]] = {
    str: frozenset({"string"}), dict: frozenset({"object"}), list: frozenset({"array"}),
    bool: frozenset({"boolean"}), int: frozenset({"integer", "number"}), float: frozenset({"number"}),
}
_NO_TYPES: frozenset[str] = frozenset()


def _has_type(v: Any, t: str) -> bool:
    if t == "string":
        return isinstance(v, str)
    if t == "object":
        return isinstance(v, dict)
    if t == "array":
        return isinstance(v, list)
    if t == "boolean":
        return isinstance(v, bool)
    if t == "integer":
        return (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer())
    if t == "number":
        return _is_number(v)
    if t == "null":
        return v is None
    raise SchemaError(f"unknown type {t!r}")


def _json_equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    return bool(a == b)


def _yaml_text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (_dt.date, _dt.datetime)):
        return v.isoformat()
    return str(v)


def _type_error(v: Any, types: tuple[str, ...], path: JsonPath, rule: str | None) -> _Err:
    want = " or ".join(_TYPE_WORDS.get(t, t) for t in types)
    got = value_type_name(v)
    hint = None
    if "string" in types and (_is_number(v) or isinstance(v, (bool, _dt.date))):
        hint = f"quote the value so YAML keeps it a string (YAML read it as {_yaml_text(v)})"
    elif ("integer" in types or "number" in types) and isinstance(v, str) and re.fullmatch(r"\s*-?\d+\s*", v):
        hint = f"write {v.strip()} without quotes"
    elif "boolean" in types and isinstance(v, str) and v.strip().lower() in ("true", "false"):
        hint = f"write {v.strip().lower()} without quotes"
    elif "array" in types and not isinstance(v, list):
        hint = "write a list: [a, b] or one '- item' per line"
    return _Err(C.AIB502, path, f"{_name(path)} must be {want}, not {got}", rule, hint)


class _Node:
    __slots__ = ()
    # Python types (exact) a value of which this node accepts with no error, known without a call:
    # the validator skips the call (and the path it would build) for them.
    fast: frozenset[type] = frozenset()

    def check(self, v: Any, path: JsonPath, errs: list[_Err], rule: str | None) -> None:
        raise NotImplementedError


class _AnyNode(_Node):
    __slots__ = ()

    def check(self, v: Any, path: JsonPath, errs: list[_Err], rule: str | None) -> None:
        return None


class _ExprNode(_Node):
    __slots__ = ()

    def check(self, v: Any, path: JsonPath, errs: list[_Err], rule: str | None) -> None:
        if not is_expression(v):
            errs.append(_Err(C.AIB502, path, f"{_name(path)} must be an ARM expression \"[...]\", "
                             f"not {value_type_name(v)}", rule))


_ANY = _AnyNode()
_EXPR = _ExprNode()


class _OrExpr(_Node):
    """``oneOf: [X, expression]``: an ARM expression passes; anything else must match X."""

    __slots__ = ("inner", "fast")

    def __init__(self, inner: _Node) -> None:
        self.inner = inner
        self.fast = inner.fast  # (an expression is a str; a str the inner node takes passes anyway)

    def check(self, v: Any, path: JsonPath, errs: list[_Err], rule: str | None) -> None:
        if type(v) is str and is_expression(v):
            return
        self.inner.check(v, path, errs, rule)


class _Ref(_Node):
    """A definition still being compiled (a recursive reference); bound when it is done."""

    __slots__ = ("name", "target")

    def __init__(self, name: str) -> None:
        self.name = name
        self.target: _Node = _ANY

    def check(self, v: Any, path: JsonPath, errs: list[_Err], rule: str | None) -> None:
        self.target.check(v, path, errs, rule)


class _AllOf(_Node):
    __slots__ = ("nodes",)

    def __init__(self, nodes: list[_Node]) -> None:
        self.nodes = nodes

    def check(self, v: Any, path: JsonPath, errs: list[_Err], rule: str | None) -> None:
        for n in self.nodes:
            n.check(v, path, errs, rule)


class _OneOf(_Node):
    """A general ``oneOf`` (none in the current files beyond the two idioms, kept for safety)."""

    __slots__ = ("nodes",)

    def __init__(self, nodes: list[_Node]) -> None:
        self.nodes = nodes

    def check(self, v: Any, path: JsonPath, errs: list[_Err], rule: str | None) -> None:
        failures: list[list[_Err]] = []
        passed = 0
        for n in self.nodes:
            sub: list[_Err] = []
            n.check(v, path, sub, rule)
            if sub:
                failures.append(sub)
            else:
                passed += 1
        if passed == 1:
            return
        if passed == 0:
            # the alternative that got furthest: deepest error, then fewest errors
            best = max(failures, key=lambda es: (max(len(e.path) for e in es), -len(es)))
            errs.extend(best)
            return
        errs.append(_Err(C.AIB500, path, f"{_name(path)} matches more than one of the allowed forms", rule))


class _Plain(_Node):
    """Everything but the combinators: type, enum, const, range, pattern, properties, items."""

    __slots__ = ("types", "type_set", "fast", "enum", "str_enum", "const", "has_const", "minimum", "maximum", "pattern",
                 "props", "required", "additional", "items", "locator", "noun", "rule", "prop_rules")

    def __init__(self, locator: str) -> None:
        self.types: tuple[str, ...] | None = None
        self.type_set: frozenset[str] = frozenset()  # the same names, for the fast check in check()
        self.fast = frozenset()  # set by _Compiler.plain once the node is complete
        self.enum: tuple[Any, ...] | None = None
        self.str_enum: frozenset[str] | None = None
        self.const: Any = None
        self.has_const = False
        self.minimum: float | None = None
        self.maximum: float | None = None
        self.pattern: re.Pattern[str] | None = None
        self.props: dict[str, _Node] | None = None
        self.required: tuple[str, ...] = ()
        self.additional: _Node | bool | None = None  # None: open; False: closed; a node: checks the rest
        self.items: _Node | None = None
        self.locator = locator
        self.noun = _NOUNS.get(locator)
        self.rule = _RULES.get((locator, None))
        self.prop_rules: dict[str, str] = {}

    def _enum_error(self, v: Any, allowed: tuple[Any, ...], path: JsonPath, rule: str | None) -> _Err:
        shown = ", ".join(str(a) for a in allowed)
        if self.locator.endswith(".apiVersion"):
            return _Err(C.AIB504, path, f"apiVersion is {_show(v)}, but the template is being checked against "
                        f"apiVersion {shown}", rule, "the document's apiVersion and --api-version must agree")
        msg = f"{_name(path)} is {_show(v)}; allowed: {shown}"
        if isinstance(v, str):
            guess = did_you_mean(v, [a for a in allowed if isinstance(a, str)])
            if guess is not None:
                msg += f"; did you mean '{guess}'?"
        return _Err(C.AIB504, path, msg, rule)

    def check(self, v: Any, path: JsonPath, errs: list[_Err], rule: str | None) -> None:
        if self.rule is not None:
            rule = self.rule
        types = self.types
        if types is not None and not (_JSON_TYPES.get(type(v), _NO_TYPES) & self.type_set) \
                and not any(_has_type(v, t) for t in types):
            errs.append(_type_error(v, types, path, rule))
            return
        if self.enum is not None:
            ok = (type(v) is str and v in self.str_enum) if self.str_enum is not None \
                else any(_json_equal(v, e) for e in self.enum)
            if not ok:
                err = self._enum_error(v, self.enum, path, rule)
                if isinstance(v, str) and self.str_enum is not None and not self.locator.endswith(".apiVersion"):
                    err = err._replace(gate=("enum", self.locator, v))
                errs.append(err)
                return
        if self.has_const and not _json_equal(v, self.const):
            errs.append(self._enum_error(v, (self.const,), path, rule))
            return
        if (self.minimum is not None or self.maximum is not None) and _is_number(v):
            if self.maximum is not None and v > self.maximum:
                errs.append(_Err(C.AIB503, path, f"{_name(path)} is {v}; the maximum is {self.maximum}", rule))
            elif self.minimum is not None and v < self.minimum:
                errs.append(_Err(C.AIB503, path, f"{_name(path)} is {v}; the minimum is {self.minimum}", rule))
        if self.pattern is not None and isinstance(v, str) and not self.pattern.search(v):
            src = self.pattern.pattern
            words = _PATTERN_WORDS.get(src)
            msg = f"{_name(path)} {_show(v)} does not match {src}" + (f" ({words})" if words else "")
            errs.append(_Err(C.AIB505, path, msg, rule))
        if isinstance(v, dict):
            if self.required:
                for k in self.required:
                    if k not in v:
                        errs.append(_Err(C.AIB506, path, f"{self.noun or _name(path)} needs '{k}'",
                                         _MISSING_RULES.get(k) or self.prop_rules.get(k, rule)))
            props = self.props
            additional = self.additional
            if props is None and additional is None:
                return
            for k, item in v.items():
                sub = props.get(k) if props is not None else None
                if sub is not None:
                    if type(item) in sub.fast:
                        continue
                    sub.check(item, path + (k,), errs, self.prop_rules.get(k, rule))
                elif additional is False:
                    errs.append(_unknown_key(k, path, self.noun or _name(path), props or {},
                                             self.locator, rule))
                elif additional is not None and additional is not True:
                    additional.check(item, path + (k,), errs, rule)
        elif self.items is not None and isinstance(v, list):
            items = self.items
            fast = items.fast
            for i, item in enumerate(v):
                if type(item) not in fast:
                    items.check(item, path + (i,), errs, rule)


def _unknown_key(key: str, path: JsonPath, noun: str, allowed: Any, locator: str,
                 rule: str | None) -> _Err:
    msg = f"unknown key '{key}' in {noun}"
    guess = did_you_mean(key, allowed)
    if guess is not None:
        msg += f"; did you mean '{guess}'?"
    names = sorted(allowed)
    hint = f"{noun} takes: {', '.join(names)}" if names and len(names) <= 16 else None
    return _Err(C.AIB501, path + (key,), msg, rule, hint, key=True, gate=("key", locator, key))


class _Variant:
    __slots__ = ("value", "props", "required", "allowed", "locator", "noun", "rule", "prop_rules")

    def __init__(self, value: str, props: dict[str, _Node], required: tuple[str, ...],
                 allowed: frozenset[str], locator: str, noun: str) -> None:
        self.value = value
        self.props = props
        self.required = required
        self.allowed = allowed
        self.locator = locator
        self.noun = noun
        self.rule = _RULES.get((locator, None))
        self.prop_rules = {k: r for k in allowed if (r := _RULES.get((locator, k))) is not None}


class _Union(_Node):
    """A discriminated union: pick the variant by the discriminator, check only that variant."""

    __slots__ = ("disc", "base_props", "variants", "locator", "kind", "rule", "prop_rules")

    def __init__(self, disc: str, base_props: dict[str, _Node], variants: dict[str, _Variant],
                 locator: str) -> None:
        self.disc = disc
        self.base_props = base_props
        self.variants = variants
        self.locator = locator
        self.kind = _UNION_KINDS.get(locator, locator)
        self.rule = _RULES.get((locator, None))
        self.prop_rules = {k: r for k in base_props if (r := _RULES.get((locator, k))) is not None}

    def _check_base(self, v: dict[str, Any], path: JsonPath, errs: list[_Err], rule: str | None) -> None:
        for k, item in v.items():
            sub = self.base_props.get(k)
            if sub is not None and k != self.disc:
                sub.check(item, path + (k,), errs, self.prop_rules.get(k, rule))

    def check(self, v: Any, path: JsonPath, errs: list[_Err], rule: str | None) -> None:
        if self.rule is not None:
            rule = self.rule
        if not isinstance(v, dict):
            errs.append(_type_error(v, ("object",), path, rule))
            return
        disc = self.disc
        d = v.get(disc, _MISSING)
        var = self.variants.get(d) if isinstance(d, str) else None
        if var is not None:
            self._check_variant(var, v, path, errs, rule)
            return
        values = ", ".join(self.variants)
        if d is _MISSING:
            errs.append(_Err(C.AIB506, path, f"a {self.kind} needs '{disc}' (one of {values})",
                             self.prop_rules.get(disc, rule)))
            self._check_base(v, path, errs, rule)
            return
        msg = f"unknown {self.kind} {disc} {_show(d)} (valid: {values})"
        guess = did_you_mean(d, self.variants) if isinstance(d, str) else None
        if guess is not None:
            msg += f"; did you mean '{guess}'?"
        errs.append(_Err(C.AIB507, path + (disc,), msg, self.prop_rules.get(disc, rule),
                         f"{disc} is one of: {values}",
                         gate=("variant", self.locator, d) if isinstance(d, str) else None))
        self._check_base(v, path, errs, rule)

    def _check_variant(self, var: _Variant, v: dict[str, Any], path: JsonPath, errs: list[_Err],
                       rule: str | None) -> None:
        disc = self.disc
        if var.rule is not None:
            rule = var.rule
        for k in var.required:
            if k not in v:
                errs.append(_Err(C.AIB506, path, f"{var.noun} needs '{k}'",
                                 var.prop_rules.get(k) or self.prop_rules.get(k) or rule))
        base_props = self.base_props
        for k, item in v.items():
            if k == disc:
                continue
            sub = var.props.get(k)
            base = base_props.get(k)
            if sub is None and base is None:
                errs.append(_unknown_key(k, path, var.noun, var.allowed, var.locator, rule))
                continue
            t = type(item)
            if (sub is None or t in sub.fast) and (base is None or t in base.fast):
                continue
            kr = var.prop_rules.get(k) or self.prop_rules.get(k) or rule
            n0 = len(errs)
            if sub is not None:
                sub.check(item, path + (k,), errs, kr)
            if base is not None and len(errs) == n0:
                base.check(item, path + (k,), errs, kr)


@dataclass
class _Compiled:
    root: _Node
    keysets: dict[str, frozenset[str]]  # locator -> property names
    union_values: dict[str, frozenset[str]]  # union locator -> discriminator values
    enum_values: dict[str, frozenset[str]]  # locator of a string enum -> its values


class _Compiler:
    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        self.defs: dict[str, _Node] = {}
        self.keysets: dict[str, frozenset[str]] = {}
        self.union_values: dict[str, frozenset[str]] = {}
        self.enum_values: dict[str, frozenset[str]] = {}

    def definition(self, name: str) -> _Node:
        node = self.defs.get(name)
        if node is not None:
            return node
        schema = self.doc.get("definitions", {}).get(name)
        if schema is None:
            raise SchemaError(f"$ref to a missing definition {name!r}")
        placeholder = _Ref(name)
        self.defs[name] = placeholder
        node = self.compile(schema, name)
        placeholder.target = node
        self.defs[name] = node
        return node

    def compile(self, s: Any, loc: str) -> _Node:
        if s is True:
            return _ANY
        if not isinstance(s, dict):
            raise SchemaError(f"{loc}: a schema must be an object, not {s!r}")
        unknown = set(s) - _KNOWN_KEYWORDS
        if unknown:
            raise SchemaError(f"{loc}: unsupported JSON Schema keyword(s) {sorted(unknown)}")
        ref = s.get("$ref")
        if ref is not None:
            if ref == EXPRESSION_REF:
                return _EXPR
            name = _local_ref(ref)
            if name is None:
                raise SchemaError(f"{loc}: unsupported $ref {ref!r}")
            return self.definition(name)
        shape = _union_shape(s)
        if shape is not None:
            union = self.union(shape, loc)
            if union is not None:
                return union
        parts: list[_Node] = []
        if any(k in s for k in SUPPORTED_KEYWORDS - {"oneOf", "allOf", "$ref"}):
            parts.append(self.plain(s, loc))
        one_of = s.get("oneOf")
        if one_of is not None:
            nodes = [self.compile(b, loc) for b in one_of]
            if len(nodes) == 1:
                parts.append(nodes[0])
            elif len(nodes) == 2 and _EXPR in nodes:
                parts.append(_OrExpr(nodes[0] if nodes[1] is _EXPR else nodes[1]))
            else:
                parts.append(_OneOf(nodes))
        for sub in s.get("allOf", ()):
            parts.append(self.compile(sub, loc))
        if not parts:
            return _ANY
        return parts[0] if len(parts) == 1 else _AllOf(parts)

    def plain(self, s: dict[str, Any], loc: str) -> _Plain:
        node = _Plain(loc)
        t = s.get("type")
        if t is not None:
            node.types = (t,) if isinstance(t, str) else tuple(t)
            node.type_set = frozenset(node.types)
            for one in node.types:
                if one not in _TYPE_WORDS:
                    raise SchemaError(f"{loc}: unknown type {one!r}")
        if "enum" in s:
            node.enum = tuple(s["enum"])
            if all(isinstance(e, str) for e in node.enum):
                node.str_enum = frozenset(node.enum)
                self.enum_values[loc] = self.enum_values.get(loc, frozenset()) | node.str_enum
        if "const" in s:
            node.const, node.has_const = s["const"], True
        node.minimum = s.get("minimum")
        node.maximum = s.get("maximum")
        if "pattern" in s:
            node.pattern = re.compile(s["pattern"])
        props = s.get("properties")
        if props is not None:
            node.props = {k: self.compile(ps, f"{loc}.{k}") for k, ps in props.items()}
            node.prop_rules = {k: r for k in props if (r := _RULES.get((loc, k))) is not None}
        node.required = tuple(s.get("required", ()))
        add = s.get("additionalProperties")
        if add is False or add is True:
            node.additional = add
        elif add is not None:
            node.additional = self.compile(add, f"{loc}.*")
        if "items" in s:
            node.items = self.compile(s["items"], f"{loc}[]")
        if props or node.additional is False:
            self.keysets.setdefault(loc, frozenset(props or ()))
        if node.types is not None and node.enum is None and not node.has_const and node.minimum is None \
                and node.maximum is None and node.pattern is None and node.props is None \
                and node.additional is None and node.items is None and not node.required:
            node.fast = frozenset(py for py, names in _JSON_TYPES.items() if names & node.type_set)
        return node

    def union(self, shape: _UnionShape, loc: str) -> _Union | None:
        base = shape.base
        base_props = {k: self.compile(ps, f"{loc}.{k}") for k, ps in base["properties"].items()}
        kind = _UNION_KINDS.get(loc, loc)
        variants: dict[str, _Variant] = {}
        everything: set[str] = set(base_props)
        for value, name, _member in shape.variants:
            vdef = self.definition(name)
            if not isinstance(vdef, _Plain) or not isinstance(value, str):
                return None  # not the idiom after all: compile it generically
            vprops = vdef.props or {}
            allowed = frozenset(base_props) | frozenset(vprops)
            required = tuple(dict.fromkeys(tuple(base.get("required", ())) + vdef.required))
            vloc = f"{loc}[{value}]"
            variants[value] = _Variant(value, vprops, required, allowed, vloc, f"a {value} {kind}")
            self.keysets[vloc] = allowed
            everything |= allowed
        self.keysets[loc] = frozenset(everything)
        self.union_values[loc] = frozenset(variants)
        return _Union(shape.disc, base_props, variants, loc)


@functools.cache
def _compiled(api_version: str) -> _Compiled:
    doc = patched_schema(api_version)
    c = _Compiler(doc)
    root = c.compile(doc["resourceDefinitions"][RESOURCE_DEFINITION], RESOURCE_DEFINITION)
    for name in doc.get("definitions", {}):
        c.definition(name)
    return _Compiled(root, c.keysets, c.union_values, c.enum_values)


# -- the cross-version index (built only when an unknown key turns up) -----------------------------

@functools.lru_cache(maxsize=1024)
def _versions_with(kind: str, locator: str, name: str) -> tuple[str, ...]:
    out = []
    for v in STABLE_API_VERSIONS:
        c = _compiled(v)
        table = c.keysets if kind == "key" else c.union_values if kind == "variant" else c.enum_values
        pool = table.get(locator, frozenset())
        if name in pool:
            out.append(v)
    return tuple(out)


def property_names(definition: str, api_version: str) -> frozenset[str]:
    """The property names of a definition in one apiVersion (empty when it has none there).

    ``definition`` is a definition name (``"ImageTemplateProperties"``), ``"imageTemplates"`` for the
    resource itself, or ``"ImageTemplateDistributor[SharedImage]"`` for one variant of a union (base
    keys included); a union's plain name gives the keys of all its variants.
    """
    if api_version not in STABLE_API_VERSIONS:
        raise ValueError(f"{api_version!r} is not a stable apiVersion: {', '.join(STABLE_API_VERSIONS)}")
    return _compiled(api_version).keysets.get(definition, frozenset())


def first_version_with(definition: str, key: str) -> str | None:
    """The first stable apiVersion whose ``definition`` has property ``key``, else None."""
    found = _versions_with("key", definition, key)
    return found[0] if found else None


def _gate_message(err: _Err, api_version: str) -> _Err | None:
    """An unknown key / type that another stable version knows becomes a version diagnostic."""
    assert err.gate is not None
    kind, locator, name = err.gate
    have = _versions_with(kind, locator, name)
    if not have:
        return None
    order = STABLE_API_VERSIONS.index(api_version)
    later = [v for v in have if STABLE_API_VERSIONS.index(v) > order]
    earlier = [v for v in have if STABLE_API_VERSIONS.index(v) < order]
    if kind == "key":
        what = f"'{name}'"
    elif kind == "variant":
        what = f"{_UNION_KINDS.get(locator, locator)} type '{name}'"
    else:
        what = f"{_name(err.path)} '{name}'"
    if later:
        first = later[0]
        tail = STABLE_API_VERSIONS[STABLE_API_VERSIONS.index(first):]
        if tuple(later) == tail:
            msg = f"{what} needs apiVersion {first} or later; this template uses {api_version}"
        else:
            msg = f"{what} needs apiVersion {' or '.join(later)}; this template uses {api_version}"
        hint = f"set `apiVersion: {first}` in the file or pass --api-version {first}"
        return err._replace(code=C.AIB508, message=msg, hint=hint)
    last = earlier[-1]
    msg = f"{what} was removed after apiVersion {last}; this template uses {api_version}"
    hint = f"remove it, or set `apiVersion: {last}` in the file (or pass --api-version {last})"
    return err._replace(code=C.AIB509, message=msg, hint=hint)


# -- entry point ------------------------------------------------------------------------------------

def validate_schema(model: TemplateModel, diags: DiagnosticBag, *, engine: str = "builtin") -> None:
    """Check ``model.doc`` against the official schema of ``model.api_version``; report into ``diags``."""
    if engine not in ENGINES:
        raise ValueError(f"unknown schema engine {engine!r}; use one of: {', '.join(ENGINES)}")
    version: Any = model.api_version
    if version not in STABLE_API_VERSIONS:
        span = model.span_at(("apiVersion",))
        if isinstance(version, _dt.date):
            diags.add(C.AIB510, f"apiVersion must be a string, not a date ({version.isoformat()})", span,
                      hint=f"quote it: apiVersion: '{version.isoformat()}'", rule="S-02")
            return
        kind = "a preview version" if isinstance(version, str) and "preview" in version else "not a stable version"
        diags.add(C.AIB510, f"apiVersion {version} is {kind} of imageTemplates; use one of: "
                  f"{', '.join(STABLE_API_VERSIONS)}", span, rule="S-02")
        return
    errs = builtin_errors(model.doc, version) if engine == "builtin" else jsonschema_errors(model.doc, version)
    seen: set[tuple[str, JsonPath, str]] = set()
    for e in errs:
        if e.gate is not None:
            e = _gate_message(e, version) or e
        if model.origin == "json" and e.hint and e.hint.startswith("quote the value so YAML"):
            e = e._replace(hint="write the value as a JSON string, in double quotes")
        k = (e.code, e.path, e.message)
        if k in seen:
            continue
        if e.code == C.AIB506 and e.path == () and e.message.endswith("'name'") and not model.name_required:
            continue  # a REST body or a dialect file: the name travels in the URL / is checked at emit
        seen.add(k)
        diags.add(e.code, e.message, model.span_at(e.path, key=e.key), hint=e.hint, rule=e.rule)


def builtin_errors(doc: Any, api_version: str) -> list[_Err]:
    """The builtin engine's problems for ``doc`` (paths, not spans; version gating not applied)."""
    errs: list[_Err] = []
    _compiled(api_version).root.check(doc, (), errs, None)
    return errs


# -- the jsonschema engine (reference implementation; imported lazily) ------------------------------

@functools.cache
def _jsonschema_validator(api_version: str) -> Any:
    from jsonschema import Draft7Validator
    from referencing import Registry
    from referencing.jsonschema import DRAFT7

    doc = patched_schema(api_version)
    root = {k: v for k, v in doc.items() if k not in ("id", "$schema")}
    root["$schema"] = "http://json-schema.org/draft-07/schema#"
    root["allOf"] = [{"$ref": f"#/resourceDefinitions/{RESOURCE_DEFINITION}"}]
    common = DRAFT7.create_resource({"definitions": {"expression": EXPRESSION_SCHEMA}})
    registry = Registry().with_resource(COMMON_DEFINITIONS_URI, common)
    return Draft7Validator(root, registry=registry)


_JS_CODES = {
    "additionalProperties": C.AIB501, "type": C.AIB502, "minimum": C.AIB503, "maximum": C.AIB503,
    "enum": C.AIB504, "const": C.AIB504, "pattern": C.AIB505, "required": C.AIB506,
}


def _js_leaves(err: Any) -> list[Any]:
    """The errors worth showing under one jsonschema error.

    For a ``oneOf`` the alternative that was meant is chosen the way a reader would: never the ARM
    expression alternative, never a union variant whose discriminator (a ``const``) did not match,
    then the one with the fewest errors. A ``oneOf`` with no such alternative yields nothing (its
    sibling errors, such as the base's enum on ``type``, say it better)."""
    if err.validator != "oneOf" or not err.context:
        return [err]
    branches: dict[int, list[Any]] = {}
    for sub in err.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    alternatives = err.schema.get("oneOf", [])
    candidates = []
    for idx, subs in branches.items():
        if idx < len(alternatives) and alternatives[idx] == {"$ref": EXPRESSION_REF}:
            continue
        if any(s.validator == "const" and len(s.relative_path) == 1 for s in subs):
            continue
        candidates.append((len(subs), idx, subs))
    if not candidates:
        return []
    _, _, subs = min(candidates, key=lambda c: (c[0], c[1]))
    out: list[Any] = []
    for s in subs:
        out.extend(_js_leaves(s))
    return out


def jsonschema_errors(doc: Any, api_version: str) -> list[_Err]:
    """The jsonschema library's problems for ``doc``, mapped to paths and codes."""
    validator = _jsonschema_validator(api_version)
    out: list[_Err] = []
    for top in validator.iter_errors(doc):
        leaves = _js_leaves(top) or [top]
        for e in leaves:
            path: JsonPath = tuple(e.absolute_path)
            code = _JS_CODES.get(e.validator, C.AIB500)
            if e.validator == "additionalProperties" and isinstance(e.instance, dict):
                known = set(e.schema.get("properties", {}))
                for k in e.instance:
                    if k not in known:
                        out.append(_Err(code, path + (k,), f"unknown key '{k}' in {_name(path)}", key=True))
                continue
            msg = e.message if len(e.message) <= 200 else e.message[:197] + "..."
            out.append(_Err(code, path, f"{_name(path)}: {msg}"))
    # once per problem: a wrong type says it all (not also "not one of"), and repeats go
    typed = {e.path for e in out if e.code == C.AIB502}
    seen: set[tuple[str, JsonPath, str]] = set()
    kept = []
    for e in out:
        if (e.path in typed and e.code in (C.AIB504, C.AIB505)) or (e.code, e.path, e.message) in seen:
            continue
        seen.add((e.code, e.path, e.message))
        kept.append(e)
    return kept


__all__ = [
    "ANNOTATION_KEYWORDS",
    "ENGINES",
    "EXPRESSION_REF",
    "SUPPORTED_KEYWORDS",
    "SchemaError",
    "builtin_errors",
    "did_you_mean",
    "first_version_with",
    "jsonschema_errors",
    "patched_schema",
    "property_names",
    "validate_schema",
]
