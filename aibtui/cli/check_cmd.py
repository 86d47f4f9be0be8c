"""`aibtui check FILE...`: diagnostics for dialect files and for existing template JSON / ARM templates."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .armparams import add_arm_arguments, not_checked, read_arm_parameters, strict, summary_lines
from .common import add_compile_options, argument_diagnostics, compile_options
from .diagnostics_out import add_diagnostics_arguments, emit, failed


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE",
                        help="*.aib.yaml files, image-template JSON, REST bodies or ARM deployment templates "
                             "(comments and trailing commas accepted)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no summary line")
    add_compile_options(parser, output_format=False)
    add_arm_arguments(parser)
    add_diagnostics_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from aibtui.compiler import check_file

    bad_args = argument_diagnostics(args)
    if bad_args:
        emit(bad_args, args.diagnostics_format, notes=not getattr(args, "no_notes", False))
        return 1
    options = compile_options(args)
    parameters, all_diags = read_arm_parameters(args)
    if any(d.severity.value == "error" for d in all_diags):
        emit(all_diags, args.diagnostics_format, notes=not args.no_notes)
        return 1
    templates = 0
    for path in args.files:
        result = check_file(path, options, parameters=parameters)
        all_diags.extend(result.diagnostics)
        templates += len(result.models)
    missing = not_checked(all_diags)
    if args.strict:
        all_diags = strict(all_diags)
    emit(all_diags, args.diagnostics_format, notes=not args.no_notes)
    errors = sum(1 for d in all_diags if d.severity.value == "error")
    warnings = sum(1 for d in all_diags if d.severity.value == "warning")
    if not args.quiet and args.diagnostics_format == "text":
        files = len(args.files)
        line = (f"checked {files} file{'s' * (files != 1)} ({templates} template"
                f"{'s' * (templates != 1)}): {errors} error{'s' * (errors != 1)}, "
                f"{warnings} warning{'s' * (warnings != 1)}")
        if missing:
            # never a silent pass: "0 errors" alone only when everything was checked
            line += (f"; {len(missing)} part{'s' * (len(missing) != 1)} NOT CHECKED"
                     + (" (--strict: errors)" if args.strict else " (--strict makes this an error)"))
        sys.stderr.write(line + "\n")
        for text in summary_lines(missing):
            sys.stderr.write(text + "\n")
    return 1 if failed(all_diags, args.warnings_as_errors) else 0
