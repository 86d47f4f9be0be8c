"""`aibtui schema`: print the JSON Schema of the *.aib.yaml dialect, for editors.

    aibtui schema -o aib.schema.json
    # then, at the top of a file:  # yaml-language-server: $schema=aib.schema.json

The output is deterministic (sorted keys, two-space indent, UTF-8, a trailing newline), so the
file can be checked in and diffed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", metavar="FILE", default=None,
                        help="write the schema to FILE (default: standard output)")


def render() -> str:
    from aibtui.compiler.dialect_schema import dialect_json_schema

    return json.dumps(dialect_json_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _write_atomic(path: Path, text: str) -> None:
    data = text.encode("utf-8")
    try:
        if path.read_bytes() == data:
            return  # unchanged: keep the mtime, so make does not rebuild what depends on it
    except OSError:
        pass
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=str(path.parent))
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


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
    try:
        _write_atomic(path, text)
    except OSError as exc:
        sys.stderr.write(f"aibtui schema: error: cannot write {path}: {exc.strerror or exc}\n")
        return 1
    return 0
