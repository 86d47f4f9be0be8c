"""Extra lint warnings beyond the seed (AIB6xx): unpinned downloads, GitHub page URLs, plain http,
and quickstart <placeholders> left in the template."""

from __future__ import annotations

from typing import Any

from ..model import JsonPath, is_expression, placeholders
from .context import RuleContext, is_str
from .urls import fetchable, github_raw, is_plain_http

_URI_KEYS = {"Shell": "scriptUri", "PowerShell": "scriptUri", "File": "sourceUri"}


def check(ctx: RuleContext) -> None:
    for step in ctx.steps():
        key = _URI_KEYS.get(step.kind)
        uri = step.body.get(key) if key else None
        if not is_str(uri) or not uri or ctx.opaque(uri) or fetchable(uri) is not None:
            continue
        path = step.path + (key,)
        raw = github_raw(uri)
        if raw:
            ctx.report("AIB601", f"{key} {uri!r} is GitHub's HTML page for the file", path, hint=f"use {raw}")
        if is_plain_http(uri):
            ctx.report(
                "AIB603", f"{key} {uri!r} is fetched over plain http", path, hint="use https://" + uri[7:]
            )
        checksum = step.body.get("sha256Checksum")
        if not (is_str(checksum) and checksum):
            name = step.body.get("name")
            label = repr(name) if is_str(name) and name else f"#{step.index + 1}"
            ctx.report("AIB600", f"step {label} downloads {uri!r} without a sha256Checksum", path)
    _placeholders(ctx, ctx.doc, ())


def _placeholders(ctx: RuleContext, value: Any, path: JsonPath) -> None:
    """Every `<placeholder>` in keys and string values (iterative walk, one report per string)."""
    work: list[tuple[Any, JsonPath]] = [(value, path)]
    while work:
        cur, p = work.pop()
        if isinstance(cur, dict):
            for k, v in cur.items():
                if "<" in k and not is_expression(k):
                    found = placeholders(k)
                    if found:
                        ctx.report(
                            "AIB602",
                            f"key {k!r} holds the placeholder {', '.join(found)}",
                            p + (k,),
                            key=True,
                        )
                work.append((v, p + (k,)))
        elif isinstance(cur, list):
            work.extend((v, p + (i,)) for i, v in enumerate(cur))
        elif isinstance(cur, str) and "<" in cur and not is_expression(cur):
            found = placeholders(cur)
            if found:
                what = "placeholder" if len(found) == 1 else "placeholders"
                ctx.report("AIB602", f"{p[-1] if p else 'value'} holds the {what} {', '.join(found)}", p)
