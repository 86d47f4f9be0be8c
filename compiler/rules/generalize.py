"""G-04: the deprovisioning override is read from one exact path; near misses are silently ignored."""

from __future__ import annotations

import re
from typing import Any

from .context import RuleContext, Step, as_list, is_str

LINUX_SCRIPT = "/tmp/DeprovisioningScript.sh"
WINDOWS_SCRIPT = "c:\\DeprovisioningScript.ps1"
_PATHS = re.compile(r"""(?:\$env:SystemDrive|%SystemDrive%|[A-Za-z]:)?[\\/][^\s'"<>|;&,()`]*""")
_CANDIDATE = re.compile(r"(?i)de-?provision")


def check(ctx: RuleContext) -> None:
    for step in ctx.steps():
        if step.validation:
            continue
        if step.kind == "File":
            _check(ctx, step, step.body.get("destination"), step.path + ("destination",))
        elif step.kind in ("Shell", "PowerShell"):
            for i, line in enumerate(as_list(step.body.get("inline"))):
                _check(ctx, step, line, step.path + ("inline", i))


def _check(ctx: RuleContext, step: Step, text: Any, path: tuple[Any, ...]) -> None:
    if not is_str(text) or not _CANDIDATE.search(text):
        return
    for m in _PATHS.finditer(text):
        token = m.group(0)
        base = re.split(r"[\\/]", token)[-1]
        low = base.lower()
        if not _CANDIDATE.search(low) or not (low.endswith((".sh", ".ps1")) or "script" in low):
            continue
        problem = _problem(token, ctx.os_family)
        if problem:
            ctx.report(
                "AIB078",
                f"{token!r} {problem}",
                path,
                hint=f"write the override to {_expected(ctx.os_family, token)} exactly; any other name "
                "is ignored and the default generalization runs",
            )
            return


def _is_windows_script(token: str) -> bool:
    low = token.lower().replace("/", "\\")
    return low in (
        "c:\\deprovisioningscript.ps1",
        "$env:systemdrive\\deprovisioningscript.ps1",
        "%systemdrive%\\deprovisioningscript.ps1",
    )


def _problem(token: str, os_family: str | None) -> str | None:
    if token == LINUX_SCRIPT:
        return "is the Linux override path, but this is a Windows image" if os_family == "windows" else None
    if _is_windows_script(token):
        return "is the Windows override path, but this is a Linux image" if os_family == "linux" else None
    return "looks like the deprovisioning override, but the path or file name is not the exact one"


def _expected(os_family: str | None, token: str) -> str:
    if os_family == "windows":
        return WINDOWS_SCRIPT
    if os_family == "linux":
        return LINUX_SCRIPT
    return WINDOWS_SCRIPT if token.lower().endswith(".ps1") or ":" in token[:3] else LINUX_SCRIPT
