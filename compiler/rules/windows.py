"""Windows-only steps: WindowsRestart (WR-01, WR-02), WindowsUpdate (WU-01, WU-02), and PowerShell
steps that restart Windows by themselves (AIB605)."""

from __future__ import annotations

import re

from .. import code_ids as C
from .context import RuleContext, Step, as_list, is_str

_GO_DURATION = re.compile(r"^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$")
_PAUSE = re.compile(r"(?i)\b(?:Start-Sleep|sleep|timeout\s+/t|Wait-Process|Wait-Job)\b")
_SELF_RESTART = re.compile(r"(?i)\bRestart-Computer\b|\bshutdown(?:\.exe)?\s+(?:[/-]\w+\s+)*[/-]r\b")


def check(ctx: RuleContext) -> None:
    steps = [s for s in ctx.steps() if not s.validation]
    for pos, step in enumerate(steps):
        if step.kind == "WindowsRestart":
            _restart(ctx, step)
        elif step.kind == "WindowsUpdate":
            _update(ctx, step, steps[pos - 1] if pos else None)
        elif step.kind == "PowerShell" and ctx.os_family != "linux":
            for i, line in enumerate(as_list(step.body.get("inline"))):
                if is_str(line) and _may_restart(line) and _SELF_RESTART.search(line):
                    ctx.report(
                        C.AIB605,
                        f"inline command {line!r} restarts the VM outside a WindowsRestart step",
                        step.path + ("inline", i),
                    )
                    break


def _may_restart(line: str) -> bool:
    """Whether ``_SELF_RESTART`` can match: both its forms name one of these words (a substring test
    is far cheaper than the case-insensitive regex tried at every position of a long script line)."""
    low = line.lower()
    return "restart-computer" in low or "shutdown" in low


def _restart(ctx: RuleContext, step: Step) -> None:
    if ctx.os_family == "linux":
        ctx.report(C.AIB060, "WindowsRestart step in a Linux image", step.path + ("type",))
    timeout = step.body.get("restartTimeout")
    if is_str(timeout) and timeout and not ctx.opaque(timeout) and not _GO_DURATION.match(timeout):
        compact = timeout.replace(" ", "").lower()
        for long, short in (
            ("minutes", "m"),
            ("minute", "m"),
            ("mins", "m"),
            ("min", "m"),
            ("hours", "h"),
            ("hour", "h"),
            ("seconds", "s"),
            ("second", "s"),
            ("sec", "s"),
        ):
            compact = compact.replace(long, short)
        guess = compact if _GO_DURATION.match(compact) else None
        hint = f"did you mean {guess!r}?" if guess else None
        if timeout.strip().isdigit():
            hint = f"give a unit: {timeout.strip()}m for minutes"
        ctx.report(
            C.AIB061,
            f"restartTimeout {timeout!r} is not a magnitude and unit like 5m or 2h",
            step.path + ("restartTimeout",),
            hint=hint,
        )


def _update(ctx: RuleContext, step: Step, previous: Step | None) -> None:
    if ctx.os_family == "linux":
        ctx.report(C.AIB065, "WindowsUpdate step in a Linux image", step.path + ("type",))
        return
    for i, flt in enumerate(as_list(step.body.get("filters"))):
        if (
            is_str(flt)
            and flt
            and not ctx.opaque(flt)
            and not flt.lower().startswith(("include:", "exclude:"))
        ):
            ctx.report(
                C.AIB066,
                f"filter {flt!r} does not start with include: or exclude:",
                step.path + ("filters", i),
                hint=f'write "include:{flt}" or "exclude:{flt}"',
            )
    if previous is None or _settles(previous):
        return
    name = step.body.get("name")
    label = repr(name) if is_str(name) and name else f"#{step.index + 1}"
    prev = previous.body.get("name")
    prev_label = repr(prev) if is_str(prev) and prev else f"#{previous.index + 1}"
    where = step.path + ("type",)
    value, key = ctx.model.span_at(where), ctx.model.span_at(where, key=True)
    # `windowsUpdate:` with its settings below: the key's line, not the first line of the settings
    span = key if key is not None and value is not None and key.line != value.line else value
    ctx.diags.add(
        C.AIB067,
        f"WindowsUpdate step {label} follows step {prev_label} ({previous.kind or 'no type'}) "
        "without a restart or a pause",
        span,
    )


def _settles(step: Step) -> bool:
    """A WindowsRestart, or a script step whose inline commands sleep or wait."""
    if step.kind == "WindowsRestart":
        return True
    if step.kind in ("PowerShell", "Shell"):
        return any(is_str(line) and _PAUSE.search(line) for line in as_list(step.body.get("inline")))
    return False
