"""Template skeleton: type (S-01), apiVersion (S-02), location (L-01), tags (T-01), dependsOn (D-01)."""

from __future__ import annotations

import re

from .. import code_ids as C
from ..diagnostics import Severity
from ..model import RESOURCE_TYPE, JsonPath
from .context import RuleContext, as_list, is_str
from .regions import is_known_region, suggest_region

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the compile path
if TYPE_CHECKING:
    from typing import Any

MAX_TAGS = 50
MAX_TAG_NAME = 512
MAX_TAG_VALUE = 256
_BAD_TAG_CHARS = re.compile(r"[<>%&\\?/]")
_TAG_MAPS: tuple[JsonPath, ...] = (("tags",), ("properties", "managedResourceTags"))


def check(ctx: RuleContext) -> None:
    doc = ctx.doc
    _type(ctx, doc.get("type"))
    if ctx.api_version == "2020-02-14" and "apiVersion" in doc:
        ctx.report(
            C.AIB002,
            "apiVersion 2020-02-14 is the seed's version; later stable versions accept "
            "Gen2 sources, in-VM validation and targetRegions",
            ("apiVersion",),
        )
    if "location" in doc:
        check_region(ctx, doc.get("location"), ("location",))
    for path in _TAG_MAPS:
        check_tags(ctx, path)
    for path, _ in ctx.distributors():
        check_tags(ctx, path + ("artifactTags",))
    _depends_on(ctx, doc.get("dependsOn"))


def _type(ctx: RuleContext, value: Any) -> None:
    if not is_str(value) or ctx.opaque(value) or value == RESOURCE_TYPE:
        return
    if value.lower() == RESOURCE_TYPE.lower():
        # ARM accepts any case; tools that compare the type exactly do not (a warning, as on import)
        ctx.report(C.AIB001, f"resource type is {value!r}: write it exactly {RESOURCE_TYPE!r}", ("type",),
                   hint="ARM ignores the case of resource types, but scripts and policies that compare "
                   "it exactly miss this template", severity=Severity.WARNING)
        return
    ctx.report(C.AIB001, f"resource type is {value!r}, not {RESOURCE_TYPE!r}", ("type",))


def check_region(ctx: RuleContext, value: Any, path: JsonPath, what: str = "location") -> None:
    """L-01: an unknown region is a warning with a did-you-mean (shared by every region field)."""
    if not is_str(value) or not value or ctx.opaque(value) or is_known_region(value):
        return
    guess = suggest_region(value)
    hint = f"did you mean {guess!r}?" if guess else None
    ctx.report(C.AIB005, f"{what} {value!r} is not a known Azure region", path, hint=hint)


def check_tags(ctx: RuleContext, path: JsonPath) -> None:
    tags = ctx.model.get(path)
    if not isinstance(tags, dict):
        return
    if len(tags) > MAX_TAGS:
        ctx.report(
            C.AIB008, f"{path[-1]} has {len(tags)} tags; Azure allows at most {MAX_TAGS}", path, key=True
        )
    for name, value in tags.items():
        if not is_str(name) or ctx.opaque(name):
            continue
        if len(name) > MAX_TAG_NAME:
            ctx.report(
                C.AIB008,
                f"tag name {name[:40]!r}... is {len(name)} characters; the limit is {MAX_TAG_NAME}",
                path + (name,),
                key=True,
            )
        bad = _BAD_TAG_CHARS.search(name)
        if bad:
            ctx.report(
                C.AIB008,
                f"tag name {name!r} contains {bad.group()!r}, which Azure does not allow in tag names",
                path + (name,),
                key=True,
            )
        if is_str(value) and len(value) > MAX_TAG_VALUE:
            ctx.report(
                C.AIB008,
                f"value of tag {name!r} is {len(value)} characters; the limit is {MAX_TAG_VALUE}",
                path + (name,),
            )


def _depends_on(ctx: RuleContext, value: Any) -> None:
    seen: dict[str, int] = {}
    for i, entry in enumerate(as_list(value)):
        path = ("dependsOn", i)
        if not is_str(entry) or not entry.strip():
            shown = repr(entry) if not isinstance(entry, (dict, list)) else type(entry).__name__
            ctx.report(C.AIB009, f"dependsOn entry {shown} is not a resource name, id or expression", path)
            continue
        if ctx.opaque(entry):
            continue
        if entry != entry.strip() or any(c.isspace() for c in entry):
            ctx.report(C.AIB009, f"dependsOn entry {entry!r} contains whitespace", path)
            continue
        low = entry.lower()
        if low in seen:
            ctx.report(
                C.AIB009,
                f"dependsOn lists {entry!r} twice (first as entry {seen[low]})",
                path,
                hint="remove the repeated entry",
                severity=Severity.WARNING,
            )
        seen.setdefault(low, i)
