"""Options shared by the compiler commands (compile, check, config)."""

from __future__ import annotations

import argparse
from pathlib import Path

from aibtui.compiler import code_ids as C

from .main import UsageError


def add_compile_options(parser: argparse.ArgumentParser, *, output_format: bool = True) -> None:
    if output_format:
        parser.add_argument("--format", choices=("resource", "arm", "body"), default="resource",
                            help="resource: the image-template resource (default); arm: a deployment template; "
                                 "body: the REST PUT body")
    parser.add_argument("--api-version", metavar="VERSION",
                        help="target apiVersion (wins over `apiVersion:` in the file; default 2024-02-01)")
    parser.add_argument("--set", dest="sets", metavar="NAME=VALUE", action="append", default=[],
                        help="set a variable (repeatable); wins over `vars:`")
    parser.add_argument("--root", type=Path, metavar="DIR",
                        help="project root for include: and local files (default: nearest folder with .git "
                             "or aibtui.toml)")
    parser.add_argument("--allow-outside-root", action="store_true",
                        help="let include: and local files point outside the project root")
    parser.add_argument("--profile-path", type=Path, metavar="DIR", action="append", default=[],
                        help="another folder to look for profiles in (repeatable)")
    parser.add_argument("--allow-path", type=Path, metavar="DIR", action="append", default=[],
                        help="another folder extends:/include: may read from (repeatable; default: the project "
                             "root and the profile search path only)")
    parser.add_argument("--max-output", type=_size, metavar="CHARS", default=None,
                        help="output budget of one compile: characters of rendered text and of the JSON "
                             "(default 32M; suffixes K, M, G)")
    parser.add_argument("--schema-engine", choices=("builtin", "jsonschema"), default="builtin",
                        help="validator for the official ARM schema (default: builtin; jsonschema is the "
                             "reference implementation, slower to start)")


def _size(text: str) -> int:
    """``32M`` / ``500K`` / ``1G`` / ``1000`` -> characters."""
    t = text.strip().upper()
    scale = {"K": 1024, "M": 1024**2, "G": 1024**3}.get(t[-1:], 1)
    digits = t[:-1] if scale > 1 else t
    if not digits.isdigit() or int(digits) <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size (a positive number, optionally with K, M or G)")
    return int(digits) * scale


def compile_options(args: argparse.Namespace, fmt: str = "resource"):  # type: ignore[no-untyped-def]
    from aibtui.compiler.pipeline import CompileOptions
    from aibtui.compiler.session import CompileSession

    sets: dict[str, str] = {}
    for item in args.sets:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--set {item!r}: write --set NAME=VALUE")
        sets[name.strip()] = value
    return CompileOptions(
        format=getattr(args, "format", fmt) or fmt,
        api_version=args.api_version,
        sets=sets,
        root=args.root.resolve() if args.root else None,
        allow_outside_root=args.allow_outside_root,
        profile_path=tuple(args.profile_path),
        schema_engine=args.schema_engine,
        allow_paths=tuple(p.resolve() for p in getattr(args, "allow_path", [])),
        max_output=getattr(args, "max_output", None),
        session=CompileSession(),  # one per command run: a batch shares resolved folders and digests
    )


def argument_diagnostics(args: argparse.Namespace) -> list:  # type: ignore[type-arg]
    """Arguments that are not valid text (bytes that are not UTF-8 reach Python as surrogates):
    AIB123 at the argument (``<--set>:N``), instead of an encoding error when the output is written."""
    from aibtui.compiler.diagnostics import Diagnostic, Severity, Span

    def shown(text: str) -> str:
        return text.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace")

    out = []
    for i, item in enumerate(getattr(args, "sets", []), start=1):
        try:
            item.encode("utf-8")
        except UnicodeEncodeError:
            out.append(Diagnostic(C.AIB123, Severity.ERROR, f"--set {shown(item)}: the value is not valid UTF-8 text",
                                  Span("<--set>", i, 1), hint="pass --set values as UTF-8"))
    for label, attr in (("-o", "output"), ("--depfile", "depfile")):
        value = getattr(args, attr, None)
        try:
            str(value or "").encode("utf-8")
        except UnicodeEncodeError:
            out.append(Diagnostic(C.AIB123, Severity.ERROR, f"{label} {shown(str(value))}: the path is not valid "
                                  "UTF-8 text", Span(f"<{label}>", 1, 1), hint="name outputs with UTF-8 paths"))
    return out
