"""``python -m aibtui.localbuild busybox-rootfs DIR``: make the tiny test root filesystem.

A static busybox (``apt-get install busybox-static``) with its applets, /etc basics and a sudo
stand-in: enough for ``aibtui build FILE --rootfs DIR`` on machines without internet.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .model import SetupError
from .rootfs import make_busybox_rootfs


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "busybox-rootfs":
        sys.stderr.write("usage: python -m aibtui.localbuild busybox-rootfs DIR\n")
        return 2
    dest = Path(argv[1])
    if dest.exists() and any(dest.iterdir()):
        sys.stderr.write(f"{dest} exists and is not empty; choose a new folder\n")
        return 1
    try:
        make_busybox_rootfs(dest)
    except (SetupError, OSError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    print(f"busybox root filesystem ready in {dest}; build with: aibtui build FILE --rootfs {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
