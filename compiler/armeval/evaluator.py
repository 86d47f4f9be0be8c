"""Evaluating ARM expressions and JSON values in a template scope.

Values are the loader's nodes: a parameter passed by value comes back as the very node that was
written (in the parent template or the parameters file), so a diagnostic about it points at that
line. A value an expression computes is a new node located at the part of the expression that made
it. What only a deployment knows is an :class:`Unknown`; it propagates through every function that
needs its value, and stays in place inside objects and arrays that merely hold it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import code_ids as C
from ..diagnostics import Span
from ..nodes import Mapping, Node, Scalar, Sequence, lookup
from ..records import dataclass
from .parser import ExpressionSyntaxError, parse
from .values import (
    BudgetError,
    EvalError,
    Lambda,
    Unknown,
    UnknownInside,
    make,
    plain,
)

if TYPE_CHECKING:
    from .functions import EagerTable, LazyTable, NodeTable
    from .template import TemplateScope

_TABLES: list[tuple[EagerTable, LazyTable, NodeTable]] = []  # from .functions, loaded on the first call


@dataclass(frozen=True, slots=True)
class Budget:
    """Limits that keep a hostile template bounded (far above what real templates need)."""

    max_steps: int = 50_000  # function calls and property accesses, per evaluator (real templates: < 1,000)
    max_depth: int = 64  # nested evaluation (function calls, user functions, lambdas, variables)
    max_string: int = 1_000_000  # characters of one computed string
    max_total_chars: int = 10_000_000  # characters of all computed strings (a concat loop is quadratic)
    max_items: int = 100_000  # items of one computed array or object
    max_copy: int = 800  # ARM's own limit for copy loops


@dataclass(frozen=True, slots=True)
class Problem:
    code: str
    message: str
    span: Span | None
    hint: str | None = None


class Src:
    """Where an expression string sits: its text and the span of its JSON string."""

    __slots__ = ("text", "span")

    def __init__(self, text: str, span: Span) -> None:
        self.text = text
        self.span = span

    def at(self, start: int, end: int) -> Span:
        s = self.span
        # the JSON string's span starts at its opening quote; offsets count from the '['
        return Span(s.file, s.line, s.col + 1 + start, s.line, s.col + 1 + end)

    def part(self, node: Any) -> str:
        return self.text[node[-2]:node[-1]]


class Env:
    """The names an expression sees: its template scope, copy indexes, lambda variables, and the
    parameters of a user-defined function being evaluated."""

    __slots__ = ("scope", "copies", "lambdas", "fparams")

    def __init__(self, scope: TemplateScope, copies: dict[str, int] | None = None,
                 lambdas: dict[str, Node] | None = None, fparams: dict[str, Node] | None = None) -> None:
        self.scope = scope
        self.copies = copies or {}
        self.lambdas = lambdas or {}
        self.fparams = fparams

    def with_copy(self, name: str | None, index: int) -> Env:
        copies = dict(self.copies)
        if name:
            copies[name.lower()] = index
        copies[""] = index  # copyIndex() without a name means the innermost loop
        return Env(self.scope, copies, self.lambdas, self.fparams)

    def with_lambda(self, names: tuple[str, ...], values: list[Node]) -> Env:
        lambdas = dict(self.lambdas)
        for n, v in zip(names, values, strict=False):
            lambdas[n.lower()] = v
        return Env(self.scope, self.copies, lambdas, self.fparams)


class Evaluator:
    def __init__(self, budget: Budget | None = None) -> None:
        self.budget = budget or Budget()
        self.steps = 0
        self.chars = 0
        self.depth = 0
        self.problems: list[Problem] = []
        # tolerant: an expression that fails becomes an Unknown (and a problem) where it is written,
        # instead of failing the whole value around it
        self.tolerant = False
        # stand-in values for the deployment target (subscription, resource group); off: unknown
        self.standins = True

    # -- JSON values ------------------------------------------------------------------------------

    def value(self, node: Node, env: Env) -> Node:
        """A JSON value with every expression in it evaluated (property copy loops expanded)."""
        if isinstance(node, Scalar):
            v = node.value
            if isinstance(v, str) and v.startswith("["):
                if v.startswith("[["):
                    return Scalar(node.span, v[1:], raw=node.raw, plain=False)
                if v.endswith("]"):
                    if not self.tolerant:
                        return self.expression(node, env)
                    try:
                        return self.expression(node, env)
                    except BudgetError:
                        raise
                    except EvalError as exc:
                        self.problems.append(Problem(C.AIB721, f"{_short(v)} cannot be evaluated: {exc.message}",
                                                     exc.span or node.span))
                        return Unknown(node.span, v[1:-1], f"it cannot be evaluated: {exc.message}")
            return node
        if isinstance(node, Mapping):
            return self._mapping(node, env)
        if isinstance(node, Sequence):
            items = [self.value(v, env) for v in node.items]
            if all(a is b for a, b in zip(items, node.items, strict=True)):
                return node
            return Sequence(node.span, items)
        return node

    def _mapping(self, node: Mapping, env: Env) -> Node:
        changed = False
        items: dict[str, Node] = {}
        key_spans: dict[str, Span] = {}
        for key, child in node.items.items():
            if key == "copy" and _is_property_copy(child):
                assert isinstance(child, Sequence)
                for loop in child.items:
                    assert isinstance(loop, Mapping)
                    name_node = loop.items["name"]
                    name = name_node.value if isinstance(name_node, Scalar) else None
                    if not isinstance(name, str):
                        raise EvalError("a property copy loop needs a literal `name`", loop.span)
                    items[name] = self.copy_loop(loop, env, name)
                    key_spans[name] = node.key_spans.get(key, child.span)
                changed = True
                continue
            new_key = key
            if key.startswith("[") and key.endswith("]") and not key.startswith("[["):
                k = self.expression(Scalar(node.key_spans.get(key, node.span), key), env)
                if isinstance(k, Unknown):
                    return self._unknown_keys(node, env, k)
                if not (isinstance(k, Scalar) and isinstance(k.value, str)):
                    raise EvalError(f"the object key {key} does not evaluate to a string", k.span)
                new_key = k.value
            value = self.value(child, env)
            changed = changed or value is not child or new_key != key
            items[new_key] = value
            key_spans[new_key] = node.key_spans.get(key, child.span)
        if not changed:
            return node
        return Mapping(node.span, items, key_spans)

    def _unknown_keys(self, node: Mapping, env: Env, first: Unknown) -> Node:
        """An object with a key known only at deployment is unknown as a whole; its residual
        expression builds it with createObject()."""
        parts: list[str] = []
        for key, child in node.items.items():
            span = node.key_spans.get(key, node.span)
            k = self.expression(Scalar(span, key), env) if key.startswith("[") and not key.startswith("[[") \
                else Scalar(span, key)
            parts.append(residual(k))
            parts.append(residual(self.value(child, env)))
        return Unknown(node.span, f"createObject({', '.join(parts)})", first.reason, first.parameter)

    def copy_loop(self, loop: Mapping, env: Env, name: str) -> Node:
        """A property or variable copy loop: ``count`` items of ``input`` with copyIndex(name)."""
        count_node = loop.items.get("count")
        if count_node is None:
            raise EvalError(f"copy loop '{name}' has no count", loop.span)
        count = self.value(count_node, env)
        if isinstance(count, Unknown):
            return Unknown(count.span, count.expr, count.reason)
        n = count.value if isinstance(count, Scalar) else None
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise EvalError(f"copy loop '{name}': count is not a non-negative integer", count.span)
        if n > self.budget.max_copy:
            raise BudgetError(f"copy loop '{name}' has {n} iterations; ARM allows {self.budget.max_copy}",
                              count.span)
        body = loop.items.get("input")
        if body is None:
            raise EvalError(f"copy loop '{name}' has no input", loop.span)
        out = [self.value(body, env.with_copy(name, i)) for i in range(n)]
        return Sequence(loop.span, out)

    # -- expressions -------------------------------------------------------------------------------

    def expression(self, scalar: Scalar, env: Env) -> Node:
        text = scalar.value
        src = Src(text, scalar.span)
        try:
            tree = parse(text)
        except ExpressionSyntaxError as exc:
            raise EvalError(f"syntax error in {_short(text)}: {exc}", src.at(exc.offset, exc.offset + 1)) from None
        try:
            result = self.ev(tree, env, src)
        except RecursionError:  # a safety net under max_depth: Python's own stack ran out
            raise BudgetError("evaluation nested too deeply", scalar.span) from None
        if isinstance(result, Lambda):
            raise EvalError("a lambda is not a value", result.span)
        return result

    def ev(self, node: Any, env: Env, src: Src) -> Node:
        self.steps += 1
        if self.steps > self.budget.max_steps:
            raise BudgetError(f"evaluation took more than {self.budget.max_steps} steps", src.at(node[-2], node[-1]))
        kind = node[0]
        if kind == "lit":
            return Scalar(src.at(node[2], node[3]), node[1], raw="", plain=False)
        if kind == "call":
            self.depth += 1
            try:
                if self.depth > self.budget.max_depth:
                    raise BudgetError(f"evaluation nested more than {self.budget.max_depth} levels",
                                      src.at(node[3], node[4]))
                return self.call(node, env, src)
            finally:
                self.depth -= 1
        target = self.ev(node[1], env, src)
        span = src.at(node[-2], node[-1])
        if kind == "prop":
            return self.member(target, node[2], span, src.part(node))
        index = self.ev(node[2], env, src)
        return self.index(target, index, span, src.part(node))

    def member(self, target: Node, name: str, span: Span, text: str, *, safe: bool = False) -> Node:
        if isinstance(target, Unknown):
            return Unknown(span, f"{target.expr}.{name}", target.reason)
        if isinstance(target, Mapping):
            hit = lookup(target, name)
            if hit is None:
                if safe:
                    return Scalar(span, None, plain=False)
                keys = ", ".join(list(target.items)[:12]) or "none"
                raise EvalError(f"the object has no property '{name}' (properties: {keys})", span)
            return hit
        if safe and isinstance(target, Scalar) and target.value is None:
            return Scalar(span, None, plain=False)
        raise EvalError(f"cannot read property '{name}' of {_what(target)}", span)

    def index(self, target: Node, index: Node, span: Span, text: str) -> Node:
        if isinstance(target, Unknown) or isinstance(index, Unknown):
            reason = target.reason if isinstance(target, Unknown) else index.reason  # type: ignore[attr-defined]
            return Unknown(span, f"{residual(target)}[{residual(index)}]", reason)
        i = index.value if isinstance(index, Scalar) else None
        if isinstance(target, Sequence):
            if isinstance(i, bool) or not isinstance(i, int):
                raise EvalError(f"an array index must be an integer, not {_what(index)}", span)
            if not 0 <= i < len(target.items):
                raise EvalError(f"index {i} is outside the array of {len(target.items)} items", span)
            return target.items[i]
        if isinstance(target, Mapping):
            if not isinstance(i, str):
                raise EvalError(f"an object is indexed by a string, not {_what(index)}", span)
            return self.member(target, i, span, text)
        raise EvalError(f"cannot index {_what(target)}", span)

    def call(self, node: Any, env: Env, src: Src) -> Node:
        if not _TABLES:
            from . import functions

            _TABLES.append((functions.EAGER, functions.LAZY, functions.NODE))
        EAGER, LAZY, NODE = _TABLES[0]  # noqa: N806
        name = node[1]
        span = src.at(node[3], node[4])
        lazy = LAZY.get(name)
        if lazy is not None:
            return lazy(self, node, env, src, span)
        if "." in name:
            return env.scope.user_function(self, name, [self.ev(a, env, src) for a in node[2]], span, src.part(node))
        structural = NODE.get(name)
        eager = EAGER.get(name) if structural is None else None
        if structural is None and eager is None:
            if name.startswith("list"):
                from .functions import _residual_of

                return Unknown(span, _residual_of(self, node, env, src, list(node[2])),
                               f"{name}() returns what a resource holds at deployment time")
            raise EvalError(f"unknown function '{name}'", span)
        args = [self.ev(a, env, src) for a in node[2]]
        if structural is None:  # structural functions keep unknown members in place
            for a in args:
                if isinstance(a, Unknown):
                    return Unknown(span, residual_call(src, node, args), a.reason)
        if not self.standins and name in _TARGET_FUNCTIONS and _needs_target(name, args):
            return Unknown(span, residual_call(src, node, args),
                           "the subscription and resource group are known when it is deployed")
        fn, lo, hi = structural if structural is not None else eager  # type: ignore[misc]
        if len(args) < lo or (hi is not None and len(args) > hi):
            want = f"{lo}" if lo == hi else f"{lo} or more" if hi is None else f"{lo} to {hi}"
            raise EvalError(f"{name}() takes {want} argument{'s' * (want != '1')}, not {len(args)}", span)
        try:
            if structural is not None:
                return fn(self, args, span)
            result = fn(*[plain(a) for a in args])
        except UnknownInside as exc:
            return Unknown(span, src.part(node), exc.unknown.reason, exc.unknown.parameter)
        except EvalError as exc:
            if exc.span is None:
                exc.span = span
            raise
        except (TypeError, ValueError, ZeroDivisionError, IndexError, KeyError, OverflowError) as exc:
            raise EvalError(f"{name}(): {exc}", span) from None
        self.check_size(result, span)
        return make(result, span)

    def check_size(self, value: Any, span: Span) -> None:
        if isinstance(value, str):
            if len(value) > self.budget.max_string:
                raise BudgetError(f"a computed string has {len(value)} characters; the limit is "
                                  f"{self.budget.max_string}", span)
            self.chars += len(value)
            if self.chars > self.budget.max_total_chars:
                raise BudgetError(f"the computed strings add up to more than {self.budget.max_total_chars} "
                                  "characters", span)
        if isinstance(value, (list, dict)) and len(value) > self.budget.max_items:
            raise BudgetError(f"a computed value has {len(value)} items; the limit is {self.budget.max_items}", span)

    def apply(self, fn: Node, args: list[Node], span: Span) -> Node:
        """Call a lambda with arguments (map/filter/reduce...)."""
        if not isinstance(fn, Lambda):
            raise EvalError(f"expected a lambda, not {_what(fn)}", span)
        if len(args) < len(fn.names):
            raise EvalError(f"the lambda takes {len(fn.names)} arguments; {len(args)} are given", fn.span)
        self.depth += 1
        try:
            if self.depth > self.budget.max_depth:
                raise BudgetError(f"evaluation nested more than {self.budget.max_depth} levels", span)
            return self.ev(fn.body, fn.env.with_lambda(fn.names, args), fn.src)
        finally:
            self.depth -= 1


_TARGET_FUNCTIONS = frozenset({"subscription", "tenant", "managementgroup", "resourceid", "subscriptionresourceid",
                               "managementgroupresourceid"})


def _needs_target(name: str, args: list[Node]) -> bool:
    """The call would use a stand-in: no explicit subscription / resource group argument."""
    if name in ("subscription", "tenant", "managementgroup"):
        return True
    texts = [a.value for a in args if isinstance(a, Scalar)]
    scope = 0
    for t in texts:
        if isinstance(t, str) and "/" in t and "." in t.split("/")[0]:
            break
        scope += 1
    return scope < {"resourceid": 2, "subscriptionresourceid": 1, "managementgroupresourceid": 1}[name]


def residual(node: Node) -> str:
    """ARM expression text (without brackets) for a value: known values as literals, unknown ones as
    the expression that makes them, so a residual never refers to names of a scope it left."""
    import json

    if isinstance(node, Unknown):
        return node.expr
    if isinstance(node, Scalar):
        v = node.value
        if v is None:
            return "null()"
        if v is True:
            return "true()"
        if v is False:
            return "false()"
        if isinstance(v, (int, float)):
            return str(v)
        if isinstance(v, str):
            return "'" + v.replace("'", "''") + "'"
    if isinstance(node, (Mapping, Sequence)):
        from .values import first_unknown, plain

        if first_unknown(node) is None:
            text = json.dumps(plain(node), separators=(",", ":"))
            return "json('" + text.replace("'", "''") + "')"
        if isinstance(node, Sequence):
            return "createArray(" + ", ".join(residual(v) for v in node.items) + ")"
        return "createObject(" + ", ".join(f"{residual(Scalar(node.span, k))}, {residual(v)}"
                                           for k, v in node.items.items()) + ")"
    return "null()"


def residual_call(src: Src, node: Any, args: list[Node]) -> str:
    start = node[3]
    name = src.text[start:start + len(node[1])] if src.text[start:start + len(node[1])].lower() == node[1] \
        else node[1]
    return f"{name}({', '.join(residual(a) for a in args)})"


def _is_property_copy(node: Node) -> bool:
    return isinstance(node, Sequence) and bool(node.items) and all(
        isinstance(i, Mapping) and "name" in i.items and "input" in i.items for i in node.items)


def _short(text: str) -> str:
    return text if len(text) <= 80 else text[:77] + "..."


def _what(node: Node) -> str:
    from .values import kind

    k = kind(node)
    return {"object": "an object", "array": "an array", "null": "null", "int": "an integer",
            "bool": "a boolean", "float": "a number", "string": "a string"}.get(k, k)


__all__ = ["Budget", "Env", "Evaluator", "Problem", "Src"]
