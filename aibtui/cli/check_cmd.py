"""`aibtui check FILE...`: diagnostics for dialect files and for existing template JSON / ARM templates."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .common import add_compile_options, argument_diagnostics, compile_options
from .diagnostics_out import add_diagnostics_arguments, emit, failed


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE",
                        help="*.aib.yaml files, image-template JSON, REST bodies or ARM deployment templates "
                             "(comments and trailing commas accepted)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no summary line")
    add_compile_options(parser, output_format=False)
    add_diagnostics_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from aibtui.compiler import check_file

    bad_args = argument_diagnostics(args)
    if bad_args:
        emit(bad_args, args.diagnostics_format, notes=not getattr(args, "no_notes", False))
        return 1
    options = compile_options(args)
    all_diags = []
    templates = 0
    for path in args.files:
        result = check_file(path, options)
        all_diags.extend(result.diagnostics)
        templates += len(result.models)
    emit(all_diags, args.diagnostics_format, notes=not args.no_notes)
    errors = sum(1 for d in all_diags if d.severity.value == "error")
    warnings = sum(1 for d in all_diags if d.severity.value == "warning")
    if not args.quiet and args.diagnostics_format == "text":
        files = len(args.files)
        sys.stderr.write(f"checked {files} file{'s' * (files != 1)} ({templates} template"
                         f"{'s' * (templates != 1)}): {errors} error{'s' * (errors != 1)}, "
                         f"{warnings} warning{'s' * (warnings != 1)}\n")
    return 1 if failed(all_diags, args.warnings_as_errors) else 0
