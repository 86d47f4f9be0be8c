"""G-04: the deprovisioning override is read from one exact path; near misses are silently ignored.
G-05: an image that installs the Hyper-V role may need Sysprep's `/mode:vm`, which only the override passes."""

from __future__ import annotations

import re

from .. import code_ids as C
from .context import RuleContext, Step, as_list, is_str

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the compile path
if TYPE_CHECKING:
    from typing import Any

LINUX_SCRIPT = "/tmp/DeprovisioningScript.sh"
WINDOWS_SCRIPT = "c:\\DeprovisioningScript.ps1"
_PATHS = re.compile(r"""(?:\$env:SystemDrive|%SystemDrive%|[A-Za-z]:)?[\\/][^\s'"<>|;&,()`]*""")
_CANDIDATE = re.compile(r"(?i)de-?provision")
_HYPERV_ROLE = re.compile(
    r"(?i)(?:(?:Install|Add)-WindowsFeature\b[^\n]*?\bHyper-V\b(?!-)"
    r"|Enable-WindowsOptionalFeature\b[^\n]*?\bMicrosoft-Hyper-V(?:-All|-Hypervisor)?\b(?!-)"
    r"|dism(?:\.exe)?\b[^\n]*?/FeatureName:Microsoft-Hyper-V(?:-All|-Hypervisor)?\b(?!-))"
)


def check(ctx: RuleContext) -> None:
    _hyperv(ctx)
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
                C.AIB078,
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


def _hyperv(ctx: RuleContext) -> None:
    """G-05: the first command that installs the Hyper-V role, when no step writes the override."""
    if ctx.os_family == "linux":
        return
    first: tuple[Any, ...] | None = None
    for step in ctx.steps():
        if step.validation:
            continue
        if step.kind == "File":
            dest = step.body.get("destination")
            if is_str(dest) and _is_windows_script(dest):
                return
        elif step.kind == "PowerShell":
            for i, line in enumerate(as_list(step.body.get("inline"))):
                if not is_str(line):
                    continue
                low = line.lower()
                if "deprovisioningscript.ps1" in low:
                    return
                # every form _HYPERV_ROLE knows names "hyper-v": test that first (the regex scans
                # each line lazily from every position, and inlined scripts are long)
                if first is None and "hyper-v" in low and _HYPERV_ROLE.search(line):
                    first = step.path + ("inline", i)
    if first is not None:
        ctx.report(C.AIB079, "this step installs the Hyper-V role, and no step writes the deprovisioning "
                   "override c:\\DeprovisioningScript.ps1; Sysprep may need `/mode:vm` for such an image", first)
