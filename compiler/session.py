"""A compile session: what compiling many templates in one process may share.

Compiling a template asks the file system the same questions again and again: where a folder's
symbolic links lead (the project root, the profile folders, every profile and fragment), which
folder is the project root, what a source file holds, what a local file's sha256 is. A
:class:`CompileSession` remembers the answers for its life, so a batch (``aibtui compile
--batch``, ``make -j`` driving one process, a benchmark) asks each once.

What it assumes: folders and symbolic links do not move, and no profile is added that would
shadow the one a name found, while the session lives; file *contents* may change, so a text or a
digest is keyed by the file's ``stat`` (device, inode, size, mtime and ctime in nanoseconds) and a
changed file is read again. Create one per command run (the CLI does,
through ``CompileOptions.session``); a long-lived program (the TUI) compiles without one, or makes
a new one per save. Without a session every compile asks the file system afresh, as before.

Parsed texts and compiled expressions need no session: they are pure functions of the text and
are memoised where they are made (``sources.load_source``, ``render._compiled``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from .sources import safe_resolve

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the compile path
if TYPE_CHECKING:
    from typing import Any, TypeVar

    _T = TypeVar("_T")

_StatKey = tuple[int, int, int, int, int]


class CompileSession:
    """Caches shared by the compiles of one process run (see the module docstring)."""

    __slots__ = ("_real", "_roots", "_digests", "_by_stat", "texts", "profiles", "folders")

    def __init__(self) -> None:
        self._real: dict[str | tuple[str, str], Path] = {}
        self._roots: dict[str, Path] = {}
        self._digests: dict[tuple[str, _StatKey], tuple[int, str]] = {}
        self._by_stat: dict[tuple[str, str, _StatKey], Any] = {}
        # source texts that decoded cleanly, by path, with the stat they were read at (sources.read_source)
        self.texts: dict[str, tuple[tuple[int, ...], str]] = {}
        # the file a profile name found: (name, folder, search dirs..., built-in dir) -> path (resolve.py)
        self.profiles: dict[tuple[str, ...], Path] = {}
        # the folders a compile reads from, as resolve.py works them out from its options, the
        # working directory and AIBTUI_PROFILE_PATH: (root, search dirs, built-in dir, allowed dirs)
        self.folders: dict[tuple[Any, ...], tuple[Any, ...]] = {}

    def resolve(self, path: Path) -> Path:
        """:func:`sources.safe_resolve`, remembered by absolute path (a relative path is taken
        from the working directory of the moment, as ``Path.resolve`` takes it)."""
        text = os.fspath(path)
        # an absolute path is its own key; a relative one goes with the working directory (the
        # normalisation of os.path.abspath is only done on a miss: it is a pure function of both)
        key: str | tuple[str, str] = text if os.path.isabs(text) else (os.getcwd(), text)
        hit = self._real.get(key)
        if hit is None:
            hit = self._real[key] = safe_resolve(Path(os.path.abspath(text)))
        return hit

    def project_root(self, path: Path, find: Callable[[Path], Path]) -> Path:
        """The project root of ``path`` as ``find(path)`` gives it, remembered per folder."""
        path = path.absolute()
        folder = str(path if os.path.isdir(path) else path.parent)
        hit = self._roots.get(folder)
        if hit is None:
            hit = self._roots[folder] = find(path)
        return hit

    def sha256(self, path: Path) -> tuple[int, str]:
        """(size in bytes, sha256 hex digest) of a regular file, read again when its stat changes."""
        st = os.stat(path)
        key = (str(path), (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns))
        hit = self._digests.get(key)
        if hit is None:
            hit = self._digests[key] = file_sha256(path)
        return hit

    def by_stat(self, path: Path, kind: str, make: Callable[[Path], _T]) -> _T:
        """``make(path)``, a pure function of the file's content (``kind`` names it), remembered
        until the file's stat changes (the lines a `script:` inlines, for one)."""
        st = os.stat(path)
        key = (kind, str(path), (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns))
        if key in self._by_stat:
            hit: _T = self._by_stat[key]
            return hit
        made = self._by_stat[key] = make(path)
        return made


def file_sha256(path: Path) -> tuple[int, str]:
    """(size in bytes, sha256 hex digest) of ``path``, read now."""
    import hashlib  # lazily: only templates with local copies of remote files need it

    data = path.read_bytes()
    return len(data), hashlib.sha256(data).hexdigest()
