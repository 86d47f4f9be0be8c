"""The one YAML writer: every ``*.aib.yaml`` text aibtui writes goes through it.

``aibtui import`` (``compiler/importer.py``), ``aibtui init`` and the TUI's onboarding
(``aibtui/onboarding/yamltext.py``) call :func:`dump`; the TUI editor renders each value it adds to
a user's file with :func:`dump` too and grafts the result into the round-trip document
(``aibtui/yamledit.py``), so a template looks the same whoever wrote it: the same quoting, the same
flow lists and small flow mappings, the same literal blocks for scripts, the same indentation
(mappings by 2, list dashes at 2).

It writes plain data (mappings, lists, scalars) plus a few markers for the choices that data alone
cannot carry (:class:`Block`, :class:`Lines`, :class:`Flow`, :class:`FlowMap`, :class:`Commented`
for an end-of-line comment, :class:`Described` for comment lines above a key or item), and quotes
every string YAML 1.1 would read as something else (``no``, ``1.10``, ``2024-01-01``, ``~``,
``*x``, ``@x``, ``%x``, ``!x``...). Plain style is used only when the string reads back as the same
string; a multi-line string becomes a literal block when that reads back exactly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

WIDTH = 150  # a line with a flow list or mapping longer than this is written in block style
LIST_WIDTH = 80  # a list item that is a small mapping of scalars is written {a: 1, b: 2} within this
WRAP = 110  # a long flow mapping (the SET ME variables) wraps here


@dataclass(frozen=True, slots=True)
class Block:
    """Script lines, written as a literal block (``|``)."""

    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Lines:
    """Script lines that cannot be a literal block, written as a list."""

    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Flow:
    """A short list of scalars, written ``[a, b]``."""

    items: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class FlowMap:
    """A mapping of scalars written ``{a: 1, b: ~}``, wrapped over several lines when long."""

    items: tuple[tuple[str, Any], ...]


@dataclass(frozen=True, slots=True)
class Commented:
    """A value with a comment at the end of its line."""

    value: Any
    comment: str


@dataclass(frozen=True, slots=True)
class Described:
    """A value with comment lines above its key (or list item), after an optional blank line."""

    value: Any
    comments: tuple[str, ...]
    blank: bool = False


# YAML printable characters, minus the ones YAML 1.1 reads as line breaks (NEL, LS, PS) and the BOM.
_PRINTABLE = re.compile("[\t\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]*")
_INDICATORS = set("-?:,[]{}#&*!|>'\"%@`")
_FLOW_UNSAFE = set(",[]{}#")
_FLOW_COLON = re.compile(r":(?:$|[\s,\[\]{}])")  # `a:b` and `https://x` stay plain in flow, `a: b` does not


def _resolves_to_str(text: str) -> bool:
    from yaml import ScalarNode
    from yaml.resolver import Resolver

    tag = Resolver().resolve(ScalarNode, text, (True, False))
    return bool(tag == "tag:yaml.org,2002:str")


def plain_ok(text: str, *, flow: bool = False) -> bool:
    """True when ``text`` can be written unquoted and reads back as this very string."""
    if not text or text != text.strip() or not _PRINTABLE.fullmatch(text) or "\t" in text:
        return False
    if text[0] in _INDICATORS and not (text[0] in "-?:" and len(text) > 1 and text[1] not in " \t"):
        return False
    if text[0] in "-?:" and flow:
        return False
    if ": " in text or " #" in text or text.endswith(":"):
        return False
    if flow and (any(c in _FLOW_UNSAFE for c in text) or _FLOW_COLON.search(text)):
        return False
    if text.startswith(("---", "...")):
        return False
    return _resolves_to_str(text)


def quote(text: str) -> str:
    """Single quotes when they suffice (printable, one line), double quotes with escapes otherwise."""
    if _PRINTABLE.fullmatch(text) and "\t" not in text:
        return "'" + text.replace("'", "''") + "'"
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif _PRINTABLE.fullmatch(ch):
            out.append(ch)
        elif code <= 0xFF:
            out.append(f"\\x{code:02x}")
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def scalar(value: Any, *, flow: bool = False) -> str | None:
    """The YAML text of a scalar (or of an empty or flow collection); None for block collections."""
    if value is None:
        return "~"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if value == value and value not in (float("inf"), float("-inf")) else None
    if isinstance(value, str):
        return value if plain_ok(value, flow=flow) else quote(value)
    if isinstance(value, Flow):
        return "[" + ", ".join(scalar(v, flow=True) or "~" for v in value.items) + "]"
    if isinstance(value, dict) and not value:
        return "{}"
    if isinstance(value, (list, Lines)) and not (value.lines if isinstance(value, Lines) else value):
        return "[]"
    return None


def block_ok(lines: list[str]) -> bool:
    """Whether script lines survive a literal block and the lowering's line split unchanged."""
    if not lines or not lines[-1].strip():
        return False
    if lines[0][:1] in (" ", "\t"):
        return False
    for line in lines:
        if "\n" in line or "\r" in line or not _PRINTABLE.fullmatch(line):
            return False
        if line != line.rstrip(" \t"):
            return False
    return True


def dump(doc: dict[str, Any], header: list[str] | None = None) -> str:
    """The YAML text of ``doc`` (a mapping), after ``header`` written as comment lines."""
    lines = [f"# {h}" if h else "#" for h in header or []]
    _mapping(doc, 0, lines)
    return "\n".join(lines) + "\n"


def _described(value: Any, pad: str, out: list[str]) -> Any:
    """Write a :class:`Described` value's blank line and comment lines; returns the value itself."""
    while isinstance(value, Described):
        if value.blank and out and out[-1]:
            out.append("")
        out.extend(f"{pad}# {c}" if c else f"{pad}#" for c in value.comments)
        value = value.value
    return value


def text_block(text: str) -> tuple[str, tuple[str, ...]] | None:
    """A multi-line string as a literal block: (indicator ``|`` or ``|-``, lines), or None.

    None when a literal block would not read back as exactly ``text`` (leading indentation on the
    first line, trailing spaces, several trailing newlines, characters a block cannot hold).
    """
    if "\n" not in text.rstrip("\n"):
        return None
    keep = "|" if text.endswith("\n") else "|-"
    body = text[:-1] if text.endswith("\n") else text
    lines = body.split("\n")
    return (keep, tuple(lines)) if block_ok(lines) else None


def _key(key: str) -> str:
    return key if plain_ok(key) else quote(key)


def _suffix(comment: str | None) -> str:
    return f"  # {comment}" if comment else ""


def _mapping(d: dict[str, Any], indent: int, out: list[str]) -> None:
    pad = " " * indent
    for key, value in d.items():
        value = _described(value, pad, out)
        comment = None
        if isinstance(value, Commented):
            value, comment = value.value, value.comment
        head = f"{pad}{_key(key)}:"
        _value(head, value, comment, indent, out)


def _value(head: str, value: Any, comment: str | None, indent: int, out: list[str]) -> None:
    if isinstance(value, Flow):
        text = scalar(value)
        if text is not None and len(head) + len(text) < WIDTH:
            out.append(f"{head} {text}{_suffix(comment)}")
            return
        value = list(value.items)
    if isinstance(value, str) and (block := text_block(value)) is not None:
        _literal(head, *block, comment, indent, out)
        return
    text = scalar(value)
    if text is None and isinstance(value, dict):
        text = _flow_mapping(value, WIDTH - len(head) - 1)
    if text is None and isinstance(value, list):
        text = _flow_list(value, WIDTH - len(head) - 1)
    if text is not None:
        out.append(f"{head} {text}{_suffix(comment)}")
    elif isinstance(value, FlowMap):
        _wrapped(head, value, comment, out)
    elif isinstance(value, Block):
        _literal(head, "|", value.lines, comment, indent, out)
    elif isinstance(value, dict):
        out.append(head + _suffix(comment))
        _mapping(value, indent + 2, out)
    elif isinstance(value, (list, Lines)):
        out.append(head + _suffix(comment))
        _list(list(value.lines) if isinstance(value, Lines) else value, indent + 2, out)
    else:
        raise ValueError(f"cannot write a {type(value).__name__} as YAML")


def _literal(head: str, keep: str, lines: tuple[str, ...], comment: str | None, indent: int,
             out: list[str]) -> None:
    """A literal block: ``head |`` (or ``|-``), then the lines indented under it."""
    out.append(f"{head} {keep}{_suffix(comment)}")
    pad = " " * (indent + 2)
    out.extend(f"{pad}{line}" if line else "" for line in lines)


def _wrapped(head: str, value: FlowMap, comment: str | None, out: list[str]) -> None:
    parts = [f"{_key(k) if plain_ok(k, flow=True) else quote(k)}: {scalar(v, flow=True)}" for k, v in value.items]
    pad = " " * (len(head) + 2)
    line = f"{head} {{"
    for i, part in enumerate(parts):
        piece = part + ("," if i < len(parts) - 1 else "}")
        if len(line) + len(piece) + 1 > WRAP and not line.endswith("{"):
            out.append(line.rstrip())
            line = pad + piece
        else:
            line += ("" if line.endswith("{") else " ") + piece
    out.append(line + _suffix(comment))


def _multiline(value: Any) -> bool:
    return isinstance(value, str) and "\n" in value


def _flow_list(items: list[Any], room: int) -> str | None:
    """``[a, b]`` for a short list of scalars that fits in ``room`` characters."""
    if any(isinstance(v, (Commented, Described, Block, Flow, dict, list, Lines)) or _multiline(v) for v in items):
        return None
    text = scalar(Flow(tuple(items)))
    return text if text is not None and len(text) <= room else None


def _flow_mapping(d: dict[str, Any], room: int, *, strict: bool = False) -> str | None:
    """``{a: 1, b: x}`` for a small mapping of scalars (and short lists) that fits in ``room`` characters."""
    if len(d) > 4:
        return None
    parts = []
    for key, value in d.items():
        if isinstance(value, list) and value:
            text = _flow_list(value, room)
        elif isinstance(value, Flow):
            text = scalar(value)
        elif isinstance(value, (Commented, Described, Block, dict, Lines)) or _multiline(value):
            return None
        else:
            text = scalar(value, flow=True)
        if text is None:
            return None
        parts.append(f"{key if plain_ok(key, flow=True) else quote(key)}: {text}")
    out = "{" + ", ".join(parts) + "}"
    # one or two values read well on one line, however long a URI makes it
    return out if (len(d) <= 2 and not strict) or len(out) <= room else None


def _list(items: list[Any], indent: int, out: list[str]) -> None:
    pad = " " * indent
    for item in items:
        item = _described(item, pad, out)
        comment = None
        if isinstance(item, Commented):
            item, comment = item.value, item.comment
        flow = _flow_mapping(item, LIST_WIDTH - indent - 2, strict=True) if isinstance(item, dict) \
            and 1 < len(item) <= 3 \
            and comment is None else None
        if flow is not None:
            out.append(f"{pad}- {flow}")
        elif isinstance(item, dict) and item:
            sub: list[str] = []
            _mapping(item, indent + 2, sub)
            first = next(i for i, line in enumerate(sub) if line and not line.lstrip().startswith("#"))
            sub[first] = f"{pad}- {sub[first][indent + 2:]}"
            out.extend(sub)
        elif isinstance(item, (list, Lines)) and scalar(item) is None:
            out.append(f"{pad}-{_suffix(comment)}")
            _list(list(item.lines) if isinstance(item, Lines) else item, indent + 2, out)
        else:
            _value(f"{pad}-", item, comment, indent, out)
