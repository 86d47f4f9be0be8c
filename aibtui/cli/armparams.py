"""`--parameters` and `--strict` for `check` and `import` on ARM templates, and the "not checked" summary."""

from __future__ import annotations

import argparse
from typing import Any

from aibtui.compiler import code_ids as C

# what could not be checked: values known only at deployment (AIB720), expressions not evaluated
# (AIB715), parts of an ARM template not followed (AIB717: linked templates, depth)
NOT_CHECKED = (C.AIB715, C.AIB717, C.AIB720)


def add_arm_arguments(parser: argparse.ArgumentParser, *, verb: str = "check") -> None:
    parser.add_argument("-p", "--parameters", dest="arm_parameters", action="append", default=[],
                        metavar="FILE.json|NAME=VALUE",
                        help="ARM template parameter values, like `az deployment ... --parameters`: an ARM "
                             "parameters file or NAME=VALUE (repeatable; later ones win)")
    what = "anything not checked" if verb == "check" else "any value known only at deployment"
    parser.add_argument("--strict", action="store_true",
                        help=f"exit 1 when {what} (a value known only at deployment, a linked template ...)")


def read_arm_parameters(args: argparse.Namespace) -> tuple[dict[str, Any] | None, list[Any]]:
    """(values by name or None when there are none, diagnostics of reading them)."""
    if not args.arm_parameters:
        return None, []
    from aibtui.compiler.armeval.params import read_parameters
    from aibtui.compiler.diagnostics import DiagnosticBag

    bag = DiagnosticBag()
    values = read_parameters(list(args.arm_parameters), bag)
    return values, bag.sorted()


def not_checked(diagnostics: list[Any]) -> list[Any]:
    return [d for d in diagnostics if d.code in NOT_CHECKED]


def strict(diagnostics: list[Any]) -> list[Any]:
    """Each "not checked" note becomes an error (AIB726), in place."""
    from aibtui.compiler.diagnostics import Diagnostic, Severity

    out = []
    for d in diagnostics:
        if d.code in NOT_CHECKED:
            d = Diagnostic(code=C.AIB726, severity=Severity.ERROR, message=f"not checked (--strict): {d.message}",
                           span=d.span, rule=d.rule,
                           hint="give the missing values with --parameters, or drop --strict to accept a "
                                "partial check")
        out.append(d)
    return out


def summary_lines(diagnostics: list[Any]) -> list[str]:
    lines = []
    for d in not_checked(diagnostics):
        where = f"{d.span.file}:{d.span.line}" if d.span else "<input>"
        lines.append(f"  {where}: {d.message}")
    return lines
