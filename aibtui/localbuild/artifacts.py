"""Artifacts of a local build: the customized rootfs as a tarball, and a VHD disk image made from it.

The VHD holds one ext4 file system with the rootfs (made with ``mke2fs -d``, no mounting, no root
needed) converted with ``qemu-img convert -O vpc -o subformat=fixed`` (the fixed VHD Azure takes).
It has no partition table, boot loader or kernel of its own: it is for inspecting and mounting the
result, not for booting in Azure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

from .model import SetupError
from .sandbox import run_tool_checked

EXCLUDES = ("./.aibtui", "./proc/*", "./sys/*", "./dev/*")


PARTIAL = ".partial"  # an artifact being written; renamed to its name when complete


def partial(dest: Path) -> Path:
    return dest.with_name(dest.name + PARTIAL)


def _complete(tmp: Path, dest: Path) -> Path:
    os.replace(tmp, dest)
    return dest


def make_tarball(root: Path, dest: Path, should_stop: Callable[[], str | None] | None = None) -> Path:
    """``dest`` (.tar): the rootfs with owners kept, without /proc, /sys, /dev contents. Sparse files
    stay sparse (``--sparse``). Written as ``dest.partial`` and renamed when complete."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = partial(dest)
    cmd = ["tar", "-c", "-f", str(tmp), "--sparse", "--numeric-owner", "-C", str(root)]
    cmd += [f"--exclude={e}" for e in EXCLUDES] + ["."]
    try:
        run_tool_checked(cmd, f"could not write the rootfs tarball {dest}", should_stop)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return _complete(tmp, dest)


def vhd_tools() -> str | None:
    """None when the VHD can be made, else what is missing (a sentence)."""
    missing = [t for t, pkg in (("qemu-img", "qemu-utils"), ("mke2fs", "e2fsprogs")) if shutil.which(t) is None]
    if not missing:
        return None
    pkgs = " ".join(pkg for t, pkg in (("qemu-img", "qemu-utils"), ("mke2fs", "e2fsprogs")) if t in missing)
    return f"making a VHD needs {' and '.join(missing)} (apt-get install {pkgs})"


def _size_mb(root: Path) -> int:
    total = 0
    for p in root.rglob("*"):
        try:
            if p.is_file() and not p.is_symlink():
                total += p.stat().st_size
        except OSError:
            pass
    return max(64, int(total * 1.3 / (1024 * 1024)) + 64)


def make_vhd(root: Path, dest: Path, work: Path, should_stop: Callable[[], str | None] | None = None) -> Path:
    """``dest`` (.vhd, fixed): an ext4 file system holding the rootfs."""
    missing = vhd_tools()
    if missing:
        raise SetupError(missing)
    raw = work / "disk.raw"
    size = _size_mb(root)
    run_tool_checked(["mke2fs", "-q", "-F", "-t", "ext4", "-L", "aibtui-root", "-d", str(root), "-E", "root_owner=0:0",
          str(raw), f"{size}M"], "could not make the ext4 file system for the VHD", should_stop)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = partial(dest)
    try:
        run_tool_checked(["qemu-img", "convert", "-f", "raw", "-O", "vpc", "-o", "subformat=fixed,force_size=on",
                          str(raw), str(tmp)], "could not convert the disk image to VHD", should_stop)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        raw.unlink(missing_ok=True)
    return _complete(tmp, dest)
