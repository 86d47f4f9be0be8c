"""Steps in general: names (C-01), URIs (C-04), secrets (C-05); Shell and PowerShell (SH-01..SH-04, PS-01).

Rules apply to customizers and in-VM validators alike, except names, which are unique per list.
"""

from __future__ import annotations

import re
from types import MappingProxyType

from .. import code_ids as C
from .context import RuleContext, Step, as_list, is_int, is_str
from .rootcmds import check_root_commands
from .secrets import find_secret, maybe_secret
from .urls import fetchable

_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
_SCRIPT_KINDS = ("Shell", "PowerShell")
_URI_KEYS = MappingProxyType({"Shell": "scriptUri", "PowerShell": "scriptUri", "File": "sourceUri"})
_SECRET_KEYS = MappingProxyType({"WindowsRestart": ("restartCommand", "restartCheckCommand")})
_EXIT_MIN, _EXIT_MAX = -(2**31), 2**32 - 1


def check(ctx: RuleContext) -> None:
    _names(ctx)
    for step in ctx.steps():
        _uri(ctx, step)
        _checksum(ctx, step)
        _secrets(ctx, step)
        if step.kind in _SCRIPT_KINDS:
            _script_source(ctx, step)
        if step.kind == "Shell":
            if ctx.os_family == "windows":
                ctx.report(
                    C.AIB058,
                    f"Shell step {_label(step)} cannot run on a Windows image",
                    step.path + ("type",),
                )
            else:
                check_root_commands(ctx, step)
        elif step.kind == "PowerShell":
            _powershell(ctx, step)


def _label(step: Step) -> str:
    name = step.body.get("name")
    return repr(name) if is_str(name) and name else f"#{step.index + 1}"


def _names(ctx: RuleContext) -> None:
    for base, items in ctx.step_lists():
        seen: dict[str, int] = {}
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                continue
            name = item.get("name")
            if name is None or (is_str(name) and not name.strip()):
                what = "in-VM validation" if base[-1] == "inVMValidations" else "customize step"
                ctx.report(
                    C.AIB051,
                    f"{what} #{i + 1} ({item.get('type', 'no type')}) has no name",
                    base + (i,) + (("name",) if "name" in item else ()),
                )
                continue
            if not is_str(name) or ctx.opaque(name):
                continue
            if name in seen:
                ctx.report(
                    C.AIB050,
                    f"step name {name!r} is used by steps #{seen[name] + 1} and #{i + 1}",
                    base + (i, "name"),
                )
            else:
                seen[name] = i


def _uri(ctx: RuleContext, step: Step) -> None:
    key = _URI_KEYS.get(step.kind)
    value = step.body.get(key) if key else None
    if key is None or not is_str(value) or not value or ctx.opaque(value):
        return
    why = fetchable(value)
    if why is not None:
        ctx.report(
            C.AIB052, f"{key} {value!r} cannot be downloaded by the build VM: {why}", step.path + (key,)
        )


def _checksum(ctx: RuleContext, step: Step) -> None:
    if step.kind not in _URI_KEYS:
        return
    value = step.body.get("sha256Checksum")
    if not is_str(value) or not value or ctx.opaque(value):
        return
    path = step.path + ("sha256Checksum",)
    if not _HEX64.match(value):
        shown = value if len(value) <= 80 else value[:77] + "..."
        extra = f" ({len(value)} characters)" if len(value) != 64 else ""
        hint = None
        if value.lower().startswith("sha256:") or value.lower().startswith("sha256="):
            hint = "drop the 'sha256:' prefix; give the 64 hexadecimal digits only"
        ctx.report(
            C.AIB055, f"sha256Checksum {shown!r} is not 64 hexadecimal characters{extra}", path, hint=hint
        )
    uri_key = _URI_KEYS[step.kind]
    if step.kind in _SCRIPT_KINDS and not step.body.get(uri_key) and "inline" in step.body:
        ctx.report(C.AIB056, f"step {_label(step)} has sha256Checksum but runs inline commands", path)


def _secrets(ctx: RuleContext, step: Step) -> None:
    inline = as_list(step.body.get("inline")) if step.kind in _SCRIPT_KINDS else []
    # line by line (find_secret is memoised per line, and an inlined script's lines are the same
    # strings from compile to compile, so a recompile costs a lookup a line, not a scan of the text)
    for i, line in enumerate(inline):
        if type(line) is str and maybe_secret(line) and not ctx.opaque(line):
            hit = find_secret(line)
            if hit:
                ctx.report(
                    C.AIB053,
                    f"inline command {i + 1} of step {_label(step)} looks like it holds "
                    f"{hit.kind} ({hit.excerpt})",
                    step.path + ("inline", i),
                )
    for key in _SECRET_KEYS.get(step.kind, ()):
        text = step.body.get(key)
        hit = find_secret(text) if is_str(text) and not ctx.opaque(text) else None
        if hit:
            ctx.report(
                C.AIB053,
                f"{key} of step {_label(step)} looks like it holds {hit.kind} ({hit.excerpt})",
                step.path + (key,),
            )


def _script_source(ctx: RuleContext, step: Step) -> None:
    body = step.body
    has_uri = (
        is_str(body.get("scriptUri"))
        and body.get("scriptUri") != ""
        or (body.get("scriptUri") is not None and not is_str(body.get("scriptUri")))
    )
    has_inline = "inline" in body and body.get("inline") is not None
    if has_uri and has_inline:
        ctx.report(
            C.AIB054,
            f"{step.kind} step {_label(step)} has both scriptUri and inline",
            step.path + ("inline",),
            key=True,
        )
    elif not has_uri and not has_inline:
        ctx.report(C.AIB054, f"{step.kind} step {_label(step)} has neither scriptUri nor inline", step.path)
    elif has_inline and isinstance(body.get("inline"), list) and not body["inline"]:
        ctx.report(
            C.AIB054, f"{step.kind} step {_label(step)} has an empty inline list", step.path + ("inline",)
        )


def _powershell(ctx: RuleContext, step: Step) -> None:
    body = step.body
    if body.get("runAsSystem") is True and body.get("runElevated") is not True:
        ctx.report(
            C.AIB063,
            f"PowerShell step {_label(step)} sets runAsSystem without runElevated",
            step.path + ("runAsSystem",),
        )
    codes = body.get("validExitCodes")
    if not isinstance(codes, list):
        return
    ints: list[int] = []
    for i, code in enumerate(codes):
        if is_int(code):
            if not _EXIT_MIN <= code <= _EXIT_MAX:
                ctx.report(
                    C.AIB064,
                    f"exit code {code} is outside the 32-bit range",
                    step.path + ("validExitCodes", i),
                )
            ints.append(code)
    if ints and len(ints) == len(codes) and 0 not in ints:
        ctx.report(
            C.AIB062,
            f"validExitCodes {ints} of step {_label(step)} leaves out 0, so a script that "
            "succeeds fails the build",
            step.path + ("validExitCodes",),
        )
