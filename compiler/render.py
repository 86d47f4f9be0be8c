"""Rendering: ``{{ variables }}`` into the string values of a resolved document.

Variables come from the merged ``vars:`` mapping and ``--set NAME=VALUE``. Substitution happens
after parsing, inside string scalars only (keys never), so a value can never inject YAML structure.

Two engines, one result:

* the fast path handles strings whose only templating is ``{{ name }}`` / ``{{ a.b }}``: it is a
  small regular expression and ``str()`` of the value, so the common compile never imports Jinja2;
* everything else (filters, expressions) goes to a Jinja2 ``ImmutableSandboxedEnvironment`` built
  once per process (it holds no per-render state: values come in through each render's context,
  so a compiled expression is a pure function of its text and is memoised), with strict undefined,
  no globals, a curated filter set, and size checks on every operator, method call, filter and
  output that could grow a value, so hostile expressions (``'a' * 10**9``, ``'x'.ljust(10**9)``,
  chained ``replace``) fail fast with AIB306 instead of eating memory.

The fast path must give byte-identical results to Jinja for the strings it accepts; the tests
compare the two over many values. It declines anything it is not sure about (``\\r`` in the
text, reserved words, attributes that are also dict methods, ...), and Jinja handles those.
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections import deque
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from . import code_ids as C
from .diagnostics import DiagnosticBag, Span
from .nodes import Mapping, Node, Scalar, Sequence, to_plain

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the compile path
if TYPE_CHECKING:
    from typing import Any, Literal, TypeVar

    _T = TypeVar("_T")
    _Parts = tuple[Any, ...]  # alternating literal text (str) and dotted names (tuple[str, ...])

MAX_TEXT = 8 * 1024 * 1024  # characters in any string a template builds (inputs are at most 4 MiB)
MAX_ITEMS = 100_000  # items in any list a template builds
MAX_INT_BITS = 8192  # bits in any integer a template computes
MAX_ROUND_DIGITS = 30
MAX_TEMPLATES = 2000  # distinct strings compiled by Jinja in one render (about 1 ms each)
DEFAULT_MAX_OUTPUT = 32 * 1024 * 1024  # characters of rendered text in one compile (AIB120, --max-output)

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_SIMPLE = re.compile(r"\{\{\s*(" + _NAME + r"(?:\." + _NAME + r")*)\s*\}\}")
_SET_NAME = re.compile(r"^" + _NAME + r"$")
# Names Jinja reads as constants, operators or special variables: the fast path leaves them alone.
_RESERVED = frozenset({"true", "false", "none", "True", "False", "None", "and", "or", "not", "in", "is",
                       "if", "else", "self", "loop", "caller", "varargs", "kwargs", "super"})
_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})


class _Failed(Exception):
    """A string could not be rendered; the diagnostic (if any) is already in the bag."""


class _Limit(Exception):
    """An expression would build a value beyond the limits."""


class _Budget(Exception):
    """The compile's output budget is spent; AIB120 is already in the bag and rendering stops."""


# -- --set ----------------------------------------------------------------------------------------


def parse_set_args(args: list[str], diags: DiagnosticBag, *, span_file: str = "<--set>") -> dict[str, str]:
    """``["k=v", ...]`` -> ``{"k": "v"}``; AIB304 for arguments that are not ``NAME=VALUE``."""
    out: dict[str, str] = {}
    for i, arg in enumerate(args, start=1):
        name, sep, value = arg.partition("=")
        name = name.strip()
        if not sep:
            diags.add(C.AIB304, f"--set {arg!r} has no '='", Span(span_file, i, 1))
            continue
        if not _SET_NAME.match(name):
            diags.add(C.AIB304, f"--set {arg!r}: {name!r} is not a variable name (letters, digits, _)",
                      Span(span_file, i, 1))
            continue
        out[name] = value
    return out


def _convert_set(name: str, text: str, declared: Node | None, span: Span, diags: DiagnosticBag) -> Any:
    """A --set value takes the type of a variable declared with a number or a boolean."""
    if not isinstance(declared, Scalar):
        return text
    default = declared.value
    t = text.strip()
    if isinstance(default, bool):
        if t.lower() in _TRUE:
            return True
        if t.lower() in _FALSE:
            return False
        diags.add(C.AIB305, f"--set {name}={text}: `{name}` is a boolean; {text!r} is not true or false", span,
                  hint="write true or false")
        raise _Failed
    if isinstance(default, int):
        try:
            return int(t, 10)
        except ValueError:
            diags.add(C.AIB305, f"--set {name}={text}: `{name}` is an integer; {text!r} is not one", span,
                      hint=f"write a whole number, like {default}")
            raise _Failed from None
    if isinstance(default, float):
        try:
            value = float(t)
        except ValueError:
            value = math.nan
        if math.isnan(value) and t.lower() != "nan":
            diags.add(C.AIB305, f"--set {name}={text}: `{name}` is a number; {text!r} is not one", span,
                      hint=f"write a number, like {default}")
            raise _Failed
        return value
    return text


# -- the fast path --------------------------------------------------------------------------------




@lru_cache(maxsize=4096)
def _simple_parts(text: str) -> _Parts | None:
    """Split a string whose only templating is ``{{ name }}`` / ``{{ a.b }}``; None if it has more.

    A pure function of the text, memoised (the same strings come back from profile to profile)."""
    if "\r" in text or "{%" in text or "{#" in text:
        return None
    parts: list[Any] = []
    pos = 0
    for m in _SIMPLE.finditer(text):
        literal = text[pos:m.start()]
        if "{{" in literal or literal.endswith("{"):
            return None
        names = tuple(m.group(1).split("."))
        if names[0] in _RESERVED:
            return None
        parts.append(literal)
        parts.append(names)
        pos = m.end()
    tail = text[pos:]
    if "{{" in tail:
        return None
    parts.append(tail)
    return tuple(parts)


_NO_VALUE = object()


def _simple_lookup(context: dict[str, Any], names: tuple[str, ...]) -> Any:
    """The value of ``a.b.c`` as Jinja's sandbox would find it, or _NO_VALUE to let Jinja decide."""
    value = context[names[0]]  # KeyError: undefined
    for attr in names[1:]:
        if not isinstance(value, dict) or attr not in value or hasattr(value, attr):
            return _NO_VALUE
        value = value[attr]
    return value


def _measure(value: Any, limit: int = MAX_TEXT) -> int:
    """An upper bound on ``len(str(value))``, walking at most ``limit`` steps; _Limit beyond it.

    Breadth first, and every queued item counts as at least one character, so a huge list of
    shared references (``[[1] * 10**5] * 10**5``) is refused after a bounded amount of work.
    """
    total = 0
    queue: deque[Any] = deque([value])
    while queue:
        v = queue.popleft()
        if isinstance(v, str):
            total += len(v) + 4
        elif isinstance(v, dict):
            total += 2 + 4 * len(v)
            for k, item in v.items():
                queue.append(k)
                queue.append(item)
        elif isinstance(v, list | tuple | set | frozenset):
            total += 2 + 2 * len(v)
            queue.extend(v)
        elif isinstance(v, int) and not isinstance(v, bool):
            if v.bit_length() > MAX_INT_BITS:
                raise _Limit("an integer is too large to print")
            total += v.bit_length() // 3 + 2
        else:
            total += 32
        if total + len(queue) > limit:
            raise _Limit(f"the value would be longer than {limit} characters")
    return total


# -- positions ------------------------------------------------------------------------------------


class _Sources:
    """Source lines, read only to place a diagnostic inside a multi-line (block) scalar."""

    def __init__(self) -> None:
        self.cache: dict[str, list[str] | None] = {}

    def line(self, file: str, line: int) -> str | None:
        if file not in self.cache:
            try:
                path = Path(file)
                data = path.read_text(encoding="utf-8-sig") if path.is_file() and \
                    path.stat().st_size <= 8 * 1024 * 1024 else None
                self.cache[file] = data.splitlines() if data is not None else None
            except (OSError, UnicodeDecodeError, ValueError):
                self.cache[file] = None
        lines = self.cache[file]
        if lines is None or not 1 <= line <= len(lines):
            return None
        return lines[line - 1]


def _position(node: Scalar, offset: int, sources: _Sources) -> Span:
    """The file:line:col of character ``offset`` of a string scalar's value, as well as we can tell."""
    text = node.value if isinstance(node.value, str) else ""
    span = node.span
    offset = max(0, min(offset, len(text)))
    if "\n" not in text and (span.end_line in (0, span.line)):
        shift = 0 if node.plain else 1
        return Span(span.file, span.line, span.col + shift + offset)
    line_in = text.count("\n", 0, offset)
    start = text.rfind("\n", 0, offset) + 1
    col_in = offset - start
    header = sources.line(span.file, span.line)
    if header is not None and header[span.col - 1:span.col] in ("|", ">"):
        value_line = text[start:].split("\n", 1)[0]
        if header[span.col - 1] == "|":  # literal block: one value line per source line
            src_line = sources.line(span.file, span.line + 1 + line_in)
            if src_line is not None and src_line.endswith(value_line):
                return Span(span.file, span.line + 1 + line_in, len(src_line) - len(value_line) + col_in + 1)
    return span


# -- the renderer ---------------------------------------------------------------------------------


def _plain_text(node: Node) -> bool:
    """A scalar that rendering returns as it is (no ``{{`` or ``{%``): checked before a call."""
    if type(node) is not Scalar:
        return False
    text = node.value
    return type(text) is not str or "{{" not in text and "{%" not in text


class _Renderer:
    def __init__(self, diags: DiagnosticBag, budget: int = DEFAULT_MAX_OUTPUT) -> None:
        self.diags = diags
        self.budget = budget  # characters every rendered string together may add up to
        self.spent = 0
        self.defining: str | None = None  # the variable being rendered, for AIB120's message
        self.context: dict[str, Any] = {}
        self.failed: set[str] = set()  # variables whose value could not be rendered
        self.used: set[str] = set()  # root names referenced by any rendered string
        self.known: set[str] = set()  # declared and --set names (for "did you mean")
        self.memo: dict[int, Node] = {}
        self.env: Any = None
        self.templates: dict[str, Any] = {}
        self.sources = _Sources()

    # -- names referenced (for variable dependencies and the unused --set warning) ----------------

    def names_in(self, node: Node) -> set[str]:
        out: set[str] = set()
        stack = [node]
        seen: set[int] = set()
        while stack:
            n = stack.pop()
            if type(n) is Scalar:  # the common case; a string seen twice adds the same names again
                text = n.value
                if type(text) is str and "{" in text:
                    out |= self._names_in_text(text)
                continue
            if id(n) in seen:
                continue
            seen.add(id(n))
            if isinstance(n, Mapping):
                stack.extend(reversed(n.items.values()))  # document order, like rendering
            elif isinstance(n, Sequence):
                stack.extend(reversed(n.items))
            elif isinstance(n, Scalar) and isinstance(n.value, str) and "{" in n.value:
                out |= self._names_in_text(n.value)
        return out

    def _names_in_text(self, text: str) -> set[str]:
        if "{{" not in text and "{%" not in text:
            return set()
        parts = _simple_parts(text)
        if parts is not None:
            return {p[0] for p in parts[1::2]}
        compiled = self._compile(text)
        return set(compiled[1]) if compiled is not None else set()

    # -- Jinja ------------------------------------------------------------------------------------

    def _jinja(self) -> Any:
        if self.env is None:
            self.env = _environment()
        return self.env

    def _compile(self, text: str) -> tuple[Any, frozenset[str]] | None:
        """(template, referenced names), or None with the error kept for :meth:`_render_jinja`."""
        cached = self.templates.get(text)
        if cached is not None:  # an error (code, detail) is kept for _render_jinja, not returned
            return None if isinstance(cached[0], str) else (cached[0], cached[1])
        result: tuple[Any, Any]
        if len(self.templates) >= MAX_TEMPLATES:
            result = (C.AIB306, f"more than {MAX_TEMPLATES} different strings use filters or expressions")
            self.templates[text] = result
            return None
        result = _compiled(text)
        self.templates[text] = result
        return None if isinstance(result[0], str) else (result[0], result[1])

    def _render_jinja(self, node: Scalar) -> Any:
        text = node.value
        self._compile(text)
        compiled = self.templates[text]
        if compiled[0] == C.AIB302:
            line = compiled[1]
            self.diags.add(C.AIB302, "`{% ... %}` statements are not allowed in values; use an expression "
                           "like `{{ name | upper }}`", _position(node, _line_offset(text, line, "{%"),
                                                                  self.sources))
            raise _Failed
        if compiled[0] == C.AIB306:
            self.diags.add(C.AIB306, f"expression refused: {compiled[1]}", node.span,
                           hint="plain `{{ name }}` references have no such limit")
            raise _Failed
        if compiled[0] == C.AIB301:
            line, message = compiled[1]
            self.diags.add(C.AIB301, f"template syntax error: {message}",
                           _position(node, _line_offset(text, line, "{{"), self.sources),
                           hint="to write {{ literally, use {{ '{{' }} or {% raw %}...{% endraw %}")
            raise _Failed
        template, names = compiled
        self.used |= names
        if names & self.failed:
            raise _Failed  # a variable it uses already failed: that error is enough
        from jinja2.exceptions import SecurityError, TemplateError, UndefinedError

        try:
            pieces: list[str] = []
            size = 0
            for piece in template.root_render_func(template.new_context(self.context, shared=True)):
                size += len(piece)
                if size > MAX_TEXT:
                    raise _Limit(f"the result would be longer than {MAX_TEXT} characters")
                pieces.append(piece)
            return "".join(pieces)
        except UndefinedError as exc:
            self._undefined(node, exc.message or str(exc))
        except (_Limit, SecurityError) as exc:
            self.diags.add(C.AIB306, f"expression refused: {exc}", node.span,
                           hint="templates may only build values of a reasonable size from safe operations")
        except TemplateError as exc:
            self.diags.add(C.AIB306, f"template error: {exc.message or exc}", node.span)
        except (ArithmeticError, ValueError, TypeError, LookupError, AttributeError, RecursionError,
                MemoryError, UnicodeError) as exc:
            self.diags.add(C.AIB306, f"template evaluation failed: {type(exc).__name__}: {exc}", node.span)
        raise _Failed

    def _undefined(self, node: Scalar, message: str) -> None:
        m = re.match(r"^'([^']+)' is undefined$", message)
        text = node.value
        if m:
            name = m.group(1)
            found = re.search(r"\{\{(?:(?!\}\}).)*?\b(" + re.escape(name) + r")\b", text, re.S)
            offset = found.start(1) if found else text.find("{{")
            self._report_undefined(node, name, offset)
        else:
            self.diags.add(C.AIB300, f"undefined value: {message}", _position(node, text.find("{{"), self.sources))

    def _report_undefined(self, node: Scalar, name: str, offset: int) -> None:
        known = sorted(self.known | set(self.context))
        import difflib  # lazily: only error paths need it

        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        hint = f"did you mean `{close[0]}`?" if close else \
            f"define it under `vars:` or pass --set {name}=VALUE"
        self.diags.add(C.AIB300, f"undefined variable `{name}`", _position(node, offset, self.sources), hint=hint)

    # -- the output budget --------------------------------------------------------------------------

    def charge(self, node: Scalar, size: int, names: list[str]) -> None:
        """Count ``size`` rendered characters against the budget; AIB120 and _Budget beyond it.

        Called before a string is joined, so a doubling chain of variables is refused before the
        string that would cross the budget is built.
        """
        self.spent += size
        if self.spent <= self.budget:
            return
        where = f"variable `{self.defining}`" if self.defining else "this value"
        used = ", ".join(f"`{n}`" for n in dict.fromkeys(names)) or "an expression"
        self.diags.add(C.AIB120, f"output budget exceeded: rendering {where} (using {used}, "
                       f"{size} characters here) brings the compile to more than {self.budget} characters "
                       "of rendered text", node.span,
                       hint="variables that repeat each other multiply the output; if this is intended, "
                            "raise the budget with --max-output CHARS")
        raise _Budget

    # -- strings ----------------------------------------------------------------------------------

    def render_scalar(self, node: Scalar) -> Node:
        text = node.value
        if not isinstance(text, str) or "{{" not in text and "{%" not in text:
            return node
        parts = _simple_parts(text)
        if parts is not None:
            out = self._render_simple(node, parts)
            if out is not None:
                return out
        result = self._render_jinja(node)
        self.charge(node, len(result), sorted(self._names_in_text(text)))
        return Scalar(node.span, result, raw=result, plain=False)

    def _render_simple(self, node: Scalar, parts: _Parts) -> Node | None:
        values: list[Any] = []
        for i, part in enumerate(parts):
            if i % 2 == 0:
                continue
            root = part[0]
            self.used.add(root)
            if root in self.failed:
                raise _Failed
            try:
                value = _simple_lookup(self.context, part)
            except KeyError:
                found = re.search(r"\{\{\s*(" + re.escape(root) + r")\b", node.value)
                self._report_undefined(node, root, found.start(1) if found else 0)
                raise _Failed from None
            if value is _NO_VALUE:
                return None
            values.append(value)
        if len(parts) == 3 and parts[0] == "" and parts[2] == "":
            value = values[0]
            if isinstance(value, bool | int | float):
                return Scalar(node.span, value, raw=str(value), plain=True)
            if isinstance(value, dict | list):
                kind = "a mapping" if isinstance(value, dict) else "a list"
                self.diags.add(C.AIB305, f"`{'.'.join(parts[1])}` is {kind}; a value written as "
                               f"\"{{{{ {'.'.join(parts[1])} }}}}\" can only take a string, number or boolean",
                               node.span, hint="write the list or mapping in YAML here, or turn it into text "
                               "with a filter: `| join(' ')` or `| tojson`")
                raise _Failed
        pieces: list[str] = []
        size = 0
        for i, part in enumerate(parts):
            if i % 2 == 0:
                pieces.append(part)
                size += len(part)
            else:
                value = values[i // 2]
                if isinstance(value, dict | list):
                    try:
                        _measure(value)
                    except _Limit as exc:
                        self.diags.add(C.AIB306, f"expression refused: {exc}", node.span)
                        raise _Failed from None
                s = str(value)
                size += len(s)
                pieces.append(s)
        if size > MAX_TEXT:
            self.diags.add(C.AIB306, f"expression refused: the result would be longer than {MAX_TEXT} "
                           "characters", node.span)
            raise _Failed
        self.charge(node, size, [".".join(p) for p in parts[1::2]])
        result = "".join(pieces)
        return Scalar(node.span, result, raw=result, plain=False)

    # -- trees ------------------------------------------------------------------------------------

    def render_node(self, node: Node, strict: bool) -> Node:
        """Render every string under ``node``; unchanged subtrees are returned as the same objects.

        With ``strict``, the first failure raises _Failed (for variable values); otherwise the
        failing string is kept as it was and rendering goes on (to report every error at once).
        """
        if _plain_text(node):  # most strings hold no expression: the node itself, no memo entry
            return node
        done = self.memo.get(id(node))
        if done is not None:
            return done
        out: Node
        if isinstance(node, Scalar):
            try:
                out = self.render_scalar(node)
            except _Failed:
                if strict:
                    raise
                out = node
        elif isinstance(node, Mapping):
            items: dict[str, Node] = {}
            changed = False
            for k, v in node.items.items():
                if type(v) is Scalar and (type(t := v.value) is not str or "{{" not in t and "{%" not in t):
                    items[k] = v  # (the check of _plain_text, inlined: most values are plain)
                    continue
                r = self.render_node(v, strict)
                items[k] = r
                changed = changed or r is not v
            out = Mapping(node.span, items, dict(node.key_spans)) if changed else node
        elif isinstance(node, Sequence):
            seq: list[Node] = []
            changed = False
            for v in node.items:
                if type(v) is Scalar and (type(t := v.value) is not str or "{{" not in t and "{%" not in t):
                    seq.append(v)
                    continue
                r = self.render_node(v, strict)
                seq.append(r)
                changed = changed or r is not v
            out = Sequence(node.span, seq) if changed else node
        else:
            out = node
        self.memo[id(node)] = out
        return out


def _line_offset(text: str, line: int, marker: str) -> int:
    """Offset of ``marker`` on 1-based ``line`` of ``text`` (or the line's start)."""
    start = 0
    for _ in range(max(0, line - 1)):
        nl = text.find("\n", start)
        if nl < 0:
            break
        start = nl + 1
    end = text.find("\n", start)
    found = text.find(marker, start, end if end >= 0 else len(text))
    return found if found >= 0 else start


def _find_statement(env: Any, text: str) -> int | None:
    """The line of the first ``{% ... %}`` statement in ``text``, or None.

    ``{% raw %}...{% endraw %}`` is not a statement but the way to write ``{{`` literally
    (``docker ps --format '{% raw %}{{.ID}}{% endraw %}'``), so it is allowed.
    """
    if "{%" not in text:
        return None
    for lineno, token, _value in env.lex(text):
        if token in ("block_begin", "linestatement_begin"):
            return int(lineno)
    return None


# -- render ---------------------------------------------------------------------------------------


def render(node: Mapping, sets: dict[str, str], diags: DiagnosticBag, *,
           set_span_file: str = "<--set>", max_output: int = DEFAULT_MAX_OUTPUT) -> Mapping | None:
    """Render ``{{ }}`` in every string value outside ``vars``. None (with diagnostics) on errors.

    The result holds the original nodes wherever nothing changed. Its ``vars`` mapping shows the
    values in effect: declared ones as written, ``--set`` ones as given (at ``set_span_file``).
    Every string rendered (variables and document) counts against ``max_output`` characters;
    beyond it AIB120 names the variable or value that crossed it and rendering stops at once.
    """
    r = _Renderer(diags, max_output)
    try:
        return _render(node, sets, diags, r, set_span_file)
    except _Budget:
        return None


def _render(node: Mapping, sets: dict[str, str], diags: DiagnosticBag, r: _Renderer,
            set_span_file: str) -> Mapping | None:
    before = len(diags.errors)
    set_span = Span(set_span_file, 1, 1)

    vars_node = node.items.get("vars")
    declared: dict[str, Node] = {}
    if isinstance(vars_node, Mapping):
        declared = dict(vars_node.items)
    elif vars_node is not None and not (isinstance(vars_node, Scalar) and vars_node.value is None):
        diags.add(C.AIB308, f"`vars` must be a mapping, not {_what(vars_node)}", vars_node.span)

    r.known = set(declared) | set(sets)
    # --set values, typed after the declared defaults.
    set_values: dict[str, Any] = {}
    for name, text in sets.items():
        try:
            set_values[name] = _convert_set(name, text, declared.get(name), set_span, diags)
        except _Failed:
            r.failed.add(name)

    # Variables in dependency order.
    deps: dict[str, list[str]] = {}
    for name, value in declared.items():
        deps[name] = [] if name in sets else sorted(r.names_in(value) & declared.keys())
    order = _order(deps, declared, vars_node, diags, r.failed)
    # Only the variables the document uses (directly or through other variables) are rendered, so
    # a profile may declare variables built from names that only some documents define.
    needed: set[str] = set()
    pending = [n for k, v in node.items.items() if k != "vars" for n in r.names_in(v) if n in declared] \
        if declared else []  # (no declared variable: nothing to look for, skip the walk)
    while pending:
        name = pending.pop()
        if name not in needed:
            needed.add(name)
            pending.extend(deps[name])
    for name in set_values:
        if name not in declared:
            r.context[name] = set_values[name]
    for name in order:
        if name in r.failed or name not in needed:
            continue
        if name in set_values:
            r.context[name] = set_values[name]
            continue
        if name in sets:
            continue  # the --set value was refused
        if _is_unset(declared[name]):
            span = declared[name].span
            diags.add(C.AIB309, f"variable `{name}` has no value: it is declared empty here (a SET ME marker) "
                      "and is used", span,
                      hint=f"--set {name}=...  (or write its value under `vars:`)")
            r.failed.add(name)
            continue
        try:
            if any(d in r.failed for d in deps[name]):
                raise _Failed
            r.defining = name
            rendered = r.render_node(declared[name], strict=True)
        except _Failed:
            r.failed.add(name)
            continue
        finally:
            r.defining = None
        r.context[name] = to_plain(rendered)

    # The document.
    out = Mapping(node.span)
    for key, value in node.items.items():
        if key == "vars":
            continue
        out.items[key] = r.render_node(value, strict=False)
        out.key_spans[key] = node.key_spans.get(key, value.span)
    effective = _effective_vars(vars_node, set_values, set_span)
    if effective is not None:
        out.items["vars"] = effective
        out.key_spans["vars"] = node.key_spans.get("vars", effective.span)

    for name in sets:
        if name not in declared and name not in r.used:
            diags.add(C.AIB307, f"--set {name}=... is not used: no `vars:` entry and no string refers to "
                      f"`{name}`", set_span, hint=_unused_hint(name, declared, r.used))
    if len(diags.errors) > before:
        return None
    return out


def _is_unset(node: Node) -> bool:
    """``name: ~`` (or an empty value): declared, to be set with --set (``aibtui import`` writes these)."""
    return isinstance(node, Scalar) and node.value is None


def _what(node: Node) -> str:
    if isinstance(node, Sequence):
        return "a list"
    if isinstance(node, Mapping):
        return "a mapping"
    return "a single value"


def _unused_hint(name: str, declared: dict[str, Node], used: set[str]) -> str | None:
    import difflib  # lazily: only error paths need it

    close = difflib.get_close_matches(name, sorted(set(declared) | used), n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`?" if close else "check the spelling of the variable name"


def _effective_vars(vars_node: Node | None, set_values: dict[str, Any], set_span: Span) -> Node | None:
    if not set_values:
        return vars_node
    base = vars_node if isinstance(vars_node, Mapping) else None
    out = Mapping(base.span if base else set_span, dict(base.items) if base else {},
                  dict(base.key_spans) if base else {})
    for name, value in set_values.items():
        out.items[name] = Scalar(set_span, value, raw=str(value), plain=not isinstance(value, str))
        out.key_spans[name] = set_span
    return out


def _order(deps: dict[str, list[str]], declared: dict[str, Node], vars_node: Node | None,
           diags: DiagnosticBag, failed: set[str]) -> list[str]:
    """Variables in dependency order; cycles reported once each (AIB303), their members failed."""
    order: list[str] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done
    for start in deps:
        if state.get(start):
            continue
        state[start] = 1
        path = [start]
        stack = [iter(deps[start])]
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                stack.pop()
                done = path.pop()
                state[done] = 2
                order.append(done)
                continue
            st = state.get(nxt, 0)
            if st == 0:
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(deps[nxt]))
            elif st == 1:
                cycle = path[path.index(nxt):]
                failed.update(cycle)
                span = declared[nxt].span
                if isinstance(vars_node, Mapping):
                    span = vars_node.key_spans.get(nxt, span)
                diags.add(C.AIB303, "variables refer to each other in a cycle: " +
                          " → ".join([*cycle, nxt]), span,
                          hint="one of them must be given a value that does not use the others")
    return order


# -- the Jinja environment ------------------------------------------------------------------------


def _check_text(value: _T) -> _T:
    if isinstance(value, str) and len(value) > MAX_TEXT:
        raise _Limit(f"a string would be longer than {MAX_TEXT} characters")
    if isinstance(value, list | tuple | dict | set) and len(value) > MAX_ITEMS:
        raise _Limit(f"a list would have more than {MAX_ITEMS} items")
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_BITS:
        raise _Limit("an integer would be too large")
    return value


def _repeat_size(seq: Any, times: Any) -> None:
    if isinstance(times, int) and isinstance(seq, str | list | tuple):
        limit = MAX_TEXT if isinstance(seq, str) else MAX_ITEMS
        if len(seq) * max(times, 0) > limit:
            raise _Limit(f"repeating {len(seq)} items {times} times is too large")


def _safe_binop(operator: str, left: Any, right: Any) -> Any:
    """``+ * ** %`` with the size of the result checked before it is built."""
    if operator == "*":
        _repeat_size(left, right)
        _repeat_size(right, left)
        if isinstance(left, int) and isinstance(right, int) and \
                left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise _Limit("an integer would be too large")
        return _check_text(left * right)
    if operator == "**":
        if isinstance(left, int) and isinstance(right, int) and right > 0 and \
                max(left.bit_length() - 1, 1) * right > MAX_INT_BITS and abs(left) > 1:
            raise _Limit("an integer power would be too large")
        return _check_text(left**right)
    if operator == "+":
        if isinstance(left, str | list | tuple) and isinstance(right, str | list | tuple):
            limit = MAX_TEXT if isinstance(left, str) else MAX_ITEMS
            if len(left) + len(right) > limit:
                raise _Limit("a value would be too large")
        return _check_text(left + right)
    if operator == "%":
        if isinstance(left, str):
            raise _Limit("%-formatting of strings is not allowed; use `~` to join text")
        return _check_text(left % right)
    raise _Limit(f"operator {operator} is not allowed")


_STR_METHODS = frozenset({
    "capitalize", "casefold", "lower", "upper", "title", "swapcase", "strip", "lstrip", "rstrip",
    "startswith", "endswith", "split", "rsplit", "splitlines", "replace", "join", "count", "find", "rfind",
    "index", "rindex", "isalnum", "isalpha", "isdigit", "isnumeric", "isspace", "islower", "isupper",
    "istitle", "removeprefix", "removesuffix", "partition", "rpartition", "ljust", "rjust", "center", "zfill",
})
_DICT_METHODS = frozenset({"keys", "values", "items", "get"})
_LIST_METHODS = frozenset({"index", "count"})


def _check_call(obj: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    owner = getattr(obj, "__self__", None)
    name = getattr(obj, "__name__", "")
    if isinstance(owner, str) and name in _STR_METHODS:
        if name in ("ljust", "rjust", "center", "zfill"):
            width = args[0] if args else kwargs.get("width", 0)
            if not isinstance(width, int) or width > MAX_TEXT:
                raise _Limit(f"{name}({width!r}) would build a string that is too long")
        elif name == "replace":
            _check_replace(owner, *args[:3], **kwargs)
        elif name == "join":
            items = args[0] if args else kwargs.get("iterable", ())
            if isinstance(items, list | tuple):
                _measure(list(items) + [owner] * max(len(items) - 1, 0))
            else:
                raise _Limit("join() takes a list here")
        return
    if isinstance(owner, dict) and name in _DICT_METHODS:
        return
    if isinstance(owner, list | tuple) and name in _LIST_METHODS:
        return
    raise _Limit(f"calling {name or type(obj).__name__}() is not allowed in a value")


def _check_replace(s: Any, old: Any = "", new: Any = "", count: Any = -1) -> None:
    if not isinstance(s, str) or not isinstance(old, str) or not isinstance(new, str):
        return
    hits = (len(s) + 1) if old == "" else s.count(old)
    if isinstance(count, int) and count >= 0:
        hits = min(hits, count)
    if len(s) + hits * (len(new) - len(old)) > MAX_TEXT:
        raise _Limit(f"replace() would build a string longer than {MAX_TEXT} characters")


def _filters() -> dict[str, Callable[..., Any]]:
    """The curated filter set: Jinja's own where safe, size-checked replacements where not."""
    from jinja2 import filters as jf

    def checked(func: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return _check_text(func(*args, **kwargs))

        wrapper.__dict__.update(getattr(func, "__dict__", {}))  # keeps Jinja's pass_environment markers
        wrapper.__name__ = getattr(func, "__name__", "filter")
        return wrapper

    def f_replace(value: Any, old: Any, new: Any, count: Any = None) -> str:
        s, o, n = str(value), str(old), str(new)
        _check_replace(s, o, n, -1 if count is None else count)
        return _check_text(s.replace(o, n) if count is None else s.replace(o, n, int(count)))

    def f_join(value: Any, d: str = "", attribute: Any = None) -> str:
        items = list(value)
        if len(items) > MAX_ITEMS:
            raise _Limit("join() of too many items")
        if attribute is not None:
            items = [item.get(attribute) if isinstance(item, dict) else getattr(item, str(attribute), None)
                     for item in items]
        _measure(items + [str(d)] * max(len(items) - 1, 0))
        return str(d).join(str(x) for x in items)

    def f_round(value: Any, precision: Any = 0, method: Literal["common", "ceil", "floor"] = "common") -> float:
        if not isinstance(precision, int) or abs(precision) > MAX_ROUND_DIGITS:
            raise _Limit(f"round() precision must be a whole number from -{MAX_ROUND_DIGITS} to "
                         f"{MAX_ROUND_DIGITS}")
        return jf.do_round(value, precision, method)

    def f_string(value: Any) -> str:
        _measure(value)
        return str(value)

    def f_tojson(value: Any, indent: Any = None) -> str:
        _measure(value)
        if indent is not None and (not isinstance(indent, int) or not 0 <= indent <= 8):
            raise _Limit("tojson indent must be 0 to 8")
        return _check_text(json.dumps(value, ensure_ascii=False, sort_keys=True, indent=indent, default=str))

    def f_b64encode(value: Any) -> str:
        text = str(value)
        if len(text) * 2 > MAX_TEXT:
            raise _Limit("b64encode() input too long")
        return base64.b64encode(text.encode("utf-8")).decode("ascii")

    def f_b64decode(value: Any) -> str:
        return base64.b64decode(str(value).encode("ascii"), validate=True).decode("utf-8")

    def f_list(value: Any) -> list[Any]:
        if isinstance(value, str | list | tuple | dict | set) and len(value) > MAX_ITEMS:
            raise _Limit(f"a list would have more than {MAX_ITEMS} items")
        return list(value)

    plain: dict[str, Callable[..., Any]] = {
        "default": jf.do_default, "d": jf.do_default,
        "lower": jf.do_lower, "upper": jf.do_upper, "title": jf.do_title, "capitalize": jf.do_capitalize,
        "trim": jf.do_trim, "first": jf.do_first, "last": jf.do_last, "length": len, "count": len,
        "int": jf.do_int, "float": jf.do_float, "abs": abs, "min": jf.do_min, "max": jf.do_max,
        "unique": jf.do_unique, "sort": jf.do_sort, "reverse": jf.do_reverse,
    }
    out = {name: checked(func) for name, func in plain.items()}
    out.update({"replace": f_replace, "join": f_join, "round": f_round, "string": f_string,
                "tojson": f_tojson, "b64encode": f_b64encode, "b64decode": f_b64decode, "list": f_list})
    return out


@lru_cache(maxsize=1)
def _environment() -> Any:
    """The process's one sandboxed environment (no per-render state; see the module docstring)."""
    return _make_environment()


@lru_cache(maxsize=1024)
def _compiled(text: str) -> tuple[Any, Any]:
    """(template, referenced names) for ``text``, or (code, detail) when it does not compile.

    A pure function of the text (the environment is fixed), memoised so compiling many templates
    in one process compiles each expression once. The result is never mutated: rendering passes
    values in through a fresh context, and callers copy the names before adding to them.
    """
    from jinja2 import meta
    from jinja2.exceptions import TemplateSyntaxError

    env = _environment()
    try:
        statement = _find_statement(env, text)
        if statement is not None:
            return (C.AIB302, statement)
        ast = env.parse(text)
        names = frozenset(meta.find_undeclared_variables(ast))
        return (env.from_string(ast), names)
    except TemplateSyntaxError as exc:
        return (C.AIB301, (exc.lineno or 1, exc.message or str(exc)))
    except (RecursionError, MemoryError, SyntaxError, _Limit) as exc:
        return (C.AIB301, (1, f"the expression is too complex ({type(exc).__name__})"))


def _make_environment() -> Any:
    """A sandboxed Jinja2 environment with the limits above (Jinja2 is imported here, lazily)."""
    from jinja2 import StrictUndefined, Undefined
    from jinja2.compiler import CodeGenerator
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class _CodeGenerator(CodeGenerator):
        # `a ~ b ~ c` normally joins unchecked; route it through the environment's checked join.
        def visit_Concat(self, node: Any, frame: Any) -> None:
            self.write("environment.checked_concat((")
            for arg in node.nodes:
                self.visit(arg, frame)
                self.write(", ")
            self.write("))")

    class _Environment(ImmutableSandboxedEnvironment):
        code_generator_class = _CodeGenerator
        intercepted_binops = frozenset({"+", "*", "**", "%"})

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            return _safe_binop(operator, left, right)

        def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
            if not isinstance(__obj, Undefined):  # calling an undefined name reports it as undefined
                _check_call(__obj, args, kwargs)
            return _check_text(super().call(__context, __obj, *args, **kwargs))

        def checked_concat(self, items: Any) -> str:
            _measure(list(items))
            return "".join(str(x) for x in items)

    def finalize(value: Any) -> Any:
        if not isinstance(value, str):
            _measure(value)
        return value

    env = _Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True,
                       finalize=finalize, cache_size=0, auto_reload=False)
    env.filters = _filters()
    env.globals = {}
    return env
