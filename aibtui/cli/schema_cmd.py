"""`aibtui schema`: print the JSON Schema of the *.aib.yaml dialect, for editors.

    aibtui schema -o aib.schema.json
    # then, at the top of a file:  # yaml-language-server: $schema=aib.schema.json

The output is deterministic (sorted keys, two-space indent, UTF-8, a trailing newline), so the
file can be checked in and diffed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", metavar="FILE", default=None,
                        help="write the schema to FILE (default: standard output)")


def render() -> str:
    from aibtui.compiler.dialect_schema import dialect_json_schema

    return json.dumps(dialect_json_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def run(args: argparse.Namespace) -> int:
    text = render()
    out = getattr(args, "output", None)
    if out is None or out == "-":
        sys.stdout.write(text)
        return 0
    path = Path(out)
    if not path.parent.is_dir():
        sys.stderr.write(f"aibtui schema: error: no such folder: {path.parent}\n")
        return 2
    from aibtui.fsutil import write_if_changed

    try:
        write_if_changed(path, text)
    except OSError as exc:
        sys.stderr.write(f"aibtui schema: error: cannot write {path}: {exc.strerror or exc}\n")
        return 1
    return 0
