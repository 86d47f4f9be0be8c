"""Extra lint warnings beyond the seed (AIB6xx): unpinned downloads, GitHub page URLs, plain http,
and quickstart <placeholders> left in the template."""

from __future__ import annotations

from types import MappingProxyType

from .. import code_ids as C
from ..model import JsonPath, is_expression, placeholders
from .context import RuleContext, is_str
from .urls import fetchable, github_raw, is_plain_http

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the compile path
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

_URI_KEYS = MappingProxyType({"Shell": "scriptUri", "PowerShell": "scriptUri", "File": "sourceUri"})
_HTML_TAGS = frozenset(
    "html head body title meta link script style div span p a b i u em strong pre code br hr ul ol li "
    "table thead tbody tr td th h1 h2 h3 h4 h5 h6 img form input button label center".split()
)


def _unfilled(text: str) -> list[str]:
    """Placeholders that are not shell redirections (`< in >`) or HTML tags (`<h1>`, `</p>`)."""
    out = []
    for token in placeholders(text):
        inner = token[1:-1]
        if inner[0].isspace() or inner[-1].isspace() or inner.startswith("/") or inner.endswith("/"):
            continue
        if inner.split(" ", 1)[0].lower() in _HTML_TAGS:
            continue
        out.append(token)
    return out


def check(ctx: RuleContext) -> None:
    for step in ctx.steps():
        key = _URI_KEYS.get(step.kind)
        uri = step.body.get(key) if key else None
        if key is None or not is_str(uri) or not uri or ctx.opaque(uri) or fetchable(uri) is not None:
            continue
        path = step.path + (key,)
        raw = github_raw(uri)
        if raw:
            ctx.report(C.AIB601, f"{key} {uri!r} is GitHub's HTML page for the file", path, hint=f"use {raw}")
        if is_plain_http(uri):
            ctx.report(
                C.AIB603, f"{key} {uri!r} is fetched over plain http", path, hint="use https://" + uri[7:]
            )
        checksum = step.body.get("sha256Checksum")
        if not (is_str(checksum) and checksum):
            name = step.body.get("name")
            label = repr(name) if is_str(name) and name else f"#{step.index + 1}"
            ctx.report(C.AIB600, f"step {label} downloads {uri!r} without a sha256Checksum", path)


def scan_placeholders(ctx: RuleContext, text: str | None = None) -> None:
    """AIB602 for every `<placeholder>` left in the document. ``text``, the document's JSON when
    the caller has it already, answers "any ``<`` at all?" without encoding the document again."""
    if "<" not in text if text is not None else not _may_hold_placeholder(ctx.doc):
        return
    _placeholders(ctx, ctx.doc, ())


def _may_hold_placeholder(doc: Any) -> bool:
    """False when no key or string of ``doc`` holds a ``<`` (most templates): one pass of the C JSON
    encoder instead of a Python walk. JSON escapes no ``<``; a value it cannot write says True."""
    import json  # (already loaded on the compile path by emit)

    try:
        return "<" in json.dumps(doc, ensure_ascii=False, check_circular=False)
    except (TypeError, ValueError):
        return True


def _placeholders(ctx: RuleContext, value: Any, path: JsonPath) -> None:
    """Every `<placeholder>` in keys and string values (iterative walk, one report per string).

    Paths are built only for containers and for the strings that hold a placeholder.
    """
    work: list[tuple[Any, JsonPath]] = [(value, path)]
    while work:
        cur, p = work.pop()
        items: Iterable[tuple[Any, Any]]
        if isinstance(cur, dict):
            items = cur.items()
        elif isinstance(cur, list):
            items = enumerate(cur)
        else:
            continue
        children: list[tuple[Any, JsonPath]] = []
        for k, v in items:
            if type(v) is str and "<" not in v and (type(k) is not str or "<" not in k):
                continue  # the common case: a string without a placeholder, under a plain key
            if isinstance(k, str) and "<" in k and not is_expression(k):
                found = _unfilled(k)
                if found:
                    ctx.report(
                        C.AIB602, f"key {k!r} holds the placeholder {', '.join(found)}", p + (k,), key=True
                    )
            if isinstance(v, str):
                if "<" in v and not is_expression(v):
                    found = _unfilled(v)
                    if found:
                        what = "placeholder" if len(found) == 1 else "placeholders"
                        ctx.report(C.AIB602, f"{k} holds the {what} {', '.join(found)}", p + (k,))
            elif isinstance(v, (dict, list)):
                children.append((v, p + (k,)))
        work.extend(reversed(children))  # document order when popped
