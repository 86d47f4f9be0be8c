"""Walking an ARM deployment template the way ARM deploys it, to find image templates.

``find_image_templates`` evaluates the root template with the parameter values given (a parameters
file, ``name=value`` pairs), expands resource ``copy`` loops, skips resources whose ``condition`` is
false, follows nested ``Microsoft.Resources/deployments`` at any depth (inner scope: the values
passed in ``properties.parameters`` are evaluated in the parent and become the inner template's
parameters; outer scope: the inner template's expressions mean what they mean in the parent) and
returns every ``Microsoft.VirtualMachineImages/imageTemplates`` resource fully evaluated.

In an evaluated resource, a value known only at deployment is replaced by its ARM expression (a
string in brackets, as the template would have written it) and listed in ``unknowns`` with the
reason, so a caller can check everything else and say exactly what it could not check.
"""

from __future__ import annotations

from typing import Any

from .. import code_ids as C
from ..diagnostics import Span
from ..nodes import Mapping, Node, Scalar, Sequence, lookup
from ..records import dataclass, field
from .evaluator import Budget, Env, Evaluator, Problem
from .values import BudgetError, CliScalar, EvalError, Unknown

IMAGE_TYPE = "microsoft.virtualmachineimages/imagetemplates"
DEPLOYMENTS_TYPE = "microsoft.resources/deployments"
MAX_NESTED = 32
MAX_TEMPLATES = 200  # image templates evaluated per file (copy loops multiply them)
_RESOURCE_KEYS_NOT_EVALUATED = ("copy", "resources", "condition", "dependsOn")


@dataclass(slots=True)
class FoundTemplate:
    """One image template resource, evaluated."""

    node: Mapping  # the resource with every known value in place; unknown values as "[expr]" strings
    raw: Mapping  # the resource as written
    unknowns: list[tuple[tuple[str | int, ...], Unknown]] = field(default_factory=list)
    where: str = ""  # "in nested deployment 'x'", "copy index 2" ...
    scope: Any = None  # the TemplateScope it was evaluated in


@dataclass(slots=True)
class Outcome:
    found: list[FoundTemplate] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    not_followed: list[Problem] = field(default_factory=list)  # linked templates, unknown template values


class TemplateScope:
    """A template's parameters (declared, passed), variables and user-defined functions."""

    def __init__(self, template: Mapping, passed: dict[str, Node], *, deployment_name: str | None = None,
                 resource_group: str | None = None, subscription: str | None = None,
                 location: Node | None = None, label: str = "") -> None:
        self.template = template
        self.passed = {k.lower(): v for k, v in passed.items()}
        self.declared: dict[str, Mapping] = {}
        params = template.get("parameters")
        if isinstance(params, Mapping):
            for k, v in params.items.items():
                if isinstance(v, Mapping):
                    self.declared[k.lower()] = v
        self.variables: dict[str, Node] = {}
        self.variable_copies: dict[str, Mapping] = {}
        variables = template.get("variables")
        if isinstance(variables, Mapping):
            for k, v in variables.items.items():
                if k.lower() == "copy" and isinstance(v, Sequence):
                    for loop in v.items:
                        loop_name = loop.get("name") if isinstance(loop, Mapping) else None
                        if isinstance(loop, Mapping) and isinstance(loop_name, Scalar):
                            self.variable_copies[str(loop_name.value).lower()] = loop
                else:
                    self.variables[k.lower()] = v
        self.functions: dict[str, Mapping] = {}
        functions = template.get("functions")
        if isinstance(functions, Sequence):
            for ns in functions.items:
                if not isinstance(ns, Mapping):
                    continue
                prefix = ns.get("namespace")
                members = ns.get("members")
                if isinstance(prefix, Scalar) and isinstance(prefix.value, str) and isinstance(members, Mapping):
                    for name, member in members.items.items():
                        if isinstance(member, Mapping):
                            self.functions[f"{prefix.value}.{name}".lower()] = member
        self.deployment_name = deployment_name
        self.resource_group = resource_group
        self.subscription = subscription
        self.location = location
        self.label = label
        self._params: dict[str, Node] = {}
        # parameters whose value is unknown, as ARM declarations (for residual expressions)
        self.arm_parameters: dict[str, dict[str, str]] = {}
        self._vars: dict[str, Node] = {}
        self._busy: set[str] = set()

    def env(self) -> Env:
        return Env(self)

    def parameter(self, ev: Evaluator, name: str, span: Span) -> Node:
        key = name.lower()
        hit = self._params.get(key)
        if hit is not None:
            return hit
        decl = self.declared.get(key)
        if decl is None:
            raise EvalError(f"parameter '{name}' is not declared in the template", span)
        if ("p:" + key) in self._busy:
            raise EvalError(f"parameter '{name}' refers to itself", span)
        self._busy.add("p:" + key)
        try:
            value = self._parameter_value(ev, name, key, decl, span)
        finally:
            self._busy.discard("p:" + key)
        self._params[key] = value
        return value

    def _parameter_value(self, ev: Evaluator, name: str, key: str, decl: Mapping, span: Span) -> Node:
        passed = self.passed.get(key)
        declared_type = _declared_type(self.template, decl)
        if passed is not None:
            if isinstance(passed, CliScalar):
                return _coerce_cli(passed, declared_type, name)
            return passed
        default = decl.get("defaultValue")
        if default is not None:
            value = ev.value(default, self.env())
            if isinstance(value, Unknown):
                # keep the parameter in residual expressions: utcNow() and newGuid() are only valid
                # in a parameter's default value
                self.arm_parameters.setdefault(name, {"type": declared_type or "string",
                                                      "defaultValue": f"[{value.expr}]"})
                return Unknown(value.span, f"parameters('{name}')", value.reason)
            return value
        if _nullable(self.template, decl):
            return Scalar(decl.span, None, plain=False)
        if self.label:  # a nested template: its deployment must pass the value
            why = f"{self.label} does not pass parameter '{name}', which has no default"
            ev.problems.append(Problem(C.AIB721, f"{why}: ARM refuses the deployment", decl.span))
            self.arm_parameters.setdefault(name, {"type": declared_type or "string"})
            return Unknown(decl.span, f"parameters('{name}')", why, parameter=name)
        secure = declared_type.startswith("secure")
        why = (f"parameter '{name}' has no value" + (" (a secure parameter)" if secure else "")
               + "; give it with --parameters")
        self.arm_parameters.setdefault(name, {"type": declared_type or "string"})
        return Unknown(decl.span, f"parameters('{name}')", why, parameter=name)

    def variable(self, ev: Evaluator, name: str, span: Span) -> Node:
        key = name.lower()
        hit = self._vars.get(key)
        if hit is not None:
            return hit
        raw = self.variables.get(key)
        loop = self.variable_copies.get(key)
        if raw is None and loop is None:
            raise EvalError(f"variable '{name}' is not defined in the template", span)
        if ("v:" + key) in self._busy:
            raise EvalError(f"variable '{name}' refers to itself", span)
        self._busy.add("v:" + key)
        try:
            if loop is not None:
                value = ev.copy_loop(loop, self.env(), name)
            else:
                assert raw is not None
                value = ev.value(raw, self.env())
        finally:
            self._busy.discard("v:" + key)
        self._vars[key] = value
        return value

    def user_function(self, ev: Evaluator, name: str, args: list[Node], span: Span, text: str) -> Node:
        member = self.functions.get(name)
        if member is None:
            raise EvalError(f"unknown function '{name}' (not defined in the template's functions)", span)
        params = member.get("parameters")
        names: list[str] = []
        if isinstance(params, Sequence):
            for p in params.items:
                pname = p.get("name") if isinstance(p, Mapping) else None
                if isinstance(pname, Scalar) and isinstance(pname.value, str):
                    names.append(pname.value)
        if len(args) != len(names):
            raise EvalError(f"{name}() takes {len(names)} arguments, not {len(args)}", span)
        output = member.get("output")
        value = output.get("value") if isinstance(output, Mapping) else None
        if value is None:
            raise EvalError(f"function {name} has no output value", span)
        env = Env(self, fparams={n.lower(): a for n, a in zip(names, args, strict=True)})
        ev.depth += 1
        try:
            if ev.depth > ev.budget.max_depth:
                raise BudgetError(f"evaluation nested more than {ev.budget.max_depth} levels", span)
            return ev.value(value, env)
        finally:
            ev.depth -= 1


def _declared_type(template: Mapping, decl: Mapping) -> str:
    """The parameter's type, lower case, following a ``$ref`` to ``definitions`` (Bicep types)."""
    node: Node | None = decl
    for _ in range(16):
        if not isinstance(node, Mapping):
            return ""
        ptype = node.get("type")
        if isinstance(ptype, Scalar) and isinstance(ptype.value, str):
            return ptype.value.lower()
        ref = node.get("$ref")
        if not (isinstance(ref, Scalar) and isinstance(ref.value, str) and ref.value.startswith("#/definitions/")):
            return ""
        defs = template.get("definitions")
        node = defs.get(ref.value.split("/", 2)[2]) if isinstance(defs, Mapping) else None
    return ""


def _nullable(template: Mapping, decl: Mapping) -> bool:
    """``nullable: true`` on the parameter, or on the definition its ``$ref`` names (Bicep types)."""
    seen = 0
    node: Node | None = decl
    while isinstance(node, Mapping) and seen < 16:
        flag = node.get("nullable")
        if isinstance(flag, Scalar) and flag.value is True:
            return True
        ref = node.get("$ref")
        if not (isinstance(ref, Scalar) and isinstance(ref.value, str) and ref.value.startswith("#/definitions/")):
            return False
        defs = template.get("definitions")
        node = defs.get(ref.value.split("/", 2)[2]) if isinstance(defs, Mapping) else None
        seen += 1
    return False


def _coerce_cli(value: CliScalar, declared_type: str, name: str) -> Node:
    import json

    text = value.value
    span = value.span
    try:
        if declared_type == "int":
            return Scalar(span, int(text), raw=text, plain=False)
        if declared_type == "bool":
            if text.lower() not in ("true", "false"):
                raise ValueError("true or false")
            return Scalar(span, text.lower() == "true", raw=text, plain=False)
        if declared_type in ("array", "object", "secureobject"):
            from ..nodes import from_plain

            parsed = json.loads(text)
            return from_plain(parsed, span)
    except ValueError as exc:
        raise EvalError(f"--parameters {name}={text[:40]}: not a valid {declared_type} ({exc})", span) from None
    return Scalar(span, text, raw=text, plain=False)


# -- the walk ---------------------------------------------------------------------------------------------

def find_image_templates(root: Mapping, file: str, passed: dict[str, Node] | None = None, *,
                         deployment_only: bool = False, budget: Budget | None = None,
                         standins: bool = True) -> Outcome:
    """``standins``: subscription(), resourceGroup() and resourceId() without a scope give the
    documented stand-in values (for checking); without, they are unknown (for import, which must not
    write a stand-in into a file)."""
    ev = Evaluator(budget)
    ev.standins = standins
    out = Outcome()
    if deployment_only:
        scope = TemplateScope(Mapping(root.span), {})
        _resource(ev, root, scope.env(), out, 0, "")
    else:
        scope = TemplateScope(root, passed or {})
        _undeclared(root, scope, passed or {}, out)
        _walk(ev, root, scope.env(), out, 0, "")
    out.problems.extend(ev.problems)
    return out


def _undeclared(root: Mapping, scope: TemplateScope, passed: dict[str, Node], out: Outcome) -> None:
    for name, value in passed.items():
        if name.lower() not in scope.declared:
            declared = ", ".join(sorted(scope.declared)) or "none"
            out.problems.append(Problem(C.AIB723, f"parameter '{name}' is given, but the template does not "
                                        f"declare it (declared: {declared})", value.span,
                                        "ARM refuses a deployment with an undeclared parameter"))


def _walk(ev: Evaluator, tpl: Mapping, env: Env, out: Outcome, depth: int, where: str) -> None:
    resources = tpl.get("resources")
    if resources is None:
        return
    items: list[Node]
    if isinstance(resources, Sequence):
        items = list(resources.items)
    elif isinstance(resources, Mapping):  # languageVersion 2.0: symbolic names
        items = list(resources.items.values())
    else:
        out.not_followed.append(Problem(C.AIB720, "`resources` is not a list or an object of resources; not "
                                        "followed", resources.span))
        return
    for res in items:
        if isinstance(res, Mapping):
            _resource(ev, res, env, out, depth, where)


def _resource(ev: Evaluator, res: Mapping, env: Env, out: Outcome, depth: int, where: str) -> None:
    rtype = res.get("type")
    if not (isinstance(rtype, Scalar) and isinstance(rtype.value, str)):
        return
    tname = rtype.value.strip()
    low = tname.lower()
    out.types.append(tname)
    wanted = low in (IMAGE_TYPE, DEPLOYMENTS_TYPE)
    children = res.get("resources")
    copy = res.get("copy")
    envs: list[tuple[Env, str]] = [(env, where)]
    if isinstance(copy, Mapping) and wanted:
        envs = _copy_envs(ev, copy, env, out, where, tname)
    for each_env, each_where in envs:
        if wanted and not _condition(ev, res, each_env, out, each_where):
            continue
        if low == IMAGE_TYPE:
            if len(out.found) >= MAX_TEMPLATES:
                if not any(p.code == C.AIB722 and "image templates" in p.message for p in out.problems):
                    out.problems.append(Problem(C.AIB722, f"more than {MAX_TEMPLATES} image templates; the rest "
                                                "are not checked", res.span))
                continue
            existing = res.get("existing")
            if isinstance(existing, Scalar) and existing.value is True:
                out.problems.append(Problem(C.AIB724, "an existing imageTemplates resource is only referenced, "
                                            "not deployed; not checked", existing.span))
                continue
            _image(ev, res, each_env, out, each_where)
        elif low == DEPLOYMENTS_TYPE:
            _deployment(ev, res, each_env, out, depth, each_where)
    if isinstance(children, Sequence):
        for child in children.items:
            if isinstance(child, Mapping):
                _resource(ev, child, env, out, depth, where)


def _copy_envs(ev: Evaluator, copy: Mapping, env: Env, out: Outcome, where: str, tname: str) -> list[tuple[Env, str]]:
    name_node = copy.get("name")
    name = name_node.value if isinstance(name_node, Scalar) and isinstance(name_node.value, str) else ""
    count_node = copy.get("count")
    if count_node is None:
        return [(env, where)]
    try:
        count = ev.value(count_node, env)
    except EvalError as exc:
        _problem(out, exc, "the copy count")
        return [(env.with_copy(name, 0), _join(where, f"copy '{name}' index 0"))]
    if isinstance(count, Unknown):
        out.not_followed.append(Problem(C.AIB720, f"the number of {tname} resources made by copy loop '{name}' is "
                                        f"known only at deployment ({count.reason}); checked once, as index 0",
                                        count.span))
        return [(env.with_copy(name, 0), _join(where, f"copy '{name}' index 0"))]
    n = count.value if isinstance(count, Scalar) else None
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        out.problems.append(Problem(C.AIB721, f"copy loop '{name}': count is not a non-negative integer",
                                    count.span))
        return []
    if n > ev.budget.max_copy:
        out.problems.append(Problem(C.AIB722, f"copy loop '{name}' has {n} iterations; ARM allows "
                                    f"{ev.budget.max_copy}", count.span))
        n = ev.budget.max_copy
    return [(env.with_copy(name, i), _join(where, f"copy '{name}' index {i}")) for i in range(n)]


def _join(where: str, more: str) -> str:
    return f"{where}, {more}" if where else more


def _condition(ev: Evaluator, res: Mapping, env: Env, out: Outcome, where: str) -> bool:
    cond = res.get("condition")
    if cond is None:
        return True
    try:
        value = ev.value(cond, env)
    except EvalError as exc:
        _problem(out, exc, "the condition")
        return True
    if isinstance(value, Scalar) and value.value is False:
        if not _holds_image(res):
            return False
        out.problems.append(Problem(C.AIB724, "condition is false with these parameters: the resource is not "
                                    "deployed, so it is not checked" + (f" ({where})" if where else ""),
                                    cond.span))
        return False
    return True


def _holds_image(res: Mapping) -> bool:
    """The resource is an image template, or a deployment with one somewhere inside."""
    work: list[Node] = [res]
    while work:
        n = work.pop()
        if isinstance(n, Mapping):
            t = n.items.get("type")
            if isinstance(t, Scalar) and isinstance(t.value, str) and t.value.strip().lower() == IMAGE_TYPE:
                return True
            work.extend(v for v in n.items.values() if isinstance(v, (Mapping, Sequence)))
        elif isinstance(n, Sequence):
            work.extend(v for v in n.items if isinstance(v, (Mapping, Sequence)))
    return False


def _problem(out: Outcome, exc: EvalError, what: str) -> None:
    code = C.AIB722 if isinstance(exc, BudgetError) else C.AIB721
    out.problems.append(Problem(code, f"{what} cannot be evaluated: {exc.message}", exc.span))


def _image(ev: Evaluator, res: Mapping, env: Env, out: Outcome, where: str) -> None:
    items: dict[str, Node] = {}
    key_spans: dict[str, Span] = {}
    unknowns: list[tuple[tuple[str | int, ...], Unknown]] = []
    ev.tolerant = True
    try:
        _image_items(ev, res, env, out, items, key_spans)
    finally:
        ev.tolerant = False
    node = Mapping(res.span, items, key_spans)
    node = _residual(node, (), unknowns)  # type: ignore[assignment]
    out.found.append(FoundTemplate(node=node, raw=res, unknowns=unknowns, where=where, scope=env.scope))


def _image_items(ev: Evaluator, res: Mapping, env: Env, out: Outcome, items: dict[str, Node],
                 key_spans: dict[str, Span]) -> None:
    for key, child in res.items.items():
        if key in ("copy", "resources", "dependsOn"):
            if key == "dependsOn":
                items[key] = child
                key_spans[key] = res.key_spans.get(key, child.span)
            continue
        try:
            value = ev.value(child, env)
        except EvalError as exc:
            code = C.AIB722 if isinstance(exc, BudgetError) else C.AIB721
            reason = f"it cannot be evaluated: {exc.message}"
            out.problems.append(Problem(code, f"`{key}` cannot be evaluated: {exc.message}", exc.span or child.span))
            value = Unknown(child.span, _raw_text(child), reason)
        items[key] = value
        key_spans[key] = res.key_spans.get(key, child.span)


def _raw_text(node: Node) -> str:
    if isinstance(node, Scalar) and isinstance(node.value, str) and node.value.startswith("["):
        return node.value[1:-1]
    return "..."


def _residual(node: Node, path: tuple[str | int, ...], unknowns: list[tuple[tuple[str | int, ...], Unknown]]) -> Node:
    """Unknown values become their ARM expression text; each is listed with its path."""
    if isinstance(node, Unknown):
        unknowns.append((path, node))
        return Scalar(node.span, f"[{node.expr}]", raw="", plain=False)
    if isinstance(node, Mapping):
        changed = False
        items: dict[str, Node] = {}
        for k, v in node.items.items():
            nv = _residual(v, path + (k,), unknowns)
            changed = changed or nv is not v
            items[k] = nv
        return Mapping(node.span, items, node.key_spans) if changed else node
    if isinstance(node, Sequence):
        new = [_residual(v, path + (i,), unknowns) for i, v in enumerate(node.items)]
        if all(a is b for a, b in zip(new, node.items, strict=True)):
            return node
        return Sequence(node.span, new)
    return node


def _deployment(ev: Evaluator, res: Mapping, env: Env, out: Outcome, depth: int, where: str) -> None:
    props = res.get("properties")
    if not isinstance(props, Mapping):
        return
    inner = props.get("template")
    label = _deployment_label(ev, res, env)
    here = _join(where, f"nested deployment '{label}'")
    if inner is None:
        link = props.get("templateLink")
        if link is not None:
            out.not_followed.append(Problem(C.AIB717, f"{here}: a linked template (templateLink) is not fetched; "
                                            "its resources are not checked", link.span,
                                            "check the linked template file itself"))
        return
    if not isinstance(inner, Mapping):
        out.not_followed.append(Problem(C.AIB720, f"{here}: `template` is an expression; the resources it "
                                        "makes are not checked", inner.span))
        return
    if depth >= MAX_NESTED:
        out.not_followed.append(Problem(C.AIB717, f"nested deployments deeper than {MAX_NESTED} levels are not "
                                        "followed", inner.span))
        return
    options = props.get("expressionEvaluationOptions")
    scope_kind = options.get("scope") if isinstance(options, Mapping) else None
    inner_scope = isinstance(scope_kind, Scalar) and str(scope_kind.value).lower() == "inner"
    rg = _literal_text(ev, res.get("resourceGroup"), env)
    sub = _literal_text(ev, res.get("subscriptionId"), env)
    location = None
    loc_node = res.get("location")
    if loc_node is not None:
        try:
            location = ev.value(loc_node, env)
        except EvalError:
            location = None
    if not inner_scope:
        # outer scope (the default): the inner template's expressions use the parent's names
        _walk(ev, inner, env, out, depth + 1, here)
        return
    passed: dict[str, Node] = {}
    params = props.get("parameters")
    if isinstance(params, Mapping):
        for name, spec in params.items.items():
            if not isinstance(spec, Mapping):
                continue
            if "value" in spec.items:
                try:
                    passed[name] = ev.value(spec.items["value"], env)
                except EvalError as exc:
                    _problem(out, exc, f"the value passed to parameter '{name}'")
                    passed[name] = Unknown(spec.span, _raw_text(spec.items["value"]),
                                           f"the value passed to '{name}' cannot be evaluated: {exc.message}")
            elif "reference" in spec.items:
                passed[name] = Unknown(spec.span, f"parameters('{name}')",
                                       f"parameter '{name}' is a Key Vault reference, read at deployment")
    parent = env.scope
    scope = TemplateScope(inner, passed, deployment_name=label,
                          resource_group=rg or parent.resource_group, subscription=sub or parent.subscription,
                          location=location if location is not None else parent.location, label=here)
    scope.arm_parameters = parent.arm_parameters  # one table: residual expressions may use the parent's
    if isinstance(params, Mapping):
        for name in params.items:
            if name.lower() not in scope.declared:
                out.problems.append(Problem(C.AIB723, f"{here}: parameter '{name}' is passed, but the nested "
                                            "template does not declare it", params.key_spans.get(name, params.span),
                                            "ARM refuses a deployment with an undeclared parameter"))
    _walk(ev, inner, scope.env(), out, depth + 1, here)


def _deployment_label(ev: Evaluator, res: Mapping, env: Env) -> str:
    name = res.get("name")
    if name is None:
        return "?"
    try:
        value = ev.value(name, env)
    except EvalError:
        value = name
    if isinstance(value, Scalar) and isinstance(value.value, str):
        return value.value
    raw = name.value if isinstance(name, Scalar) else "?"
    return str(raw)


def _literal_text(ev: Evaluator, node: Node | None, env: Env) -> str | None:
    if node is None:
        return None
    try:
        value = ev.value(node, env)
    except EvalError:
        return None
    return value.value if isinstance(value, Scalar) and isinstance(value.value, str) else None


def section_of(path: tuple[str | int, ...]) -> str:
    """The part of a template a path belongs to: `properties.customize`, `location`,
    `properties.distribute[0].artifactTags`: a property, or one field of one item of a list."""
    if not path:
        return "(the resource)"
    keep = 4 if path[0] == "properties" and len(path) > 2 and isinstance(path[2], int) else \
        2 if path[0] == "properties" else 1
    out = ""
    for part in path[:keep]:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


__all__ = ["FoundTemplate", "Outcome", "TemplateScope", "find_image_templates", "lookup", "section_of"]
