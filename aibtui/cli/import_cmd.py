"""`aibtui import FILE [-o OUT]`: image-template JSON, a REST body or an ARM template -> *.aib.yaml.

One template: standard output, or the file `-o` names (a folder, or a name ending in `/`, gets
`NAME.aib.yaml`). An ARM template with several image templates: `--resource NAME` picks one, or
`-o FOLDER` writes one file per template. Files are written atomically and only when the whole
import succeeded; on errors nothing is written and the exit code is 1.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from aibtui.compiler import code_ids as C

from .armparams import add_arm_arguments, not_checked, read_arm_parameters, strict
from .diagnostics_out import add_diagnostics_arguments, emit, failed
from .main import UsageError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, metavar="FILE",
                        help="an image-template resource, a REST body / GET export, or an ARM deployment template "
                             "(comments, trailing commas, CRLF and a BOM are accepted)")
    parser.add_argument("-o", "--output", metavar="OUT",
                        help="output file, or folder (an existing folder, a trailing /, or several templates); "
                             "'-' or none: standard output")
    parser.add_argument("--resource", metavar="NAME", help="import only the image template with this name")
    parser.add_argument("--api-version", metavar="VERSION",
                        help="apiVersion for a REST body (which carries it in the URL, not in the body)")
    parser.add_argument("--no-profile", action="store_true",
                        help="do not offer a built-in profile as extends:, even when the source matches one")
    add_arm_arguments(parser, verb="import")
    add_diagnostics_arguments(parser)


def _file_name(name: str | None, src: Path, index: int, count: int) -> str:
    if name and re.fullmatch(r"[A-Za-z0-9._-]{1,64}", name):
        return f"{name}.aib.yaml"
    stem = src.name.split(".")[0] or "template"
    return f"{stem}.aib.yaml" if count == 1 else f"{stem}-{index + 1}.aib.yaml"


def run(args: argparse.Namespace) -> int:
    from aibtui.compiler.importer import ImportOptions, import_file
    from aibtui.compiler.model import STABLE_API_VERSIONS
    from aibtui.fsutil import write_if_changed

    if args.api_version and args.api_version not in STABLE_API_VERSIONS:
        raise UsageError(f"--api-version {args.api_version}: use one of {', '.join(STABLE_API_VERSIONS)}")
    parameters, read_diags = read_arm_parameters(args)
    if any(d.severity.value == "error" for d in read_diags):
        emit(read_diags, args.diagnostics_format, notes=not args.no_notes)
        return 1
    options = ImportOptions(resource=args.resource, api_version=args.api_version, profiles=not args.no_profile,
                            parameters=parameters)
    result = import_file(args.file, options)
    diagnostics = read_diags + list(result.diagnostics)
    if args.strict and not_checked(diagnostics):
        diagnostics = strict(diagnostics)
    templates = [t for t in result.templates if t.text is not None]
    out = args.output
    to_stdout = out is None or out == "-"
    if len(result.templates) > 1 and to_stdout:
        from aibtui.compiler.diagnostics import DiagnosticBag, Span

        bag = DiagnosticBag()
        names = ", ".join(t.name or "(unnamed)" for t in result.templates)
        bag.add(C.AIB801, f"{args.file} holds {len(result.templates)} image templates ({names}); one *.aib.yaml "
                "each needs -o FOLDER, or pick one with --resource NAME", Span(str(args.file), 1, 1))
        diagnostics.extend(bag.items)
    emit(diagnostics, args.diagnostics_format, notes=not args.no_notes)
    if failed(diagnostics, args.warnings_as_errors) or not templates or len(templates) != len(result.templates):
        return 1
    if to_stdout:
        sys.stdout.write(templates[0].text or "")
        return 0
    out_path = Path(out)
    folder = len(templates) > 1 or out.endswith(("/", "\\")) or out_path.is_dir()
    targets = [out_path / _file_name(t.name, args.file, i, len(templates)) if folder else out_path
               for i, t in enumerate(templates)]
    if len(set(targets)) != len(targets):
        targets = [out_path / _file_name(None, args.file, i, len(templates)) for i in range(len(templates))]
    for target, tpl in zip(targets, templates, strict=True):
        try:
            write_if_changed(target, tpl.text or "")
        except OSError as exc:
            sys.stderr.write(f"{target}: error: cannot write: {exc.strerror or exc}\n")
            return 1
        if args.diagnostics_format == "text":
            unset = [v.name for v in tpl.variables if v.value is None]
            extra = f"; set {', '.join(unset)} (--set NAME=VALUE)" if unset else ""
            profile = f", extends {tpl.profile}" if tpl.profile else ""
            sys.stderr.write(f"wrote {target}{profile}{extra}\n")
    return 0
