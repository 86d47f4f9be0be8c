"""`aibtui compile FILE... [-o OUT]`: *.aib.yaml -> image-template JSON.

Make-friendly: atomic writes, an unchanged output keeps its mtime, `--depfile` lists every file
the output depends on (profiles, includes, local scripts), and on error the output (and depfile)
is removed so no stale JSON survives.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .common import add_compile_options, compile_options
from .diagnostics_out import add_diagnostics_arguments, emit, failed
from .main import UsageError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE", help="*.aib.yaml files")
    parser.add_argument("-o", "--output", metavar="OUT",
                        help="output file, or folder (several inputs, an existing folder, or a trailing /); "
                             "'-' or none: standard output (one input)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if an output file would change")
    parser.add_argument("--depfile", type=Path, metavar="FILE",
                        help="write a make depfile listing every input the output depends on")
    add_compile_options(parser)
    add_diagnostics_arguments(parser)


def output_name(src: Path) -> str:
    name = src.name
    for suffix in (".aib.yaml", ".aib.yml", ".yaml", ".yml"):
        if name.endswith(suffix):
            return name[: -len(suffix)] + ".json"
    return name + ".json"


def _targets(args: argparse.Namespace) -> list[Path | None]:
    out = args.output
    files: list[Path] = args.files
    if out is None or out == "-":
        if len(files) > 1:
            raise UsageError("several inputs need -o FOLDER")
        if args.check:
            raise UsageError("--check compares with output files: give -o")
        if args.depfile:
            raise UsageError("--depfile needs -o OUT (the depfile names the output)")
        return [None]
    out_path = Path(out)
    folder = len(files) > 1 or out.endswith(("/", "\\")) or out_path.is_dir()
    if folder:
        return [out_path / output_name(f) for f in files]
    return [out_path]


def _escape_make(path: str) -> str:
    return path.replace("$", "$$").replace("#", "\\#").replace(" ", "\\ ")


def run(args: argparse.Namespace) -> int:
    from aibtui.compiler import compile_file
    from aibtui.fsutil import remove_stale, write_if_changed

    options = compile_options(args)
    targets = _targets(args)
    status = 0
    dep_rules: list[str] = []
    all_ok = True
    for src, target in zip(args.files, targets, strict=True):
        result = compile_file(src, options)
        emit(result.diagnostics, args.diagnostics_format, notes=not args.no_notes)
        bad = failed(result.diagnostics, args.warnings_as_errors) or result.text is None
        if bad:
            status = 1
            all_ok = False
            if target is not None and not args.check:
                remove_stale(target)
            continue
        assert result.text is not None
        if target is None:
            sys.stdout.write(result.text)
            continue
        if args.check:
            try:
                current = target.read_text(encoding="utf-8")
            except OSError:
                current = None
            if current != result.text:
                sys.stderr.write(f"{target}: {'missing' if current is None else 'out of date'} "
                                 f"(compile {src} to update it)\n")
                status = 1
            continue
        write_if_changed(target, result.text)
        deps = [d for d in result.dependencies]
        dep_rules.append(f"{_escape_make(str(target))}: " + " ".join(_escape_make(d) for d in deps) + "\n")
        dep_rules.extend(f"{_escape_make(d)}:\n" for d in deps[1:])  # phony: a deleted include won't break make
    if args.depfile and not args.check:
        if all_ok:
            write_if_changed(args.depfile, "".join(dep_rules))
        else:
            remove_stale(args.depfile)
    return status
