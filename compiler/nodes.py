"""Source-tracked document nodes: what YAML and JSON loading produce and later stages consume.

Every node keeps the :class:`Span` it came from, so any diagnostic can point at file:line:col,
and ``aibtui config`` can say where each merged value came from (the span's file).
"""

from __future__ import annotations

from .diagnostics import Span
from .records import dataclass, field

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the compile path
if TYPE_CHECKING:
    from typing import Any


@dataclass(slots=True, eq=False)
class Node:
    span: Span


@dataclass(slots=True, eq=False)
class Scalar(Node):
    value: Any  # str | int | float | bool | None | datetime.date/datetime (YAML 1.1 resolution)
    raw: str = ""  # the source text of the scalar (for plain scalars: what the user typed)
    plain: bool = True  # True for an unquoted plain scalar; quoted and block scalars are False
    block_indent: int = 0  # literal block scalars (`|`): the 0-based column of the content, else 0

    def __init__(self, span: Span, value: Any, raw: str = "", plain: bool = True, block_indent: int = 0) -> None:
        self.span = span  # written out: the loader makes one per scalar
        self.value = value
        self.raw = raw
        self.plain = plain
        self.block_indent = block_indent


@dataclass(slots=True, eq=False)
class Mapping(Node):
    items: dict[str, Node] = field(default_factory=dict)
    key_spans: dict[str, Span] = field(default_factory=dict)

    def __init__(self, span: Span, items: dict[str, Node] | None = None,
                 key_spans: dict[str, Span] | None = None) -> None:
        self.span = span  # written out: made for every mapping loaded or merged
        self.items = {} if items is None else items
        self.key_spans = {} if key_spans is None else key_spans

    def get(self, key: str) -> Node | None:
        return self.items.get(key)


@dataclass(slots=True, eq=False)
class Sequence(Node):
    items: list[Node] = field(default_factory=list)

    def __init__(self, span: Span, items: list[Node] | None = None) -> None:
        self.span = span
        self.items = [] if items is None else items


def lookup(mapping: Mapping, name: str) -> Node | None:
    """``mapping``'s value for ``name``, else for a key equal to it but for case (ARM names, of
    properties, parameters and variables, are case-insensitive)."""
    hit = mapping.items.get(name)
    if hit is not None:
        return hit
    low = name.lower()
    for key, value in mapping.items.items():
        if key.lower() == low:
            return value
    return None


def to_plain(node: Node) -> Any:
    """The node as plain JSON-like Python values (dict/list/str/int/float/bool/None)."""
    if isinstance(node, Scalar):
        return node.value
    if isinstance(node, Mapping):
        return {k: to_plain(v) for k, v in node.items.items()}
    if isinstance(node, Sequence):
        return [to_plain(v) for v in node.items]
    raise TypeError(type(node))


def from_plain(value: Any, span: Span) -> Node:
    """Build nodes from plain values, every node at ``span`` (used for --set values and defaults)."""
    if isinstance(value, dict):
        m = Mapping(span)
        for k, v in value.items():
            m.items[str(k)] = from_plain(v, span)
            m.key_spans[str(k)] = span
        return m
    if isinstance(value, list):
        return Sequence(span, [from_plain(v, span) for v in value])
    return Scalar(span, value, raw="" if value is None else str(value), plain=not isinstance(value, str))


def type_name(node: Node) -> str:
    """A user-facing name for what a node holds: 'a mapping', 'a list', 'a string', 'a boolean'..."""
    if isinstance(node, Mapping):
        return "a mapping"
    if isinstance(node, Sequence):
        return "a list"
    return value_type_name(node.value if isinstance(node, Scalar) else None)


def value_type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"
