"""File customizer and validator: source and destination (F-01) and where it may write (F-03)."""

from __future__ import annotations

import posixpath
import re

from .. import code_ids as C
from .context import RuleContext, Step, is_str
from .urls import is_github_tree

_WINDOWS_ABS = re.compile(r"^(?:[A-Za-z]:[\\/]|\\\\[^\\]+\\)")


def check(ctx: RuleContext) -> None:
    for step in ctx.steps():
        if step.kind == "File":
            _file(ctx, step)


def _file(ctx: RuleContext, step: Step) -> None:
    body = step.body
    name = body.get("name")
    label = repr(name) if is_str(name) and name else f"#{step.index + 1}"
    missing = [k for k in ("sourceUri", "destination") if body.get(k) in (None, "")]
    if missing:
        ctx.report(C.AIB070, f"File step {label} lacks {' and '.join(missing)}", step.path)
    src = body.get("sourceUri")
    if is_str(src) and src and not ctx.opaque(src) and (src.endswith("/") or is_github_tree(src)):
        ctx.report(
            C.AIB071,
            f"sourceUri {src!r} names a directory; the File step downloads a single file",
            step.path + ("sourceUri",),
        )
    dest = body.get("destination")
    if not is_str(dest) or not dest or ctx.opaque(dest):
        return
    path = step.path + ("destination",)
    if dest.endswith(("/", "\\")):
        ctx.report(
            C.AIB074,
            f"destination {dest!r} ends with a separator; give the full path and file name",
            path,
            hint=f"for example {dest}{_basename(src) or 'file.txt'}",
        )
        return
    windows_path = bool(_WINDOWS_ABS.match(dest))
    if ctx.os_family == "linux" or (ctx.os_family is None and dest.startswith("/")):
        norm = posixpath.normpath(dest) if dest.startswith("/") else dest
        if norm == "/tmp":
            ctx.report(
                C.AIB074,
                f"destination {dest!r} is the /tmp directory; give the file name too",
                path,
                hint=f"for example /tmp/{_basename(src) or 'file.txt'}",
            )
        elif not norm.startswith("/tmp/"):
            where = (
                "a Windows path"
                if windows_path
                else ("a relative path" if not dest.startswith("/") else "outside /tmp")
            )
            ctx.report(
                C.AIB072,
                f"destination {dest!r} is {where}; on Linux Image Builder can only write under /tmp",
                path,
                hint=f"download to /tmp/{posixpath.basename(dest.replace(chr(92), '/')) or 'file'} "
                "and move it with a Shell step (sudo mv)",
            )
    elif ctx.os_family == "windows" and not windows_path:
        ctx.report(C.AIB073, f"destination {dest!r} is not an absolute Windows path", path)


def _basename(uri: object) -> str:
    if not is_str(uri):
        return ""
    return uri.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
