"""A hand-written JSON reader that keeps exact positions, for existing templates and ARM templates.

Why not ``json.loads``: we need file:line:col (and the end) on every value, the leniency ARM tooling
has (``//`` and ``/* */`` comments, trailing commas, a UTF-8 BOM, CRLF), duplicate keys reported
instead of silently dropped, and error messages that say what was expected and why the input is
wrong (an unquoted ``<region>`` placeholder, single quotes, Python's ``True``, a Windows path with
single backslashes). And hostile input must be refused in bounded time and memory.

The parser is one loop over tokens with an explicit stack (no recursion, so 100,000 nested ``[``
are refused at the depth budget, never with a RecursionError). Tokens are found with compiled
regular expressions; positions are character offsets, turned into 1-based line:col by a binary
search over the line starts, so columns count characters (not bytes) and CRLF counts as one break.
It stops at the first syntax error: after a broken bracket everything else would only be noise.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from typing import Any

from . import code_ids as C
from .diagnostics import DiagnosticBag, Span
from .nodes import Mapping, Node, Scalar, Sequence
from .records import dataclass


@dataclass(frozen=True, slots=True)
class JsonBudget:
    """Limits that keep hostile input bounded; far above any real image template or ARM template."""

    max_chars: int = 4 * 1024 * 1024
    max_depth: int = 200
    max_values: int = 200_000  # a 50 KB ARM template holds about 2,000
    max_duplicate_reports: int = 20
    max_number_chars: int = 400  # int() of a huge literal is quadratic; no template needs this


DEFAULT_JSON_BUDGET = JsonBudget()

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_WS = re.compile(r"[ \t\n\r]*")
_BLOCK_COMMENT_END = re.compile(r"\*/")
_STR_CHUNK = re.compile(r'[^"\\\x00-\x1f]*')
_STR_SIMPLE = re.compile(r'"([^"\\\x00-\x1f]*)"')  # no escapes: the common case, one regex match
_TOKEN = re.compile(
    r'[ \t\n\r]*(?:("[^"\\\x00-\x1f]*")'  # 1: a string without escapes
    r"|([{}\[\],:])"  # 2: punctuation
    r"|(-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)(?![-+.0-9A-Za-z_$])"  # 3: a number
    r"|(true|false|null)(?![A-Za-z0-9_$])"  # 4: a literal
    r"|)"  # none of those: the slow path
)
_K_STRING, _K_NUMBER, _K_LITERAL = 1, 3, 4  # group 2 (punctuation) needs no name
_LITERALS: dict[str, Any] = {"true": True, "false": False, "null": None}
_NUMBERISH = re.compile(r"[-+.0-9A-Za-z_]+")
_WORD = re.compile(r"[A-Za-z_$][A-Za-z0-9_$\-.]*")
_PLACEHOLDER = re.compile(r"<[^<>\"\n\r]{0,80}>")
_SQUOTED = re.compile(r"'[^'\n\r]{0,200}'")
_HEX4 = re.compile(r"[0-9A-Fa-f]{4}")
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_CLOSER = {"{": "}", "[": "]"}
_ODD_SPACE = {
    "\u00a0": "a non-breaking space (U+00A0)",
    "\u2028": "a line separator (U+2028)",
    "\u2029": "a paragraph separator (U+2029)",
    "\u200b": "a zero-width space (U+200B)",
    "\ufeff": "a byte-order mark (U+FEFF)",
    "\u3000": "an ideographic space (U+3000)",
}
_SMART_QUOTES = "\u201c\u201d\u2018\u2019"

# parser states
_VALUE, _VALUE_OR_CLOSE, _KEY_OR_CLOSE, _COLON, _AFTER_VALUE = range(5)


class _SyntaxFail(Exception):
    def __init__(self, pos: int, message: str, hint: str | None = None, code: str = C.AIB700,
                 end: int | None = None) -> None:
        super().__init__(message)
        self.pos = pos
        self.message = message
        self.hint = hint
        self.code = code
        self.end = end


class _Frame:
    __slots__ = ("node", "start", "key", "key_span", "opener", "firsts")

    def __init__(self, node: Mapping | Sequence, start: int, opener: str) -> None:
        self.node = node
        self.start = start
        self.opener = opener
        self.key: str | None = None
        self.key_span: Span | None = None
        self.firsts: dict[str, Span] = {}  # objects: where each key was first seen (duplicates)


class _Positions:
    """Character offset -> 1-based (line, col), by binary search over the line starts."""

    __slots__ = ("file", "starts")

    def __init__(self, text: str, file: str) -> None:
        self.file = file
        self.starts = [0]
        self.starts.extend(m.end() for m in _LINE_BREAK.finditer(text))

    def line_col(self, pos: int) -> tuple[int, int]:
        i = bisect_right(self.starts, pos) - 1
        return i + 1, pos - self.starts[i] + 1

    def span(self, start: int, end: int) -> Span:
        starts = self.starts
        i = bisect_right(starts, start) - 1
        first = starts[i]
        if i + 1 == len(starts) or end < starts[i + 1]:  # the usual case: start and end on one line
            return Span(self.file, i + 1, start - first + 1, i + 1, end - first + 1)
        end_line, end_col = self.line_col(end)
        return Span(self.file, i + 1, start - first + 1, end_line, end_col)

    def where(self, pos: int) -> str:
        line, col = self.line_col(pos)
        return f"line {line}:{col}"


def load_json(text: str, file: str, diags: DiagnosticBag,
              budget: JsonBudget = DEFAULT_JSON_BUDGET) -> Node | None:
    """Parse one JSON value into source-tracked nodes. Returns None (with diagnostics) when it cannot.

    Strings become ``Scalar(plain=False)``; numbers, ``true``, ``false`` and ``null`` become
    ``Scalar(plain=True)`` whose ``raw`` is the literal as written.
    """
    if text.startswith("\ufeff"):
        text = text[1:]  # positions are what an editor shows: the BOM is not a column
    if len(text) > budget.max_chars:
        diags.add(C.AIB702, f"file is {len(text)} characters; the limit is {budget.max_chars}",
                  Span(file, 1, 1))
        return None
    pos_map = _Positions(text, file)
    try:
        return _parse(text, pos_map, diags, budget)
    except _SyntaxFail as fail:
        end = fail.end if fail.end is not None else min(fail.pos + 1, len(text))
        if end <= fail.pos:
            end = fail.pos
        diags.add(fail.code, fail.message, pos_map.span(fail.pos, end), hint=fail.hint)
        return None


def _skip(text: str, pos: int) -> int:
    """Skip whitespace and comments; returns the offset of the next token (or len(text))."""
    n = len(text)
    while True:
        pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
        if pos < n and text[pos] == "/":
            nxt = text[pos + 1: pos + 2]
            if nxt == "/":
                m = _LINE_BREAK.search(text, pos)
                pos = m.start() if m else n
                continue
            if nxt == "*":
                m = _BLOCK_COMMENT_END.search(text, pos + 2)
                if m is None:
                    raise _SyntaxFail(pos, "unterminated comment: '/*' is never closed",
                                      "close the comment with */", end=pos + 2)
                pos = m.end()
                continue
        return pos


def _parse(text: str, pm: _Positions, diags: DiagnosticBag, budget: JsonBudget) -> Node | None:
    n = len(text)
    stack: list[_Frame] = []
    root: Node | None = None
    values = 0
    state = _VALUE
    pos = 0
    last_end = 0  # end offset of the last complete value (where a missing comma belongs)
    token = _TOKEN.match
    span = pm.span
    dups = _Duplicates(diags, budget.max_duplicate_reports)

    while True:
        # One regex match skips whitespace and reads the common tokens; comments, strings with
        # escapes, the end of the input and every error take the slow path below.
        m = token(text, pos)
        kind = m.lastindex  # type: ignore[union-attr]
        if kind is None:
            after_ws = m.end()  # type: ignore[union-attr]
            pos = _skip(text, after_ws)
            if pos != after_ws:
                continue  # comments skipped: read the next token the fast way again
            c = tok = text[pos] if pos < n else ""
        else:
            pos = m.start(kind)  # type: ignore[union-attr]
            tok = m.group(kind)  # type: ignore[union-attr]
            c = text[pos]

        if state == _KEY_OR_CLOSE:
            frame = stack[-1]
            if c == "}":
                pos += 1
                node, last_end = _close(stack, pos, pm), pos
                root = _attach(stack, node, root, dups)
                state = _AFTER_VALUE
                if not stack:
                    break
                continue
            if c == '"':
                if kind == _K_STRING:
                    key, end = tok[1:-1], m.end()  # type: ignore[union-attr]
                else:
                    key, end = _scan_string(text, pos)
                frame.key, frame.key_span = key, span(pos, end)
                pos = end
                state = _COLON
                continue
            raise _unexpected(text, pos, pm, stack, "a property name in double quotes or '}'", key=True)

        if state == _COLON:
            if c == ":":
                pos += 1
                state = _VALUE
                continue
            frame = stack[-1]
            hint = "write ':' between a property name and its value"
            if c == "=":
                hint = "JSON uses ':' between a property name and its value, not '='"
            raise _unexpected(text, pos, pm, stack, f"':' after the property name \"{frame.key}\"",
                              hint=hint)

        if state == _AFTER_VALUE:
            frame = stack[-1]
            closer = _CLOSER[frame.opener]
            if c == ",":
                pos += 1
                state = _KEY_OR_CLOSE if frame.opener == "{" else _VALUE_OR_CLOSE
                continue
            if c == closer:
                pos += 1
                node, last_end = _close(stack, pos, pm), pos
                root = _attach(stack, node, root, dups)
                if not stack:
                    break
                continue
            if c in "}]" and c:
                raise _SyntaxFail(pos, f"'{c}' does not match the '{frame.opener}' opened at "
                                  f"{pm.where(frame.start)}",
                                  f"close it with '{closer}', or look for a missing or extra bracket")
            if c == "":
                raise _eof(pos, pm, stack)
            what = "the property value" if frame.opener == "{" else "the list item"
            if _starts_value(c):
                line, _ = pm.line_col(last_end)
                raise _SyntaxFail(last_end, f"missing ',' after {what} (the next value starts at "
                                  f"{pm.where(pos)})", f"add a comma at the end of line {line}",
                                  end=last_end)
            raise _unexpected(text, pos, pm, stack, f"',' or '{closer}' after {what}")

        # _VALUE or _VALUE_OR_CLOSE
        if state == _VALUE_OR_CLOSE and c == "]":
            pos += 1
            node, last_end = _close(stack, pos, pm), pos
            root = _attach(stack, node, root, dups)
            state = _AFTER_VALUE
            if not stack:
                break
            continue
        values += 1
        if values > budget.max_values:
            raise _SyntaxFail(pos, f"more than {budget.max_values} values", code=C.AIB702)
        if c == "{" or c == "[":
            if len(stack) >= budget.max_depth:
                raise _SyntaxFail(pos, f"nesting deeper than {budget.max_depth} levels", code=C.AIB702)
            opened = span(pos, pos + 1)  # replaced by the full span when the bracket closes
            container: Mapping | Sequence = Mapping(opened) if c == "{" else Sequence(opened)
            stack.append(_Frame(container, pos, c))
            pos += 1
            state = _KEY_OR_CLOSE if c == "{" else _VALUE_OR_CLOSE
            continue
        if kind == _K_STRING:
            end = m.end()  # type: ignore[union-attr]
            value = tok[1:-1]
            node = Scalar(span(pos, end), value, raw=value, plain=False)
        elif kind == _K_NUMBER:
            end = m.end()  # type: ignore[union-attr]
            node = _number(tok, pos, end, pm, budget)
        elif kind == _K_LITERAL:
            end = m.end()  # type: ignore[union-attr]
            node = Scalar(span(pos, end), _LITERALS[tok], raw=tok, plain=True)
        elif c == '"':
            value, end = _scan_string(text, pos)
            node = Scalar(span(pos, end), value, raw=value, plain=False)
        elif c == "-" or "0" <= c <= "9":
            w = _NUMBERISH.match(text, pos)
            raise _bad_number(pos, w.group() if w else c)
        elif c == "":
            if not stack and root is None:
                raise _SyntaxFail(pos, "the file holds no JSON value",
                                  "an image template starts with '{'")
            raise _eof(pos, pm, stack)
        else:
            raise _unexpected(text, pos, pm, stack, "a value")
        pos = last_end = end
        root = _attach(stack, node, root, dups)
        state = _AFTER_VALUE
        if not stack:
            break

    pos = _skip(text, pos)
    if pos < n:
        c = text[pos]
        if c in "}]":
            raise _SyntaxFail(pos, f"'{c}' after the end of the JSON document closes nothing",
                              "an extra closing bracket? remove it")
        raise _SyntaxFail(pos, f"a second value starts here, after the JSON document ended at "
                          f"{pm.where(last_end)}",
                          "a file holds one JSON value; remove the rest, or wrap the values in a list")
    dups.finish()
    return root


def _number(raw: str, pos: int, end: int, pm: _Positions, budget: JsonBudget) -> Scalar:
    if len(raw) > budget.max_number_chars:
        raise _SyntaxFail(pos, f"number literal of {len(raw)} characters; the limit is "
                          f"{budget.max_number_chars}", code=C.AIB702, end=end)
    if "." in raw or "e" in raw or "E" in raw:
        value: Any = float(raw)
        if value in (float("inf"), float("-inf")):
            raise _SyntaxFail(pos, f"number {raw} is too large", "write it as a string", end=end)
    else:
        value = int(raw)
    return Scalar(pm.span(pos, end), value, raw=raw, plain=True)


def _close(stack: list[_Frame], end: int, pm: _Positions) -> Node:
    frame = stack.pop()
    node = frame.node
    node.span = pm.span(frame.start, end)
    return node


def _attach(stack: list[_Frame], node: Node, root: Node | None, dups: _Duplicates) -> Node | None:
    if not stack:
        return node
    frame = stack[-1]
    parent = frame.node
    if isinstance(parent, Sequence):
        parent.items.append(node)
        return root
    key, key_span = frame.key, frame.key_span
    assert key is not None and key_span is not None
    first = frame.firsts.get(key)
    if first is not None:
        dups.report(key, key_span, first)
        del parent.items[key]  # the last one wins, in its own position (what ARM reads)
    else:
        frame.firsts[key] = key_span
    parent.items[key] = node
    parent.key_spans[key] = key_span
    frame.key = frame.key_span = None
    return root


class _Duplicates:
    """Reports duplicate keys: each one up to a limit, then a count (a hostile file has 500,000)."""

    __slots__ = ("diags", "count", "limit", "last")

    def __init__(self, diags: DiagnosticBag, limit: int) -> None:
        self.diags = diags
        self.count = 0
        self.limit = limit
        self.last: Span | None = None

    def report(self, key: str, span: Span, first: Span) -> None:
        self.count += 1
        self.last = span
        if self.count <= self.limit:
            self.diags.add(C.AIB701, f"duplicate key \"{key}\" (first at line {first.line}:{first.col}); "
                           "ARM keeps the last one, so the earlier value is ignored", span)

    def finish(self) -> None:
        if self.count > self.limit:
            self.diags.add(C.AIB701, f"{self.count - self.limit} more duplicate keys after the first "
                           f"{self.limit} (the last at line {self.last.line if self.last else 0})", self.last)


def _word_continues(text: str, pos: int) -> bool:
    return pos < len(text) and (text[pos].isalnum() or text[pos] in "_$")


def _starts_value(c: str) -> bool:
    return c in '"{[-' or c.isdigit() or c in "tfn"


def _eof(pos: int, pm: _Positions, stack: list[_Frame]) -> _SyntaxFail:
    frame = stack[-1]
    closer = _CLOSER[frame.opener]
    return _SyntaxFail(pos, f"unexpected end of file: the '{frame.opener}' opened at {pm.where(frame.start)} "
                       f"is never closed", f"add the missing '{closer}'")


def _scan_string(text: str, start: int) -> tuple[str, int]:
    """The string starting with the '"' at ``start``: (value, offset after the closing quote)."""
    simple = _STR_SIMPLE.match(text, start)
    if simple is not None:
        return simple.group(1), simple.end()
    chunks: list[str] = []
    pos = start + 1
    n = len(text)
    while True:
        m = _STR_CHUNK.match(text, pos)
        assert m is not None
        end = m.end()
        if end > pos:
            chunks.append(m.group())
        pos = end
        if pos >= n:
            raise _SyntaxFail(start, "unterminated string: the closing '\"' is missing",
                              "close the string with '\"'")
        c = text[pos]
        if c == '"':
            return "".join(chunks), pos + 1
        if c == "\\":
            e = text[pos + 1: pos + 2]
            escaped = _ESCAPES.get(e)
            if escaped is not None:
                chunks.append(escaped)
                pos += 2
                continue
            if e == "u":
                code, pos = _scan_unicode(text, pos)
                chunks.append(code)
                continue
            if e in ("", "\n", "\r"):
                raise _SyntaxFail(start, "unterminated string: the closing '\"' is missing",
                                  "close the string with '\"'")
            shown = _show_char(e)
            raise _SyntaxFail(pos, f"invalid escape '\\{e}' in a string" if e.isprintable()
                              else f"invalid escape: a backslash before {shown}",
                              "in JSON a backslash starts an escape (\\n, \\t, \\\", \\\\, \\uXXXX); "
                              "write a literal backslash as \\\\ (a Windows path: \"C:\\\\temp\")",
                              end=pos + 2)
        # a control character
        if c in "\n\r":
            raise _SyntaxFail(start, "unterminated string: the line ends before the closing '\"'",
                              "close the string on the same line; write a line break inside a string as \\n",
                              end=pos)
        raise _SyntaxFail(pos, f"control character {_show_char(c)} in a string",
                          "write it as an escape: \\t for a tab, \\n for a line break, \\uXXXX otherwise")


def _scan_unicode(text: str, pos: int) -> tuple[str, int]:
    """``\\uXXXX`` at ``pos`` (and a following low surrogate): (the character, offset after)."""
    if not _HEX4.fullmatch(text, pos + 2, pos + 6):
        raise _SyntaxFail(pos, "invalid \\u escape: it needs exactly 4 hex digits (\\u00e9)",
                          "write a literal backslash as \\\\", end=min(pos + 6, len(text)))
    code = int(text[pos + 2: pos + 6], 16)
    end = pos + 6
    if 0xD800 <= code <= 0xDBFF and text.startswith("\\u", end) and _HEX4.fullmatch(text, end + 2, end + 6):
        low = int(text[end + 2: end + 6], 16)
        if 0xDC00 <= low <= 0xDFFF:
            return chr(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)), end + 6
    if 0xD800 <= code <= 0xDFFF:
        # Python would keep a lone surrogate, and printing it later fails: refuse it here.
        raise _SyntaxFail(pos, f"\\u{code:04x} is half of a UTF-16 surrogate pair, without its other half",
                          "write the character itself, or both halves (\\ud83d\\ude00)", end=end)
    return chr(code), end


def _bad_number(pos: int, word: str) -> _SyntaxFail:
    end = pos + len(word)
    low = word.lower()
    if low in ("-infinity", "-inf", "infinity", "+infinity"):
        return _SyntaxFail(pos, f"{word} is not a JSON number", "use null or a string", end=end)
    if low.startswith(("0x", "-0x")):
        return _SyntaxFail(pos, f"hexadecimal number {word}", "JSON numbers are decimal; write it in base 10",
                           end=end)
    if word.startswith("+"):
        return _SyntaxFail(pos, f"number {word} has a leading '+'", "remove the '+'", end=end)
    if word.startswith((".", "-.")):
        return _SyntaxFail(pos, f"number {word} has no digit before the '.'", "write 0.5, not .5", end=end)
    if re.fullmatch(r"-?0[0-9]+", word):
        return _SyntaxFail(pos, f"number {word} has a leading zero",
                           "remove the leading zero, or quote it if it is an identifier", end=end)
    if re.fullmatch(r"-?[0-9]+\.", word):
        return _SyntaxFail(pos, f"number {word} ends with '.'", f"write {word}0 or {word[:-1]}", end=end)
    if re.fullmatch(r"-?[0-9.]+[eE][-+]?", word):
        return _SyntaxFail(pos, f"number {word} has an empty exponent", "write digits after the 'e'", end=end)
    return _SyntaxFail(pos, f"unquoted text {word!r} is not a JSON value",
                       f"strings must be in double quotes: \"{word}\"", end=end)


def _show_char(c: str) -> str:
    names = {"\t": "tab", "\n": "line feed", "\r": "carriage return", "\x00": "NUL"}
    code = f"U+{ord(c):04X}"
    return f"{code} ({names[c]})" if c in names else code


def _unexpected(text: str, pos: int, pm: _Positions, stack: list[_Frame], expected: str, *,
                key: bool = False, hint: str | None = None) -> _SyntaxFail:
    """Say what was found where ``expected`` was wanted, and why it is probably there."""
    c = text[pos] if pos < len(text) else ""
    if c == "":
        return _eof(pos, pm, stack)
    m = _PLACEHOLDER.match(text, pos)
    if c == "<" and m:
        tok = m.group()
        return _SyntaxFail(pos, f"unquoted placeholder {tok}: expected {expected}",
                           f"an unfilled placeholder? quote it (\"{tok}\") or put the real value in",
                           end=m.end())
    if c == "'":
        m = _SQUOTED.match(text, pos)
        end = m.end() if m else pos + 1
        inner = m.group()[1:-1] if m else "..."
        return _SyntaxFail(pos, f"single-quoted string: expected {expected}",
                           f"JSON strings use double quotes: \"{inner}\"", end=end)
    if c in _SMART_QUOTES:
        return _SyntaxFail(pos, f"typographic quote {c!r}: expected {expected}",
                           "use a plain double quote \" (an editor or chat tool replaced it)")
    if c == "`":
        return _SyntaxFail(pos, f"backtick: expected {expected}", "JSON strings use double quotes")
    if c in _ODD_SPACE:
        return _SyntaxFail(pos, f"{_ODD_SPACE[c]}: expected {expected}",
                           "replace it with an ordinary space (it looks blank but is not JSON whitespace)")
    if c == "#":
        return _SyntaxFail(pos, f"'#' is not a comment in JSON: expected {expected}",
                           "write comments as // or /* */ (ARM tooling accepts those)")
    if c in "}]" and (not stack or _CLOSER[stack[-1].opener] != c):
        if not stack:
            return _SyntaxFail(pos, f"'{c}' closes nothing", "an extra closing bracket? remove it")
        frame = stack[-1]
        return _SyntaxFail(pos, f"'{c}' does not match the '{frame.opener}' opened at "
                           f"{pm.where(frame.start)}",
                           f"expected {expected}; look for a missing or extra bracket")
    if c in "}]":
        return _SyntaxFail(pos, f"expected {expected}, found '{c}'",
                           hint or ("a value is missing after the ':'" if stack and
                                    isinstance(stack[-1].node, Mapping) else None))
    if c == ",":
        return _SyntaxFail(pos, f"expected {expected}, found ','",
                           hint or "two commas in a row, or a comma with nothing before it?")
    if c == ":":
        return _SyntaxFail(pos, f"expected {expected}, found ':'",
                           hint or "a property name is missing, or a comma is missing before it")
    if c == "/":
        return _SyntaxFail(pos, f"a lone '/': expected {expected}", "comments start with // or /*")
    if c == "+" or c == ".":
        w = _NUMBERISH.match(text, pos)
        return _bad_number(pos, w.group() if w else c)
    w = _WORD.match(text, pos)
    if w:
        word = w.group()
        end = w.end()
        python = {"True": "true", "False": "false", "None": "null"}
        if word in python:
            return _SyntaxFail(pos, f"{word} is Python, not JSON: expected {expected}",
                               f"JSON writes it as {python[word]}", end=end)
        if word.lower() in ("true", "false", "null"):
            return _SyntaxFail(pos, f"{word}: expected {expected}",
                               f"JSON literals are lower case: {word.lower()}", end=end)
        if word in ("NaN", "Infinity", "inf", "nan"):
            return _SyntaxFail(pos, f"{word} is not a JSON number: expected {expected}",
                               "use null, or a string", end=end)
        if word == "undefined":
            return _SyntaxFail(pos, f"undefined is JavaScript, not JSON: expected {expected}", "use null",
                               end=end)
        if key:
            return _SyntaxFail(pos, f"unquoted property name {word}: expected {expected}",
                               f"property names are strings in double quotes: \"{word}\"", end=end)
        return _SyntaxFail(pos, f"unquoted text {word}: expected {expected}",
                           f"strings must be in double quotes: \"{word}\"", end=end)
    found = repr(c) if c.isprintable() else _show_char(c)
    return _SyntaxFail(pos, f"expected {expected}, found {found}", hint)


__all__ = ["DEFAULT_JSON_BUDGET", "JsonBudget", "load_json"]
