"""File writing that never leaves partial files behind, and never writes through what is not a file.

Outputs are only ever regular files: a path that names a device (``/dev/null``, ``/dev/full``),
a FIFO, a socket or a folder is refused before anything is read from or written to it (reading
``/dev/zero`` "to see whether it changed" would never end; replacing ``/dev/null`` as root would
break the machine). A regular file is replaced atomically: a temporary file in the same folder,
``fsync``, then ``os.replace``. A symbolic link to a regular file is followed: the file it
names is replaced and the link stays.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from aibtui.compiler.errors import AibtuiError


class OutputRefused(AibtuiError, OSError):
    """The output path exists and is not a regular file (or would overwrite an input)."""


_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"))


def output_kind(path: Path) -> str | None:
    """None when ``path`` may be written as an output (a regular file, or nothing yet); else what it is.

    Symbolic links are followed; a dangling link counts as a new path (the link's target is created).
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        return None  # a parent is a file: writing reports it
    except OSError:
        return None  # unreadable: writing reports the real error
    if stat.S_ISREG(st.st_mode):
        return None
    for test, what in _KINDS:
        if test(st.st_mode):
            return what
    return "not a regular file"


def same_file(a: str | Path, b: str | Path) -> bool:
    """True when both paths exist and name the same file (hard links and symlinks included)."""
    try:
        sa, sb = os.stat(a), os.stat(b)
    except (OSError, ValueError):
        return False
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


def _real_target(path: Path) -> Path:
    """The path to replace: a symlink's (final) target, so the link itself survives."""
    if os.path.islink(path):
        return Path(os.path.realpath(path))
    return path


def write_if_changed(path: Path, data: str, *, refresh_after: list[str] | None = None) -> bool:
    """Atomically replace ``path`` with ``data`` unless it already holds exactly that.

    An unchanged output keeps its mtime, so make does not rebuild what depends on it, unless
    ``refresh_after`` names files newer than it (the inputs a make rule lists): then its mtime
    is refreshed (to now, or to the newest input if that lies in the future), so make sees the
    output up to date and reaches a no-op state.
    Raises :class:`OutputRefused` for a path that is not a regular file, OSError when writing fails.
    Returns True when the file was written.
    """
    kind = output_kind(path)
    if kind is not None:
        raise OutputRefused(f"{path} is {kind}, not a regular file; refusing to write to it")
    encoded = data.encode("utf-8", "surrogateescape")  # a file name that is not UTF-8 keeps its bytes
    target = _real_target(path)
    try:
        st = os.stat(target)
        if stat.S_ISREG(st.st_mode) and st.st_size == len(encoded):
            with open(target, "rb") as fh:
                same = fh.read(len(encoded) + 1) == encoded
            if same:
                if refresh_after:
                    _not_older(target, st.st_mtime_ns, refresh_after)
                return False
    except OSError:
        pass
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _temp_beside(target)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(encoded)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.chmod(tmp, 0o666 & ~_umask())
        except OSError:
            pass
        # Checked again just before the rename: a FIFO or device put there meanwhile is not replaced.
        kind = output_kind(target)
        if kind is not None:
            raise OutputRefused(f"{target} is {kind}, not a regular file; refusing to write to it")
        os.replace(tmp, target)
        if refresh_after:
            _not_older(target, os.stat(target).st_mtime_ns, refresh_after)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return True


_TEMP_FLAGS = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def _temp_beside(target: Path) -> tuple[int, str]:
    """A new file ``.NAME.RANDOM.tmp`` in ``target``'s folder, open for writing, mode 0600: what
    ``tempfile.mkstemp`` makes, with os-level calls only (tempfile's imports cost every start)."""
    for _ in range(100):
        tmp = os.path.join(target.parent, f".{target.name}.{os.urandom(6).hex()}.tmp")
        try:
            return os.open(tmp, _TEMP_FLAGS, 0o600), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name beside {target}")


def _not_older(target: Path, mtime_ns: int, files: list[str]) -> None:
    """Give ``target`` an mtime no older than any of ``files``: now, or the newest of them when one
    is dated in the future (clock skew, an unpacked archive), so make sees it up to date."""
    newest = 0
    for f in files:
        try:
            newest = max(newest, os.stat(f).st_mtime_ns)
        except OSError:
            continue
    if newest <= mtime_ns:
        return
    import time

    when = max(time.time_ns(), newest)
    try:
        os.utime(target, ns=(when, when))
    except OSError:
        pass  # an immutable or foreign file: make will just run the compile again


def remove_stale(path: Path) -> None:
    """Remove an old output (a regular file or a symlink); never a device, FIFO or folder."""
    try:
        if path.is_symlink():
            path.unlink()
        elif path.is_file():
            path.unlink()
    except OSError:
        pass


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
