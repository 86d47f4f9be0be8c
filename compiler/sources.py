"""Reading source files safely, and parsing them once.

Every file the compiler reads (the compiled file, profiles, includes) goes through
:func:`read_source`: a regular file (never a FIFO or /dev/zero) of bounded size, decoded as UTF-8.
:func:`load_source` parses it; parses of small texts are memoised (a pure function of the text:
nodes are immutable), so compiling many templates that share profiles, or recompiling as the TUI
edits, does not parse the same profile again.
"""

from __future__ import annotations

import os
import stat
from functools import lru_cache
from pathlib import Path

from . import code_ids as C
from .diagnostics import Diagnostic, DiagnosticBag, Span
from .nodes import Node

MAX_INPUT_BYTES = 4 * 1024 * 1024
_MEMO_MAX_CHARS = 64 * 1024


def safe_resolve(path: Path) -> Path:
    """``path.resolve()``, but a symlink loop (RuntimeError) or an unreadable folder gives the plain
    absolute path instead of an exception; reading it then fails with a diagnostic."""
    try:
        return path.resolve()
    except (RuntimeError, OSError):
        return Path(os.path.abspath(path))


def is_within(path: Path, folder: Path) -> bool:
    """``path.is_relative_to(folder)`` for absolute, resolved paths, compared by their text (the
    compile path asks this for every file it reads; no PurePath objects are made)."""
    p, f = str(path), str(folder)
    return p == f or p.startswith(f if f.endswith(os.sep) else f + os.sep)


def read_source(path: Path, diags: DiagnosticBag, *, span: Span | None = None, label: str | None = None,
                texts: dict[str, tuple[tuple[int, ...], str]] | None = None) -> str | None:
    """The text of ``path``, or None with a diagnostic at ``span`` (default: the file itself).

    ``texts`` (a :class:`session.CompileSession`'s) keeps texts that decoded cleanly, keyed by the
    file's stat (device, inode, size, mtime and ctime in nanoseconds): an unchanged file is not
    read again, a changed one is.
    """
    from .yamlload import decode_text

    label = label or str(path)
    where = span or Span(str(path), 1, 1)
    try:
        st = path.stat()
    except FileNotFoundError:
        diags.add(C.AIB100, f"no such file: {label}", where)
        return None
    except OSError as exc:
        diags.add(C.AIB100, f"cannot read {label}: {exc.strerror or exc}", where)
        return None
    if stat.S_ISDIR(st.st_mode):
        diags.add(C.AIB100, f"{label} is a folder, not a file", where)
        return None
    if not stat.S_ISREG(st.st_mode):
        diags.add(C.AIB100, f"{label} is not a regular file", where, hint="give the path of a .aib.yaml or .json file")
        return None
    if st.st_size > MAX_INPUT_BYTES:
        diags.add(C.AIB103, f"{label} is {st.st_size} bytes; the limit is {MAX_INPUT_BYTES}", where)
        return None
    key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    if texts is not None:
        hit = texts.get(str(path))
        if hit is not None and hit[0] == key:
            return hit[1]
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_INPUT_BYTES + 1)
    except OSError as exc:
        diags.add(C.AIB100, f"cannot read {label}: {exc.strerror or exc}", where)
        return None
    if len(data) > MAX_INPUT_BYTES:
        diags.add(C.AIB103, f"{label} is larger than {MAX_INPUT_BYTES} bytes", where)
        return None
    if texts is None:
        return decode_text(data, str(path), diags)
    before = len(diags.items)
    text = decode_text(data, str(path), diags)
    if text is not None and len(diags.items) == before and len(data) == st.st_size:
        texts[str(path)] = (key, text)
    return text


@lru_cache(maxsize=256)
def _parse(text: str, file: str) -> tuple[Node | None, tuple[Diagnostic, ...]]:
    from .yamlload import load_yaml

    bag = DiagnosticBag()
    node = load_yaml(text, file, bag)
    return node, tuple(bag.items)


def load_source(text: str, file: str, diags: DiagnosticBag) -> Node | None:
    """Parse YAML text (memoised for small texts); diagnostics are added to ``diags``."""
    if len(text) > _MEMO_MAX_CHARS:
        from .yamlload import load_yaml

        return load_yaml(text, file, diags)
    node, found = _parse(text, file)
    diags.extend(list(found))
    return node
