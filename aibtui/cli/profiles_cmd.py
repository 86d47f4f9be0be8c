"""`aibtui profiles [show NAME]`: the built-in and user profiles that `extends:` can name."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", nargs="?", choices=("list", "show"), default="list",
                        help="list (default) or show NAME")
    parser.add_argument("name", nargs="?", help="the profile to show")
    parser.add_argument("--near", type=Path, default=Path.cwd(),
                        help="look for user profiles next to this file or folder (default: the current folder)")
    parser.add_argument("--profile-path", type=Path, metavar="DIR", action="append", default=[],
                        help="another folder to look for profiles in (repeatable)")


def _facts(path: Path) -> tuple[str, str]:
    """(os, generation) read from the profile, for the listing; blank when absent or unreadable."""
    from aibtui.compiler.diagnostics import DiagnosticBag
    from aibtui.compiler.nodes import Mapping, Scalar
    from aibtui.compiler.yamlload import load_yaml

    try:
        node = load_yaml(path.read_text(encoding="utf-8"), str(path), DiagnosticBag())
    except OSError:
        return "", ""
    if not isinstance(node, Mapping):
        return "", ""
    out = []
    for key in ("os", "generation"):
        v = node.items.get(key)
        out.append(str(v.value) if isinstance(v, Scalar) and v.value is not None else "")
    return out[0], out[1]


def run(args: argparse.Namespace) -> int:
    from aibtui.compiler.resolve import ResolveOptions, find_profile, list_profiles

    options = ResolveOptions(profile_path=tuple(args.profile_path))
    near = args.near if args.near.is_dir() else args.near.parent
    if args.action == "show":
        if not args.name:
            sys.stderr.write("aibtui profiles show: name the profile (see `aibtui profiles`)\n")
            return 2
        path = find_profile(args.name, options, near / "_")
        if path is None:
            from difflib import get_close_matches

            names = [p.name for p in list_profiles(options, near / "_")]
            near_names = get_close_matches(args.name, names, n=3)
            sys.stderr.write(f"aibtui profiles: no profile named '{args.name}'"
                             + (f"; did you mean {', '.join(near_names)}?" if near_names else "") + "\n")
            return 1
        sys.stdout.write(f"# {path}\n")
        sys.stdout.write(path.read_text(encoding="utf-8"))
        return 0
    profiles = list_profiles(options, near / "_")
    if not profiles:
        sys.stdout.write("no profiles found\n")
        return 0
    width = max(len(p.name) for p in profiles)
    for p in profiles:
        os_family, gen = _facts(p.path)
        where = "built-in" if p.builtin else os.path.relpath(p.path)
        facts = " ".join(x for x in (os_family, gen) if x)
        sys.stdout.write(f"{p.name:<{width}}  {facts:<13} {p.description or ''}"
                         + ("" if p.builtin else f"  ({where})") + "\n")
    return 0
