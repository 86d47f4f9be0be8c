"""Values of the evaluator: the loader's nodes (so every value keeps where it was written), plus
:class:`Unknown` (known only when ARM deploys) and :class:`Lambda` (an argument of map/filter...)."""

from __future__ import annotations

from typing import Any

from ..diagnostics import Span
from ..errors import AibtuiError
from ..nodes import Mapping, Node, Scalar, Sequence


class Unknown(Node):
    """A value known only at deployment time. ``expr`` is the ARM expression that produces it
    (without brackets), kept so an import can write it back; ``reason`` says why it is unknown;
    ``parameter`` names the parameter when the reason is "no value was given"."""

    __slots__ = ("expr", "reason", "parameter")

    def __init__(self, span: Span, expr: str, reason: str, parameter: str | None = None) -> None:
        self.span = span
        self.expr = expr
        self.reason = reason
        self.parameter = parameter

    def __repr__(self) -> str:
        return f"Unknown({self.expr!r}: {self.reason})"


class Lambda(Node):
    __slots__ = ("names", "body", "env", "src")

    def __init__(self, span: Span, names: tuple[str, ...], body: Any, env: Any, src: Any) -> None:
        self.span = span
        self.names = names
        self.body = body
        self.env = env
        self.src = src


class CliScalar(Scalar):
    """A ``--parameters name=value`` value: text, converted to the parameter's declared type."""


class UnknownInside(AibtuiError):
    def __init__(self, unknown: Unknown) -> None:
        super().__init__(unknown.reason)
        self.unknown = unknown


class EvalError(AibtuiError):
    """The expression is wrong (ARM would refuse the deployment): a type error, a missing name..."""

    def __init__(self, message: str, span: Span | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.span = span


class BudgetError(EvalError):
    """A budget (steps, depth, size) ran out: a hostile or runaway template."""


def plain(node: Node) -> Any:
    """The node as plain JSON values; raises :class:`UnknownInside` at the first unknown part."""
    if isinstance(node, Scalar):
        return node.value
    if isinstance(node, Mapping):
        return {k: plain(v) for k, v in node.items.items()}
    if isinstance(node, Sequence):
        return [plain(v) for v in node.items]
    if isinstance(node, Unknown):
        raise UnknownInside(node)
    if isinstance(node, Lambda):
        raise EvalError("a lambda can only be an argument of map, filter, reduce, sort, toObject, "
                        "mapValues or groupBy", node.span)
    raise TypeError(type(node))


def first_unknown(node: Node) -> Unknown | None:
    work = [node]
    while work:
        n = work.pop()
        if isinstance(n, Unknown):
            return n
        if isinstance(n, Mapping):
            work.extend(n.items.values())
        elif isinstance(n, Sequence):
            work.extend(n.items)
    return None


def make(value: Any, span: Span) -> Node:
    """Nodes for a plain value, every node at ``span``."""
    if isinstance(value, Node):
        return value
    if isinstance(value, dict):
        m = Mapping(span)
        for k, v in value.items():
            m.items[str(k)] = make(v, span)
            m.key_spans[str(k)] = span
        return m
    if isinstance(value, list):
        return Sequence(span, [make(v, span) for v in value])
    return Scalar(span, value, raw="", plain=False)


def kind(node: Node) -> str:
    if isinstance(node, Mapping):
        return "object"
    if isinstance(node, Sequence):
        return "array"
    if isinstance(node, Unknown):
        return "unknown"
    if isinstance(node, Lambda):
        return "lambda"
    v = node.value  # type: ignore[attr-defined]
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "string"
    return "object"


__all__ = ["BudgetError", "CliScalar", "EvalError", "Lambda", "Unknown", "UnknownInside", "first_unknown",
           "kind", "make", "plain"]
