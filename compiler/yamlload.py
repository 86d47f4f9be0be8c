"""Safe YAML loading into source-tracked nodes, in one iterative pass over libyaml's events.

Why events and not ``yaml.safe_load``: we need file:line:col on every value, duplicate keys as
errors (PyYAML keeps the last one silently), and hard budgets so that a YAML bomb (aliases that
expand exponentially, absurd nesting) is refused in bounded time and memory. Building the tree
from the event stream with an explicit stack gives all three, and never recurses in C or Python.

Scalars are resolved with YAML 1.1 rules (what PyYAML does), but each scalar also keeps its raw
text and whether it was plain, so later stages can refuse ``sku: no`` (read as ``False``) for a
string field with a "quote it" hint instead of silently converting it.
"""

from __future__ import annotations

import yaml

from . import code_ids as C
from .diagnostics import DiagnosticBag, Span
from .nodes import Mapping, Node, Scalar, Sequence
from .records import dataclass

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the compile path
if TYPE_CHECKING:
    from typing import Any, NoReturn

try:  # libyaml is much faster; fall back to the pure-Python parser where it is missing
    _Parser = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Parser = yaml.SafeLoader

_STD = "tag:yaml.org,2002:"
ScalarEvent = yaml.ScalarEvent
_ALLOWED_TAGS = {_STD + t for t in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp")}


@dataclass(frozen=True, slots=True)
class Budget:
    """Limits that keep hostile input bounded. Generous for any hand-written image template."""

    max_bytes: int = 4 * 1024 * 1024
    max_depth: int = 64
    max_nodes: int = 200_000  # counts nodes produced by alias expansion too
    max_aliases: int = 1_000


DEFAULT_BUDGET = Budget()


class _Stop(Exception):
    pass


class _Frame:
    __slots__ = ("node", "anchor", "size", "pending_key", "pending_key_span", "pending_merge", "merges",
                 "explicit")

    def __init__(self, node: Sequence | Mapping, anchor: str | None) -> None:
        self.node = node
        self.anchor = anchor
        self.size = 1
        self.pending_key: str | None = None  # mappings: key waiting for its value
        self.pending_key_span: Span | None = None
        self.pending_merge = False  # the pending key is a plain `<<` (a YAML merge key)
        self.merges: list[tuple[Node, Span]] = []  # `<<` merge sources
        self.explicit: set[str] = set()


def _span(file: str, start: Any, end: Any) -> Span:
    return Span(file, start.line + 1, start.column + 1, end.line + 1, end.column + 1)


def decode_text(data: bytes, file: str, diags: DiagnosticBag) -> str | None:
    """UTF-8 (with or without BOM) to str; other encodings are an error with the byte position."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        diags.add(C.AIB108, "file is UTF-16; save it as UTF-8", Span(file, 1, 1),
                  hint="most editors offer 'Save with encoding: UTF-8'")
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        col = exc.start - (before.rfind(b"\n") + 1) + 1
        diags.add(C.AIB108, f"invalid UTF-8 byte 0x{data[exc.start]:02x}", Span(file, line, col),
                  hint="save the file as UTF-8")
        return None


def load_yaml(text: str, file: str, diags: DiagnosticBag, budget: Budget = DEFAULT_BUDGET) -> Node | None:
    """Parse one YAML document into nodes. Returns None (with diagnostics) when it cannot."""
    if len(text) > budget.max_bytes:
        diags.add(C.AIB103, f"file is {len(text)} characters; the limit is {budget.max_bytes}",
                  Span(file, 1, 1))
        return None
    if "\t" in text or "\r" in text:
        text = text.replace("\r\n", "\n")
    try:
        return _build(text, file, diags, budget)
    except _Stop:
        return None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        span = Span(file, mark.line + 1, mark.column + 1) if mark else Span(file, 1, 1)
        msg = exc.problem or "invalid YAML"
        if exc.context and exc.problem:
            msg = f"{exc.problem} ({exc.context})"
        at = _char_at(text, mark) if mark else ""
        hint = "YAML indentation must use spaces, not tabs" if at == "\t" else _syntax_hint(msg)
        diags.add(C.AIB101, msg, span, hint=hint)
        return None
    except yaml.YAMLError as exc:  # reader errors (control characters) have no problem_mark
        diags.add(C.AIB101, str(exc).splitlines()[0] if str(exc) else "invalid YAML", Span(file, 1, 1))
        return None


def _content_indent(text: str, index: int) -> int:
    """The indentation of the first content line of a block scalar whose `|` is at ``index``."""
    pos = text.find("\n", index) + 1
    if pos == 0:
        return 0
    end = text.find("\n", pos)
    row = text[pos:] if end < 0 else text[pos:end]
    return len(row) - len(row.lstrip(" "))


def _char_at(text: str, mark: Any) -> str:
    idx = getattr(mark, "index", None)
    if isinstance(idx, int) and 0 <= idx < len(text):
        return text[idx]
    return ""


def _syntax_hint(msg: str) -> str | None:
    if "tab" in msg:
        return "YAML indentation must use spaces, not tabs"
    if "mapping values are not allowed" in msg:
        return "a value containing ': ' must be quoted"
    if "found character '@'" in msg or "found character '`'" in msg:
        return "values starting with @ or ` must be quoted"
    return None


def _build(text: str, file: str, diags: DiagnosticBag, budget: Budget) -> Node | None:
    constructor = yaml.constructor.SafeConstructor()
    anchors: dict[str, tuple[Node, int]] = {}
    open_anchors: set[str] = set()
    stack: list[_Frame] = []
    root: Node | None = None
    documents = 0
    total_nodes = 0
    aliases = 0

    def fail(code: str, msg: str, span: Span, hint: str | None = None) -> NoReturn:
        diags.add(code, msg, span, hint=hint)
        raise _Stop

    def attach(node: Node, size: int, key_event_span: Span) -> None:
        """Attach a finished node to its parent frame (or make it the root)."""
        nonlocal root
        if not stack:
            root = node
            return
        parent = stack[-1]
        parent.size += size
        pnode = parent.node
        if isinstance(pnode, Sequence):
            pnode.items.append(node)
            return
        assert isinstance(pnode, Mapping)
        if parent.pending_key is None:
            # this node is a key
            if not isinstance(node, Scalar):
                fail(C.AIB106, "a mapping key must be a plain string, not " +
                     ("a mapping" if isinstance(node, Mapping) else "a list"), node.span)
            key = node.raw if node.plain else str(node.value)
            parent.pending_merge = node.plain and key == "<<"
            parent.pending_key = key
            parent.pending_key_span = node.span
            return
        key, key_span = parent.pending_key, parent.pending_key_span
        parent.pending_key = parent.pending_key_span = None
        assert key_span is not None
        if parent.pending_merge:
            parent.pending_merge = False
            parent.merges.append((node, key_span))
            return
        if key in parent.explicit:
            first = pnode.key_spans[key]
            fail(C.AIB102, f"duplicate key '{key}' (first defined at line {first.line})", key_span)
        parent.explicit.add(key)
        pnode.items[key] = node
        pnode.key_spans[key] = key_span

    parser = _Parser(text)
    try:
        while True:
            event = parser.get_event()
            if event is None:
                break
            kind = type(event)
            if kind is ScalarEvent:
                sm, em = event.start_mark, event.end_mark
                span = Span(file, sm.line + 1, sm.column + 1, em.line + 1, em.column + 1)
                total_nodes += 1
                if total_nodes > budget.max_nodes:
                    fail(C.AIB103, f"more than {budget.max_nodes} values", span)
                scalar = _scalar(event, span, constructor, fail)
                if event.style == "|":
                    scalar.block_indent = _content_indent(text, sm.index)
                if event.anchor:
                    anchors[event.anchor] = (scalar, 1)
                attach(scalar, 1, span)
                continue
            if kind is yaml.StreamStartEvent or kind is yaml.StreamEndEvent:
                continue
            if kind is yaml.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    fail(C.AIB105, "a second YAML document starts here; a file holds one document",
                         _span(file, event.start_mark, event.end_mark),
                         hint="remove the '---' line or split the file")
                continue
            if kind is yaml.DocumentEndEvent:
                continue
            span = _span(file, event.start_mark, event.end_mark)
            if kind is yaml.AliasEvent:
                aliases += 1
                if aliases > budget.max_aliases:
                    fail(C.AIB103, f"more than {budget.max_aliases} aliases", span)
                name = event.anchor
                if name in open_anchors:
                    fail(C.AIB103, f"alias *{name} refers to a node that contains it (recursive alias)", span)
                if name not in anchors:
                    fail(C.AIB101, f"undefined alias *{name}", span, hint=f"define it first with &{name}")
                target, size = anchors[name]
                total_nodes += size
                if total_nodes > budget.max_nodes:
                    fail(C.AIB103, f"aliases expand to more than {budget.max_nodes} values", span)
                # Shared, not copied: nodes are never mutated after loading (docs/how-it-works.md),
                # and the budget above bounds the total work of every later walk.
                attach(target, size, span)
                continue
            if kind is yaml.SequenceStartEvent or kind is yaml.MappingStartEvent:
                total_nodes += 1
                if total_nodes > budget.max_nodes:
                    fail(C.AIB103, f"more than {budget.max_nodes} values", span)
                if len(stack) >= budget.max_depth:
                    fail(C.AIB103, f"nesting deeper than {budget.max_depth} levels", span)
                tag = event.tag
                if tag not in (None, "!") and tag not in _ALLOWED_TAGS:
                    fail(C.AIB107, f"tag {tag} is not supported", span)
                node = Sequence(span) if kind is yaml.SequenceStartEvent else Mapping(span)
                if event.anchor:
                    open_anchors.add(event.anchor)
                stack.append(_Frame(node, event.anchor))
                continue
            if kind is yaml.SequenceEndEvent or kind is yaml.MappingEndEvent:
                frame = stack.pop()
                node = frame.node
                end = _span(file, event.start_mark, event.end_mark)
                node.span = Span(file, node.span.line, node.span.col, end.end_line, end.end_col)
                if isinstance(node, Mapping) and frame.merges:
                    _apply_merges(node, frame, fail)
                if frame.anchor:
                    open_anchors.discard(frame.anchor)
                    anchors[frame.anchor] = (node, frame.size)
                attach(node, frame.size, node.span)
                continue
    finally:
        dispose = getattr(parser, "dispose", None)
        if dispose:
            dispose()
    if root is None:
        diags.add(C.AIB105, "the file is empty", Span(file, 1, 1),
                  hint="start with `name:`, `source:` and `customize:`; see docs/dialect.md")
        return None
    return root


_IMPLICIT = yaml.resolver.Resolver.yaml_implicit_resolvers
_STR_TAG = _STD + "str"


def _scalar(event: Any, span: Span, constructor: Any, fail: Any) -> Scalar:
    value_text: str = event.value
    tag = event.tag
    if not event.style and event.implicit[0]:  # plain: YAML 1.1 implicit resolution, as PyYAML does
        if tag in (None, "!"):
            tag = _STR_TAG
            for candidate, regexp in _IMPLICIT.get(value_text[:1], ()):
                if regexp.match(value_text):
                    tag = candidate
                    break
        plain = True
    else:
        plain = False
        if tag in (None, "!"):
            return Scalar(span, value_text, value_text, False)
    if tag not in _ALLOWED_TAGS:
        if tag == _STD + "merge":
            return Scalar(span, "<<", "<<", True)
        fail(C.AIB107, f"tag {tag} is not supported", span)
    if tag == _STR_TAG:
        return Scalar(span, value_text, value_text, plain)
    try:
        value = constructor.yaml_constructors[tag](constructor, yaml.ScalarNode(tag, value_text))
    except (yaml.YAMLError, ValueError, KeyError, OverflowError):
        fail(C.AIB101, f"cannot read {value_text!r} as {tag.rsplit(':', 1)[-1]}", span)
    return Scalar(span, value, value_text, plain)


def _apply_merges(node: Mapping, frame: _Frame, fail: Any) -> None:
    """YAML merge keys: explicit keys win; earlier merge sources win over later ones."""
    sources: list[Mapping] = []
    for src, key_span in frame.merges:
        if isinstance(src, Mapping):
            sources.append(src)
        elif isinstance(src, Sequence) and all(isinstance(s, Mapping) for s in src.items):
            sources.extend(src.items)  # type: ignore[arg-type]
        else:
            fail(C.AIB101, "'<<' merges a mapping or a list of mappings", key_span)
    for src in sources:
        for k, v in src.items.items():
            if k not in node.items:
                node.items[k] = v
                node.key_spans[k] = src.key_spans[k]
