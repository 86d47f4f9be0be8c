"""`aibtui compile FILE... [-o OUT]`: *.aib.yaml -> image-template JSON.

Make-friendly: atomic writes; an unchanged output is not rewritten, but its mtime is refreshed
when an input is newer (so make reaches a no-op state); `--depfile` lists every file the output
depends on (profiles, includes, local scripts), `--batch` writes one depfile per output; on error
the output (and depfile) is removed so no stale JSON survives.

Safe: an output must be a regular file or a new path (never a device, FIFO, socket or folder) and
never an input of the compile (AIB121); write failures are AIB122 diagnostics, arguments that are
not valid text AIB123, all with exit 1.
"""

from __future__ import annotations

import argparse
import errno
import os
import sys
from pathlib import Path

from aibtui.compiler import code_ids as C

from .common import add_compile_options, argument_diagnostics, compile_options
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
    parser.add_argument("--batch", action="store_true",
                        help="one depfile per output, beside it with .d for .json (gcc's -MMD habit)")
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
        if args.depfile or args.batch:
            raise UsageError(f"{'--depfile' if args.depfile else '--batch'} needs -o OUT (a depfile names "
                             "the output)")
        return [None]
    out_path = Path(out)
    folder = len(files) > 1 or out.endswith(("/", "\\")) or out_path.is_dir()
    if folder:
        targets = [out_path / output_name(f) for f in files]
        seen: dict[str, Path] = {}
        for src, target in zip(files, targets, strict=True):
            key = os.path.abspath(target)
            if key in seen:
                raise UsageError(f"{seen[key]} and {src} would both be written to {target}; compile them into "
                                 "different folders")
            seen[key] = src
        return targets
    return [out_path]


def _escape_make(path: str) -> str:
    return path.replace("$", "$$").replace("#", "\\#").replace(" ", "\\ ")


def _depfile_for(target: Path) -> Path:
    """gcc's -MMD habit: the output's name with ``.d`` for its suffix (``out/web.json`` -> ``out/web.d``)."""
    return target.with_suffix(".d") if target.suffix else target.with_name(target.name + ".d")


def _refusal(path: Path, inputs: list[str], what: str) -> str | None:
    """Why ``path`` cannot be written as ``what`` (AIB121), or None."""
    from aibtui.fsutil import output_kind, same_file

    kind = output_kind(path)
    if kind is not None:
        stdout = " (for standard output, leave out -o or write -o -)" if kind != "a folder" else ""
        return f"{what} {path} is {kind}; only a regular file or a new path can be written{stdout}"
    for src in inputs:
        if same_file(path, src) or os.path.abspath(os.path.realpath(path)) == src:
            return f"{what} {path} is {src}, an input of this compile; refusing to overwrite it"
    return None


def _write(path: Path, text: str, what: str, diags: list, refresh_after: list[str] | None = None) -> bool:
    """Write one output; an I/O failure is an AIB122 diagnostic, never an exception."""
    from aibtui.compiler.diagnostics import Diagnostic, Severity, Span
    from aibtui.fsutil import OutputRefused, write_if_changed

    try:
        write_if_changed(path, text, refresh_after=refresh_after)
        return True
    except OutputRefused as exc:
        diags.append(Diagnostic(C.AIB121, Severity.ERROR, str(exc), Span(str(path), 1, 1)))
    except (OSError, UnicodeError) as exc:
        diags.append(Diagnostic(C.AIB122, Severity.ERROR, f"cannot write {what} {path}: {_why(path, exc)}",
                                Span(str(path), 1, 1),
                                hint="check that the folder exists and is writable, and that the file is not "
                                     "immutable (lsattr)"))
    return False


def _why(path: Path, exc: BaseException) -> str:
    if isinstance(exc, UnicodeError):
        return "the text cannot be encoded as UTF-8"
    assert isinstance(exc, OSError)
    if exc.errno == errno.ENOTDIR or isinstance(exc, FileExistsError):
        for parent in path.absolute().parents:
            if parent.exists() and not parent.is_dir():
                return f"{parent} is a file, not a folder"
        return "a parent of the path is not a folder"
    if exc.errno in (errno.EACCES, errno.EPERM):
        folder = path.absolute().parent
        if path.exists() and not os.access(folder, os.W_OK):
            return f"permission denied (the folder {folder} is not writable)"
        if path.exists():
            return "permission denied (the file is read-only or immutable)"
        return f"permission denied (the folder {folder} is not writable)"
    if exc.errno == errno.EROFS:
        return "the file system is read-only"
    if exc.errno == errno.ENOSPC:
        return "no space left on the device"
    return exc.strerror or str(exc)


def run(args: argparse.Namespace) -> int:
    from aibtui.compiler import compile_file
    from aibtui.fsutil import remove_stale

    bad_args = argument_diagnostics(args)
    if bad_args:
        emit(bad_args, args.diagnostics_format, notes=not args.no_notes)
        return 1
    options = compile_options(args)
    targets = _targets(args)
    status = 0
    dep_rules: list[str] = []
    all_ok = True
    for src, target in zip(args.files, targets, strict=True):
        result = compile_file(src, options)
        inputs = list(dict.fromkeys([os.path.realpath(src), *result.dependencies]))
        depfile = _depfile_for(target) if args.batch and target is not None else None
        diags = list(result.diagnostics)
        # The output (and depfile) must be a regular file or a new path, and not an input.
        if target is not None:
            for path, what in ((target, "output"), (depfile, "depfile"), (args.depfile, "depfile")):
                reason = _refusal(path, inputs, what) if path is not None else None
                if reason is None and path is not None and what == "depfile" and \
                        os.path.abspath(path) == os.path.abspath(target):
                    reason = f"depfile {path} is the output itself; give the depfile its own name"
                if reason is not None:
                    from aibtui.compiler.diagnostics import Diagnostic, Severity, Span

                    diags.append(Diagnostic(C.AIB121, Severity.ERROR, reason, Span(str(path), 1, 1),
                                            hint="write to a new path or a regular file that is not an input"))
        bad = failed(diags, args.warnings_as_errors) or result.text is None
        if bad or args.check or target is None:
            emit(diags, args.diagnostics_format, notes=not args.no_notes)
        if bad:
            status = 1
            all_ok = False
            if target is not None and not args.check and not any(d.code == C.AIB121 for d in diags):
                remove_stale(target)
                if depfile is not None:
                    remove_stale(depfile)
            continue
        assert result.text is not None
        if target is None:
            sys.stdout.write(result.text)
            continue
        if args.check:
            current = None
            try:
                if target.stat().st_size == len(result.text.encode("utf-8")):
                    current = target.read_text(encoding="utf-8")
                else:
                    current = ""
            except (OSError, UnicodeError):
                current = None
            if current != result.text:
                sys.stderr.write(f"{target}: {'missing' if current is None else 'out of date'} "
                                 f"(compile {src} to update it)\n")
                status = 1
            continue
        deps = list(result.dependencies)
        rules = f"{_escape_make(str(target))}: " + " ".join(_escape_make(d) for d in deps) + "\n"
        rules += "".join(f"{_escape_make(d)}:\n" for d in deps[1:])  # phony: a deleted include won't break make
        ok = _write(target, result.text, "output", diags, refresh_after=deps)
        if ok and depfile is not None:
            ok = _write(depfile, rules, "depfile", diags)
        emit(diags, args.diagnostics_format, notes=not args.no_notes)
        if not ok:
            status = 1
            all_ok = False
            continue
        dep_rules.append(rules)
    if args.depfile and not args.check:
        if all_ok:
            diags = []
            if not _write(args.depfile, "".join(dep_rules), "depfile", diags):
                emit(diags, args.diagnostics_format, notes=not args.no_notes)
                status = 1
        else:
            remove_stale(args.depfile)
    return status
