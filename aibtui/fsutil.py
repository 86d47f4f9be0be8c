"""File writing that never leaves partial files behind."""

from __future__ import annotations

import os
from pathlib import Path


def write_if_changed(path: Path, data: str) -> bool:
    """Atomically replace ``path`` with ``data`` unless it already holds exactly that.

    An unchanged output keeps its mtime, so make does not rebuild what depends on it.
    Returns True when the file was written.
    """
    encoded = data.encode("utf-8")
    import stat

    try:
        mode = os.stat(path).st_mode
    except OSError:
        mode = 0
    if mode and not stat.S_ISREG(mode):  # /dev/null, /dev/stdout, a FIFO: write into it, never replace it
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(21, "is a directory", str(path))
        with open(path, "wb") as fh:
            fh.write(encoded)
        return True
    try:
        if path.read_bytes() == encoded:
            return False
    except OSError:
        pass
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(encoded)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.chmod(tmp, 0o666 & ~_umask())
        except OSError:
            pass
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return True


def remove_stale(path: Path) -> None:
    try:
        if path.is_file() or path.is_symlink():
            path.unlink()
    except OSError:
        pass


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
