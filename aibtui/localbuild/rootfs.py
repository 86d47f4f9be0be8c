"""The base root filesystem of a local build: where it comes from, and a fresh copy per run.

Resolution, first match wins:

1. ``--rootfs PATH`` on ``aibtui build`` (the run request's ``rootfs`` parameter);
2. the local image catalog: the template's source is a ManagedImage / SharedImageVersion that an
   earlier local build produced;
3. the config file's ``[local.rootfs]`` table, keyed by marketplace URN (``publisher:offer:sku``,
   optionally ``:version``) or image id; a value is a folder, a tarball, or an https URL of a tarball
   with a ``SHA256SUMS`` file beside it;
4. with ``[local] download = true``: the distribution's official cloud rootfs for a few known
   marketplace images (``distros.json``: Ubuntu, Debian, RHEL-compatible, SUSE), downloaded once
   with progress, verified against the checksum list the distribution publishes, cached under
   ``<state>/local/cache``; for other marketplace images, or when the download is impossible
   (offline), the busybox root filesystem, and the log says so.
"""

from __future__ import annotations

import fnmatch
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
DISTROS_FILE = Path(__file__).with_name("distros.json")  # marketplace image -> official rootfs (documented)


def load_distros(path: Path | None = None) -> list[dict[str, Any]]:
    """The entries of ``distros.json`` (or of the file ``AIBTUI_DISTROS`` names: a mirror's own
    table in the same format). A ValueError names a malformed entry."""
    path = path or Path(os.environ.get("AIBTUI_DISTROS") or DISTROS_FILE)
    data = json.loads(path.read_text(encoding="utf-8"))
    images = data.get("images") if isinstance(data, dict) else None
    if not isinstance(images, list):
        raise ValueError(f"{path}: no `images` list")
    for i, entry in enumerate(images):
        missing = [k for k in ("match", "distro", "release", "url", "sums") if k not in entry]
        if missing or entry.get("algorithm", "sha256") not in ("sha256", "sha512") or \
                entry.get("layout", "rootfs") not in ("rootfs", "oci", "disk", "auto"):
            raise ValueError(f"{path}: image {i} is malformed (missing {missing or 'nothing'}; "
                             "algorithm sha256|sha512; layout rootfs|oci|disk|auto)")
    return images


def official_rootfs(source: dict[str, Any], distros: list[dict[str, Any]] | None = None) -> dict[str, Any] | None:
    """The ``distros.json`` entry for a marketplace source (x86-64 only), or None."""
    if source.get("type") != "PlatformImage":
        return None
    got = {k: str(source.get(k, "")).lower() for k in ("publisher", "offer", "sku")}
    if "arm64" in got["sku"] or "arm64" in got["offer"]:
        return None  # the tarballs are x86-64
    for entry in distros if distros is not None else load_distros():
        match = entry["match"]
        if all(fnmatch.fnmatchcase(got[k], str(match.get(k, "*")).lower()) for k in got):
            return entry
    return None


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
        official = official_rootfs(source)
        if official and opts.download:
            note = f"{official['distro']} {official['release']}"
            note += f": {official['note']}" if official.get("note") else ""
            return RootfsChoice("download", official["url"], f"the distribution's official rootfs ({note})",
                                sums=official["sums"], algorithm=official.get("algorithm", "sha256"),
                                layout=official.get("layout", "rootfs"), note=official.get("note", ""))
        if official:
            return (f"no root filesystem for {source_label(source)}: {HOW_TO_PROVIDE}, or set `download = true` "
                    f"under [local] to fetch the official {official['distro']} {official['release']} rootfs once")
        if opts.download:
            return RootfsChoice("busybox", "", f"the busybox root filesystem: {source_label(source)} has no official "
                                "rootfs in distros.json, so steps run on busybox (apt-get, dnf and zypper are missing)")
    if source.get("type") in ("ManagedImage", "SharedImageVersion"):
        return (f"no root filesystem for {source_label(source)}: it is not an image a local build made; "
                f"{HOW_TO_PROVIDE}")
    return f"no root filesystem for {source_label(source)}: {HOW_TO_PROVIDE}"


# -- copies ------------------------------------------------------------------------------------
def materialize(choice: RootfsChoice, dest: Path, cached_tarball: Path | None = None,
                should_stop: Callable[[], str | None] | None = None) -> None:
    """A fresh copy of the rootfs in ``dest`` (created; must not exist). Stoppable (cancel, timeout)."""
    if choice.kind == "busybox":
        make_busybox_rootfs(dest)
        return
    dest.mkdir(parents=True, mode=0o755)
    if choice.kind == "folder":
        cmd = ["cp", "-a", "--reflink=auto", f"{choice.location}/.", str(dest)]
    else:
        tarball = cached_tarball or Path(choice.location)
        cmd = ["tar", "-x", "-p", "--numeric-owner", "-f", str(tarball), "-C", str(dest)]
    run_tool_checked(cmd, f"could not copy the root filesystem {choice.location}", should_stop)
    if choice.layout in ("oci", "auto") and (dest / "index.json").is_file() and (dest / "blobs").is_dir():
        _unpack_oci(dest, should_stop)
    elif choice.layout in ("disk", "auto") and (dest / "disk.raw").is_file():
        _unpack_disk(dest, should_stop)
    if not (dest / "bin").exists() and not (dest / "usr" / "bin").exists():
        raise SetupError(f"{choice.location} does not look like a root filesystem (no /bin or /usr/bin)")


def _unpack_oci(dest: Path, should_stop: Callable[[], str | None] | None) -> None:
    """An OCI image layout (index.json, blobs/) extracted in ``dest``: replace it by its layers, in order."""
    layout = dest.parent / (dest.name + ".oci")
    dest.rename(layout)
    dest.mkdir(mode=0o755)

    def blob(digest: str) -> Path:
        algo, _, hexd = digest.partition(":")
        p = layout / "blobs" / algo / hexd
        if not hexd.isalnum() or not p.is_file():
            raise SetupError(f"the OCI image lacks blob {digest}")
        return p

    try:
        index = json.loads((layout / "index.json").read_text(encoding="utf-8"))
        manifest = json.loads(blob(index["manifests"][0]["digest"]).read_text(encoding="utf-8"))
        if "manifests" in manifest:  # an image index: its first manifest
            manifest = json.loads(blob(manifest["manifests"][0]["digest"]).read_text(encoding="utf-8"))
        layers = [blob(layer["digest"]) for layer in manifest["layers"]]
    except (OSError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise SetupError(f"the OCI image layout is not readable: {exc}") from exc
    for layer in layers:
        run_tool_checked(["tar", "-x", "-p", "--numeric-owner", "-f", str(layer), "-C", str(dest)],
                         "could not unpack an OCI layer", should_stop)
    remove_tree(layout)


def _largest_gpt_partition(disk: Path) -> tuple[int, int]:
    """(byte offset, byte length) of the largest partition of a GPT disk image."""
    with open(disk, "rb") as fh:
        fh.seek(512)
        header = fh.read(92)
        if header[:8] != b"EFI PART":
            raise SetupError("the disk image has no GPT partition table")
        entries_lba, count, size = struct.unpack_from("<QII", header, 72)
        fh.seek(entries_lba * 512)
        table = fh.read(count * size)
    best = (0, 0)
    for i in range(count):
        first, last = struct.unpack_from("<QQ", table, i * size + 32)
        if table[i * size:i * size + 16] != b"\0" * 16 and last >= first and (last - first + 1) * 512 > best[1]:
            best = (first * 512, (last - first + 1) * 512)
    if best[1] == 0:
        raise SetupError("the disk image has no partition")
    return best


def _unpack_disk(dest: Path, should_stop: Callable[[], str | None] | None) -> None:
    """A tarball holding ``disk.raw`` (Debian's cloud images): copy the files of its largest
    partition (ext4) into ``dest`` with ``debugfs rdump``; no mounting, no loop device."""
    if shutil.which("debugfs") is None:
        raise SetupError("this distribution ships a disk image; reading it needs debugfs (apt-get install e2fsprogs)")
    disk = dest / "disk.raw"
    offset, _length = _largest_gpt_partition(disk)
    work = dest.parent / (dest.name + ".disk")
    work.mkdir(mode=0o700)
    disk.rename(work / "disk.raw")
    try:
        run_tool_checked(["debugfs", "-R", f"rdump / {dest}", f"{work / 'disk.raw'}?offset={offset}"],
                         "could not read the root file system from the disk image", should_stop)
    finally:
        remove_tree(work)


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


class DownloadUnavailable(SetupError):
    """The download could not happen (offline, a server error): not a verification failure."""


def _sums_entry(text: str, name: str, algorithm: str) -> str | None:
    """The checksum of ``name`` in a published list: GNU (``HASH  name`` / ``HASH *name``) or BSD
    (``SHA256 (name) = HASH``) lines."""
    size = 64 if algorithm == "sha256" else 128
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].lstrip("*").removeprefix("./") == name and len(parts[0]) == size:
            return parts[0].lower()
        if len(parts) == 4 and parts[0].upper() == algorithm.upper() and parts[1] == f"({name})" and parts[2] == "=" \
                and len(parts[3]) == size:
            return parts[3].lower()
    return None


def published_checksum(url: str, timeout: float = 30.0, sums_url: str | None = None,
                       algorithm: str = "sha256") -> str:
    """The checksum the distribution publishes for ``url`` in its list (default ``SHA256SUMS`` beside it)."""
    base, _, name = url.rpartition("/")
    sums_url = sums_url or f"{base}/SHA256SUMS"
    _check_url(sums_url)
    try:
        with urllib.request.urlopen(sums_url, timeout=timeout) as resp:  # noqa: S310 - scheme checked
            text = resp.read(4 * 1024 * 1024).decode("utf-8", "replace")
    except OSError as exc:
        raise DownloadUnavailable(f"could not read the published checksums {sums_url}: {exc}") from exc
    found = _sums_entry(text, name, algorithm)
    if found is None:
        raise SetupError(f"{sums_url} lists no checksum for {name} ({algorithm})")
    return found


def fetch_verified(url: str, cache: Path, progress: Callable[[int, int | None], None],
                   timeout: float = 60.0, *, sums_url: str | None = None, algorithm: str = "sha256") -> Path:
    """Download ``url`` once into ``cache``, verified against the published checksum list.
    ``progress(done_bytes, total_or_None)`` is called as data arrives (it may raise to stop).
    Raises :class:`DownloadUnavailable` when it cannot be downloaded, SetupError when it does not verify."""
    _check_url(url)
    expected = published_checksum(url, timeout, sums_url, algorithm)
    name = url.rpartition("/")[2] or "rootfs.tar"
    cache.mkdir(parents=True, exist_ok=True, mode=0o700)
    final = cache / f"{expected[:16]}-{name}"
    if final.is_file():
        return final
    fd, tmp = tempfile.mkstemp(dir=cache, prefix=".part-")
    digest = hashlib.new(algorithm)
    try:
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
        except OSError as exc:
            raise DownloadUnavailable(f"could not download {url}: {exc}") from exc
        got = digest.hexdigest()
        if got != expected:
            raise SetupError(f"{algorithm} mismatch for {url}: the download has {got}, the published list says "
                             f"{expected}; nothing was cached")
        os.replace(tmp, final)
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
