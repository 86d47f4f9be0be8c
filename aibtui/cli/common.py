"""Options shared by the compiler commands (compile, check, config)."""

from __future__ import annotations

import argparse
from pathlib import Path

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
    parser.add_argument("--schema-engine", choices=("builtin", "jsonschema"), default="builtin",
                        help="validator for the official ARM schema (default: builtin; jsonschema is the "
                             "reference implementation, slower to start)")


def compile_options(args: argparse.Namespace, fmt: str = "resource"):  # type: ignore[no-untyped-def]
    from aibtui.compiler import CompileOptions

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
    )
