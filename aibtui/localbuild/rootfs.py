"""The base root filesystem of a local build: where it comes from, and a fresh copy per run.

Resolution, first match wins:

1. ``--rootfs PATH`` on ``aibtui build`` (the run request's ``rootfs`` parameter);
2. the local image catalog: the template's source is a ManagedImage / SharedImageVersion that an
   earlier local build produced;
3. the config file's ``[local.rootfs]`` table, keyed by marketplace URN (``publisher:offer:sku``,
   optionally ``:version``) or image id; a value is a folder, a tarball, or an https URL of a tarball
   with a ``SHA256SUMS`` file beside it;
4. with ``[local] download = true``: the distribution's official cloud rootfs for a few known
   marketplace images (:data:`OFFICIAL`), downloaded once with progress, verified against the
   distribution's ``SHA256SUMS``, cached under ``<state>/local/cache``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .model import LocalOptions, RootfsChoice, SetupError
from .sandbox import run_tool_checked

TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.xz", ".txz", ".tar.zst", ".tar.bz2")
_UBUNTU = "https://cloud-images.ubuntu.com/releases/{rel}/release/ubuntu-{ver}-server-cloudimg-amd64-root.tar.xz"
# marketplace publisher:offer:sku (lower-case) -> the distribution's official rootfs tarball
OFFICIAL: dict[str, str] = {
    "canonical:0001-com-ubuntu-server-jammy:22_04-lts": _UBUNTU.format(rel="22.04", ver="22.04"),
    "canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2": _UBUNTU.format(rel="22.04", ver="22.04"),
    "canonical:ubuntu-24_04-lts:server": _UBUNTU.format(rel="24.04", ver="24.04"),
    "canonical:ubuntu-24_04-lts:server-gen1": _UBUNTU.format(rel="24.04", ver="24.04"),
    "canonical:0001-com-ubuntu-server-focal:20_04-lts": _UBUNTU.format(rel="20.04", ver="20.04"),
    "canonical:0001-com-ubuntu-server-focal:20_04-lts-gen2": _UBUNTU.format(rel="20.04", ver="20.04"),
}
HOW_TO_PROVIDE = "pass `--rootfs PATH` to `aibtui build`, or map the source under [local.rootfs] in the config file"


def source_label(source: dict[str, Any]) -> str:
    if source.get("type") == "PlatformImage":
        return ":".join(str(source.get(k, "")) for k in ("publisher", "offer", "sku", "version"))
    return str(source.get("imageId") or source.get("imageVersionId") or source.get("imageVersionID")
               or source.get("type") or "?")


def source_keys(source: dict[str, Any]) -> list[str]:
    """Lower-cased keys a rootfs mapping or the local image catalog may know this source by."""
    if source.get("type") == "PlatformImage":
        urn = [str(source.get(k, "")) for k in ("publisher", "offer", "sku")]
        version = str(source.get("version", "latest"))
        base = ":".join(urn).lower()
        return [f"{base}:{version.lower()}", base]
    ident = str(source.get("imageId") or source.get("imageVersionId") or source.get("imageVersionID") or "")
    if not ident:
        return []
    keys = [ident.lower()]
    if "/versions/" in ident.lower():  # a gallery version: the image definition ("latest") too
        keys.append(ident.lower().split("/versions/", 1)[0])
    return keys


def classify(location: str, found_by: str) -> RootfsChoice:
    """A folder, a tarball or a download URL; raises SetupError when it is none of them."""
    scheme = urlsplit(location).scheme.lower()
    if scheme in ("http", "https"):
        return RootfsChoice("download", location, found_by)
    path = Path(os.path.expanduser(location[7:] if location.startswith("file://") else location))
    if path.is_dir():
        return RootfsChoice("folder", str(path.resolve()), found_by)
    if path.is_file() and path.name.lower().endswith(TAR_SUFFIXES):
        return RootfsChoice("tarball", str(path.resolve()), found_by)
    if path.exists():
        raise SetupError(f"root filesystem {location} ({found_by}) is neither a folder nor a tarball "
                         f"({', '.join(TAR_SUFFIXES)})")
    raise SetupError(f"root filesystem {location} ({found_by}) does not exist")


def resolve(source: dict[str, Any], opts: LocalOptions, catalog: ImageCatalog,
            explicit: str | None = None) -> RootfsChoice | str:
    """The rootfs to build from, or why there is none (a sentence that says how to provide one).
    Raises SetupError when a named rootfs is unusable."""
    if explicit:
        if not (explicit.startswith(("/", "file://", "https://")) or explicit.startswith("http://127.0.0.1")):
            raise SetupError(f"rootfs {explicit!r} must be an absolute path (the service does not share your "
                             "working directory)")
        return classify(explicit, "--rootfs")
    keys = source_keys(source)
    for key in keys:
        hit = catalog.lookup(key)
        if hit is not None:
            return classify(hit, f"local image {key}")
    mapping = dict(opts.rootfs_map)
    for key in keys:
        if key in mapping:
            return classify(mapping[key], f"config [local.rootfs] '{key}'")
    if source.get("type") == "PlatformImage":
        official = OFFICIAL.get(keys[1] if len(keys) > 1 else "")
        if official and opts.download:
            return RootfsChoice("download", official, "the distribution's official cloud rootfs")
        if official:
            return (f"no root filesystem for {source_label(source)}: {HOW_TO_PROVIDE}, or set `download = true` "
                    "under [local] to fetch the official cloud rootfs once")
    if source.get("type") in ("ManagedImage", "SharedImageVersion"):
        return (f"no root filesystem for {source_label(source)}: it is not an image a local build made; "
                f"{HOW_TO_PROVIDE}")
    return f"no root filesystem for {source_label(source)}: {HOW_TO_PROVIDE}"


# -- copies ------------------------------------------------------------------------------------
def materialize(choice: RootfsChoice, dest: Path, cached_tarball: Path | None = None,
                should_stop: Callable[[], str | None] | None = None) -> None:
    """A fresh copy of the rootfs in ``dest`` (created; must not exist). Stoppable (cancel, timeout)."""
    dest.mkdir(parents=True, mode=0o755)
    if choice.kind == "folder":
        cmd = ["cp", "-a", "--reflink=auto", f"{choice.location}/.", str(dest)]
    else:
        tarball = cached_tarball or Path(choice.location)
        cmd = ["tar", "-x", "-p", "--numeric-owner", "-f", str(tarball), "-C", str(dest)]
    run_tool_checked(cmd, f"could not copy the root filesystem {choice.location}", should_stop)
    if not (dest / "bin").exists() and not (dest / "usr" / "bin").exists():
        raise SetupError(f"{choice.location} does not look like a root filesystem (no /bin or /usr/bin)")


def remove_tree(path: Path) -> None:
    """Remove a run's folder, even read-only parts a step left behind."""
    if not path.exists():
        return

    def _retry(func: Callable[..., Any], p: str, exc_info: Any) -> None:
        try:
            os.chmod(os.path.dirname(p), 0o755)
            func(p)
        except OSError:
            pass

    shutil.rmtree(path, onerror=_retry)


# -- downloads ---------------------------------------------------------------------------------
def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme == "https":
        return
    if parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1"):
        return  # a loopback mirror (and the tests' server)
    raise SetupError(f"refusing to download a root filesystem over {parts.scheme or 'no scheme'}: {url} "
                     "(https only)")


def published_checksum(url: str, timeout: float = 30.0) -> str:
    """The sha256 the distribution publishes for ``url`` in ``SHA256SUMS`` beside it."""
    base, _, name = url.rpartition("/")
    sums_url = f"{base}/SHA256SUMS"
    _check_url(sums_url)
    try:
        with urllib.request.urlopen(sums_url, timeout=timeout) as resp:  # noqa: S310 - scheme checked
            text = resp.read(4 * 1024 * 1024).decode("utf-8", "replace")
    except OSError as exc:
        raise SetupError(f"could not read the published checksums {sums_url}: {exc}") from exc
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].lstrip("*") == name and len(parts[0]) == 64:
            return parts[0].lower()
    raise SetupError(f"{sums_url} lists no checksum for {name}")


def fetch_verified(url: str, cache: Path, progress: Callable[[int, int | None], None],
                   timeout: float = 60.0) -> Path:
    """Download ``url`` once into ``cache``, verified against the published SHA256SUMS.
    ``progress(done_bytes, total_or_None)`` is called as data arrives (it may raise to stop)."""
    _check_url(url)
    expected = published_checksum(url, timeout)
    name = url.rpartition("/")[2] or "rootfs.tar"
    cache.mkdir(parents=True, exist_ok=True, mode=0o700)
    final = cache / f"{expected[:16]}-{name}"
    if final.is_file():
        return final
    fd, tmp = tempfile.mkstemp(dir=cache, prefix=".part-")
    digest = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310
            total_h = resp.headers.get("Content-Length")
            total = int(total_h) if total_h and total_h.isdigit() else None
            done = 0
            progress(0, total)
            while True:
                chunk = resp.read(1024 * 1024)
                if not chunk:
                    break
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                progress(done, total)
        got = digest.hexdigest()
        if got != expected:
            raise SetupError(f"sha256 mismatch for {url}: the download has {got}, the published SHA256SUMS says "
                             f"{expected}; nothing was cached")
        os.replace(tmp, final)
    except OSError as exc:
        raise SetupError(f"could not download {url}: {exc}") from exc
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return final


# -- the local image catalog -------------------------------------------------------------------
class ImageCatalog:
    """Images made by local builds: artifact id (lower-case) -> the rootfs tarball. ``images.json``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def _read(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def lookup(self, key: str) -> str | None:
        with self._lock:
            entry = self._read().get(key.lower())
        if not entry:
            return None
        rootfs = str(entry.get("rootfs", ""))
        return rootfs if rootfs and Path(rootfs).exists() else None

    def referenced(self) -> set[str]:
        """The rootfs paths local images point at."""
        with self._lock:
            return {str(e.get("rootfs", "")) for e in self._read().values() if isinstance(e, dict)}

    def record(self, keys: list[str], rootfs: Path, template: str, run_id: str) -> None:
        with self._lock:
            data = self._read()
            for key in keys:
                data[key.lower()] = {"rootfs": str(rootfs), "template": template, "run": run_id, "at": time.time()}
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
            os.replace(tmp, self.path)


# -- a tiny rootfs from busybox-static (tests, the example, machines without internet) ---------
BUSYBOX_CANDIDATES = ("/bin/busybox", "/usr/bin/busybox")
SUDO_SHIM = """#!/bin/sh
# aibtui local build: you are root in the sandbox, so sudo just runs the command.
while [ $# -gt 0 ]; do
  case "$1" in
    -u|-g|-C|-h|-p) shift 2 ;;
    --) shift; break ;;
    -*) shift ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || exit 0
exec "$@"
"""


def _is_static_elf(path: Path) -> bool:
    """True for an ELF executable without a program interpreter (statically linked)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(64)
            if head[:4] != b"\x7fELF" or head[4] != 2:  # 64-bit only
                return False
            e_phoff = struct.unpack_from("<Q", head, 32)[0]
            e_phentsize, e_phnum = struct.unpack_from("<HH", head, 54)
            fh.seek(e_phoff)
            table = fh.read(e_phentsize * e_phnum)
    except OSError:
        return False
    return all(struct.unpack_from("<I", table, i * e_phentsize)[0] != 3 for i in range(e_phnum))  # PT_INTERP


def find_static_busybox() -> Path | None:
    for cand in BUSYBOX_CANDIDATES:
        p = Path(cand)
        if p.is_file() and _is_static_elf(p):
            return p
    return None


def make_busybox_rootfs(dest: Path, busybox: Path | None = None) -> Path:
    """A minimal Linux root filesystem: a static busybox with its applets, /etc basics, a sudo
    stand-in. ``apt-get install busybox-static`` provides the binary. Returns ``dest``."""
    bb = busybox or find_static_busybox()
    if bb is None:
        raise SetupError("no statically linked busybox found (install it: apt-get install busybox-static)")
    for d in ("bin", "sbin", "usr/bin", "usr/sbin", "usr/local/bin", "etc", "root", "var/tmp", "var/log",
              "dev", "proc", "sys", "run", "home", "opt"):
        (dest / d).mkdir(parents=True, exist_ok=True, mode=0o755)
    (dest / "tmp").mkdir(exist_ok=True)
    os.chmod(dest / "tmp", 0o1777)
    shutil.copy2(bb, dest / "bin" / "busybox")
    os.chmod(dest / "bin" / "busybox", 0o755)
    listed = subprocess.run([str(bb), "--list-full"], capture_output=True, text=True, timeout=10)  # noqa: S603
    for rel in listed.stdout.split():
        link = dest / rel
        if rel == "bin/busybox" or link.exists() or link.is_symlink():
            continue
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to("/bin/busybox")
    sudo = dest / "usr" / "bin" / "sudo"
    sudo.write_text(SUDO_SHIM, encoding="utf-8")
    os.chmod(sudo, 0o755)
    (dest / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n")
    (dest / "etc" / "group").write_text("root:x:0:\nnogroup:x:65534:\n")
    (dest / "etc" / "hostname").write_text("aibtui-build\n")
    (dest / "etc" / "os-release").write_text('NAME="aibtui busybox test rootfs"\nID=aibtui-busybox\n'
                                             'PRETTY_NAME="busybox test rootfs (aibtui)"\n')
    return dest
