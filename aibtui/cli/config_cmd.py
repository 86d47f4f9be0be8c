"""`aibtui config FILE`: the merged, rendered dialect document, each value with where it came from."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from .common import add_compile_options, argument_diagnostics, compile_options
from .diagnostics_out import add_diagnostics_arguments, emit


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, metavar="FILE", help="a *.aib.yaml file")
    parser.add_argument("--output-format", choices=("yaml", "json"), default="yaml",
                        help="yaml: the document with `# origin` comments (default); json: {value, origin} pairs")
    add_compile_options(parser, output_format=False)
    add_diagnostics_arguments(parser)


def _origin(span: Any, builtin_dir: str) -> str:
    file = span.file
    if builtin_dir and file.startswith(builtin_dir):
        return f"builtin:{Path(file).name.removesuffix('.aib.yaml')}:{span.line}"
    try:
        rel = os.path.relpath(file)
        if not rel.startswith(".." + os.sep + ".."):
            file = rel
    except ValueError:
        pass
    return f"{file}:{span.line}"


def _scalar_text(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(str(value), ensure_ascii=False)


def render_yaml(node: Any, builtin_dir: str) -> str:
    from aibtui.compiler.nodes import Mapping, Scalar, Sequence

    lines: list[str] = []

    def walk(n: Any, indent: int, prefix: str) -> None:
        pad = " " * indent
        if isinstance(n, Scalar):
            lines.append(f"{pad}{prefix}{_scalar_text(n.value)}  # {_origin(n.span, builtin_dir)}")
        elif isinstance(n, Mapping):
            if not n.items:
                lines.append(f"{pad}{prefix}{{}}  # {_origin(n.span, builtin_dir)}")
                return
            if prefix:
                lines.append(f"{pad}{prefix.rstrip()}")
                pad_next = indent + (len(prefix) - len(prefix.lstrip("- "))) + 2
            else:
                pad_next = indent
            for k, v in n.items.items():
                walk(v, pad_next, f"{k}: ")
        elif isinstance(n, Sequence):
            if not n.items:
                lines.append(f"{pad}{prefix}[]  # {_origin(n.span, builtin_dir)}")
                return
            base = indent
            if prefix:
                lines.append(f"{pad}{prefix.rstrip()}")
                base = indent + (len(prefix) - len(prefix.lstrip("- "))) + 2
            for item in n.items:
                if isinstance(item, Mapping) and item.items:
                    for i, (k, v) in enumerate(item.items.items()):
                        walk(v, base, ("- " if i == 0 else "  ") + f"{k}: ")
                else:
                    walk(item, base, "- ")

    walk(node, 0, "")
    return "\n".join(lines) + "\n"


def to_json(node: Any, builtin_dir: str) -> Any:
    from aibtui.compiler.nodes import Mapping, Scalar, Sequence

    if isinstance(node, Scalar):
        return {"value": node.value if not hasattr(node.value, "isoformat") else node.value.isoformat(),
                "origin": _origin(node.span, builtin_dir)}
    if isinstance(node, Mapping):
        return {k: to_json(v, builtin_dir) for k, v in node.items.items()}
    if isinstance(node, Sequence):
        return [to_json(v, builtin_dir) for v in node.items]
    return None


def run(args: argparse.Namespace) -> int:
    from aibtui.compiler import compile_file
    from aibtui.compiler.resolve import default_builtin_dir

    bad_args = argument_diagnostics(args)
    if bad_args:
        emit(bad_args, args.diagnostics_format, notes=not getattr(args, "no_notes", False))
        return 1
    options = compile_options(args)
    result = compile_file(args.file, options)
    emit(result.diagnostics, args.diagnostics_format, notes=False)
    if result.resolved is None:
        return 1
    builtin = str(default_builtin_dir() or "")
    if args.output_format == "json":
        sys.stdout.write(json.dumps(to_json(result.resolved, builtin), indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(render_yaml(result.resolved, builtin))
    return 1 if result.errors else 0
