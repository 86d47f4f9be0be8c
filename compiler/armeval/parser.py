"""The ARM template expression language: ``[func('a', 1).prop[0]]`` -> a small syntax tree.

Grammar (what Azure Resource Manager accepts inside a JSON string that starts with ``[`` and ends
with ``]``; ``[[`` at the start escapes a literal bracket and is not an expression)::

    expr    := primary ( '.' IDENT | '[' expr ']' )*
    primary := STRING | NUMBER | IDENT ( '.' IDENT )? '(' [ expr ( ',' expr )* ] ')'
    STRING  := "'" ( any char but "'" | "''" )* "'"

Nodes are tuples (cheap to build, cheap to cache), each with the character offsets of its text
inside the expression string, so a value an expression builds can be located at file:line:col:

    ("lit", value, start, end)
    ("call", name, args, start, end)        name is lower case; "ns.fn" for user-defined functions
    ("prop", target, name, start, end)
    ("index", target, index_expr, start, end)

Parsed expressions are cached by text: a copy loop evaluates the same text many times.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import AibtuiError

MAX_EXPRESSION_CHARS = 64 * 1024
MAX_NESTING = 64
_CACHE: dict[str, Any] = {}
_CACHE_MAX = 4096

_TOKEN = re.compile(
    r"\s*(?:"
    r"(?P<str>'(?:[^']|'')*')"
    r"|(?P<num>-?\d+(?:\.\d+)?)"
    r"|(?P<ident>[A-Za-z_$][A-Za-z0-9_$]*)"
    r"|(?P<punct>[().,\[\]])"
    r")"
)


class ExpressionSyntaxError(AibtuiError, ValueError):
    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


def parse(text: str) -> Any:
    """Parse the whole string ``[ ... ]`` (brackets included); offsets count from its first char."""
    hit = _CACHE.get(text)
    if hit is not None:
        return hit
    if len(text) > MAX_EXPRESSION_CHARS:
        raise ExpressionSyntaxError(f"expression is {len(text)} characters; the limit is {MAX_EXPRESSION_CHARS}", 0)
    if not (text.startswith("[") and text.endswith("]")):
        raise ExpressionSyntaxError("an expression starts with [ and ends with ]", 0)
    parser = _Parser(text, 1, len(text) - 1)
    tree = parser.expr(0)
    parser.skip_ws()
    if parser.pos != parser.end:
        raise ExpressionSyntaxError(f"unexpected {text[parser.pos:parser.pos + 12]!r} after the expression",
                                    parser.pos)
    if len(_CACHE) >= _CACHE_MAX:
        _CACHE.clear()
    _CACHE[text] = tree
    return tree


class _Parser:
    def __init__(self, text: str, start: int, end: int) -> None:
        self.text = text
        self.pos = start
        self.end = end

    def skip_ws(self) -> None:
        while self.pos < self.end and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self) -> tuple[str, str, int, int] | None:
        self.skip_ws()
        if self.pos >= self.end:
            return None
        m = _TOKEN.match(self.text, self.pos, self.end)
        if m is None or m.end() == self.pos:
            raise ExpressionSyntaxError(f"unexpected character {self.text[self.pos]!r}", self.pos)
        kind = m.lastgroup or ""
        return kind, m.group(kind), m.start(kind), m.end()

    def take(self) -> tuple[str, str, int, int]:
        tok = self.peek()
        if tok is None:
            raise ExpressionSyntaxError("the expression ends too early", self.end)
        self.pos = tok[3]
        return tok

    def expect(self, punct: str) -> int:
        tok = self.peek()
        if tok is None or tok[0] != "punct" or tok[1] != punct:
            what = "the end of the expression" if tok is None else repr(tok[1])
            raise ExpressionSyntaxError(f"expected {punct!r}, found {what}", tok[2] if tok else self.end)
        self.pos = tok[3]
        return tok[3]

    def expr(self, depth: int) -> Any:
        if depth > MAX_NESTING:
            raise ExpressionSyntaxError(f"expression nested more than {MAX_NESTING} levels", self.pos)
        node = self.primary(depth)
        while True:
            tok = self.peek()
            if tok is None or tok[0] != "punct" or tok[1] not in ".[":
                return node
            self.pos = tok[3]
            if tok[1] == ".":
                name = self.take()
                if name[0] != "ident":
                    raise ExpressionSyntaxError(f"expected a property name after '.', found {name[1]!r}", name[2])
                node = ("prop", node, name[1], node[-2], name[3])
            else:
                index = self.expr(depth + 1)
                end = self.expect("]")
                node = ("index", node, index, node[-2], end)

    def primary(self, depth: int) -> Any:
        kind, value, start, end = self.take()
        if kind == "str":
            return ("lit", value[1:-1].replace("''", "'"), start, end)
        if kind == "num":
            return ("lit", float(value) if "." in value else int(value), start, end)
        if kind == "ident":
            name = value
            tok = self.peek()
            if tok is not None and tok[0] == "punct" and tok[1] == ".":
                # ns.fn( ... ) is a user-defined function; anything else is a property access
                save = self.pos
                self.pos = tok[3]
                member = self.peek()
                if member is not None and member[0] == "ident":
                    self.pos = member[3]
                    after = self.peek()
                    if after is not None and after[1] == "(":
                        name = f"{value}.{member[1]}"
                    else:
                        self.pos = save
                else:
                    self.pos = save
            self.expect("(")
            args: list[Any] = []
            tok = self.peek()
            if tok is not None and tok[1] == ")":
                self.pos = tok[3]
            else:
                while True:
                    args.append(self.expr(depth + 1))
                    tok = self.take()
                    if tok[1] == ")":
                        break
                    if tok[1] != ",":
                        raise ExpressionSyntaxError(f"expected ',' or ')' in the arguments of {name}(), "
                                                    f"found {tok[1]!r}", tok[2])
            return ("call", name.lower(), tuple(args), start, self.pos)
        raise ExpressionSyntaxError(f"unexpected {value!r}", start)


def unparse(node: Any) -> str:
    """Expression text for a syntax tree (without the outer brackets)."""
    kind = node[0]
    if kind == "lit":
        v = node[1]
        if isinstance(v, str):
            return "'" + v.replace("'", "''") + "'"
        return str(v)
    if kind == "call":
        return f"{node[1]}({', '.join(unparse(a) for a in node[2])})"
    if kind == "prop":
        return f"{unparse(node[1])}.{node[2]}"
    return f"{unparse(node[1])}[{unparse(node[2])}]"


__all__ = ["ExpressionSyntaxError", "parse", "unparse"]
