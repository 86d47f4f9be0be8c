"""Issue 13, item 6: local builds on the source's own distribution.

A loopback HTTP server plays the distribution's mirror: a small root filesystem tarball and the
checksum list it publishes (good and tampered). The service maps the template's marketplace
source through a distros table (the packaged distros.json's format, pointed at the mirror with
AIBTUI_DISTROS), downloads, verifies, caches and runs the steps on it; offline or for other
sources it falls back to busybox and says so.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import struct
import subprocess
import tarfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from file_server import FileServer, serve_files
from service_support import FAST, local_service, sample_body

from aibtui.arm.client import RetryPolicy
from aibtui.arm.local import local_client
from aibtui.config import LocalBuildConfig
from aibtui.localbuild import rootfs
from aibtui.localbuild.model import RootfsChoice
from aibtui.localbuild.rootfs import find_static_busybox, make_busybox_rootfs
from aibtui.localbuild.sandbox import detect_backend

BACKEND, WHY = detect_backend()
RETRY = RetryPolicy(attempts=3, backoff=0.01, timeout=15, poll_interval=0.01)


def test_the_packaged_table_is_well_formed_and_covers_the_families() -> None:
    images = rootfs.load_distros(rootfs.DISTROS_FILE)
    assert {e["distro"] for e in images} >= {"Ubuntu", "Debian", "Rocky Linux", "openSUSE Leap"}
    for e in images:
        assert e["url"].startswith("https://") and e["sums"].startswith("https://")

    def pick(publisher: str, offer: str, sku: str) -> str | None:
        got = rootfs.official_rootfs({"type": "PlatformImage", "publisher": publisher, "offer": offer, "sku": sku})
        return f"{got['distro']} {got['release']}" if got else None

    assert pick("Canonical", "0001-com-ubuntu-server-jammy", "22_04-lts-gen2") == "Ubuntu 22.04"
    assert pick("Canonical", "ubuntu-24_04-lts", "server") == "Ubuntu 24.04"
    assert pick("Debian", "debian-12", "12-gen2") == "Debian 12"
    assert pick("RedHat", "RHEL", "9-lvm-gen2") == "Rocky Linux 9"
    assert pick("almalinux", "almalinux-x86_64", "9-gen2") == "Rocky Linux 9"
    assert pick("SUSE", "sles-15-sp5", "gen2") == "openSUSE Leap 15.6"
    assert pick("Canonical", "0001-com-ubuntu-server-jammy", "22_04-lts-arm64") is None  # x86-64 tarballs only
    assert pick("MicrosoftWindowsServer", "WindowsServer", "2022-datacenter") is None


# -- the mirror ------------------------------------------------------------------------------------------


@pytest.fixture
def mirror() -> Iterator[tuple[FileServer, str]]:
    with serve_files() as served:
        yield served


def _tar_of(folder: Path) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        tf.add(folder, arcname=".")
    return buf.getvalue()


@pytest.fixture(scope="module")
def distro_tarball(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    if find_static_busybox() is None:
        pytest.skip("needs busybox-static")
    root = make_busybox_rootfs(tmp_path_factory.mktemp("distro") / "root")
    (root / "etc" / "os-release").write_text('NAME="Mirror Linux"\nID=mirrorlinux\nVERSION_ID="22.04"\n')
    return _tar_of(root)


def _table(tmp_path: Path, base: str, **extra: str) -> Path:
    entry = {"match": {"publisher": "canonical", "offer": "0001-com-ubuntu-server-jammy", "sku": "22_04-lts*"},
             "distro": "Ubuntu", "release": "22.04", "url": f"{base}/rel/root.tar.gz", "sums": f"{base}/rel/SHA256SUMS",
             "algorithm": "sha256", "layout": "rootfs", **extra}
    path = tmp_path / "distros.json"
    path.write_text(json.dumps({"images": [entry]}))
    return path


def _build(tmp_path: Path, body: dict[str, Any], name: str = "t") -> tuple[dict[str, Any], list[str]]:
    settings = replace(FAST, local=LocalBuildConfig(download=True), minute_seconds=0.5)
    with local_service(tmp_path / "state", settings) as svc:
        c = local_client(tmp_path / "state", api_version="2024-02-01", base_url=svc.base_url, retry=RETRY)
        c.create_template(name, body).result(timeout=5)
        c.run(name).wait(timeout=40)
        status = c.get_template(name)["properties"]["lastRunStatus"]
        lines = [ln["text"] for ln in c.customization_log(name)["lines"]]
    return status, lines


def _body(*inline: str) -> dict[str, Any]:
    b = sample_body(steps=(), outputs=("img",))
    b["properties"]["customize"] = [{"type": "Shell", "name": "probe", "inline": list(inline)}]
    return b


@pytest.mark.skipif(BACKEND is None, reason=f"no sandbox: {WHY}")
def test_steps_run_on_the_verified_distribution_rootfs(tmp_path: Path, mirror, distro_tarball: bytes,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    srv, base = mirror
    srv.files["/rel/root.tar.gz"] = distro_tarball
    srv.files["/rel/SHA256SUMS"] = f"{'0' * 64}  other.tar.gz\n{hashlib.sha256(distro_tarball).hexdigest()} " \
                                   "*root.tar.gz\n".encode()
    monkeypatch.setenv("AIBTUI_DISTROS", str(_table(tmp_path, base)))
    status, lines = _build(tmp_path, _body(". /etc/os-release", "echo running-on-$ID"))
    assert status["runState"] == "Succeeded", lines
    assert "[probe] running-on-mirrorlinux" in lines
    assert any("the distribution's official rootfs (Ubuntu 22.04)" in ln for ln in lines)
    assert any(ln.startswith("download verified against the published") and "(sha256)" in ln for ln in lines)
    cached = list((tmp_path / "state" / "local" / "cache").iterdir())
    assert len(cached) == 1 and cached[0].read_bytes() == distro_tarball
    # a second build uses the cache: only the checksum list is fetched again
    srv.hits.clear()
    status, _ = _build(tmp_path, _body("true"), name="t2")
    assert status["runState"] == "Succeeded" and srv.hits == ["/rel/SHA256SUMS"]


@pytest.mark.skipif(BACKEND is None, reason=f"no sandbox: {WHY}")
def test_a_tampered_tarball_fails_the_run_and_caches_nothing(tmp_path: Path, mirror, distro_tarball: bytes,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    srv, base = mirror
    srv.files["/rel/root.tar.gz"] = distro_tarball + b"tampered"
    srv.files["/rel/SHA256SUMS"] = f"{hashlib.sha256(distro_tarball).hexdigest()}  root.tar.gz\n".encode()
    monkeypatch.setenv("AIBTUI_DISTROS", str(_table(tmp_path, base)))
    status, lines = _build(tmp_path, _body("echo SHOULD-NOT-RUN"))
    assert status["runState"] == "Failed"
    assert "sha256 mismatch" in status["message"], status["message"]
    assert not any("SHOULD-NOT-RUN" in ln for ln in lines)
    cache = tmp_path / "state" / "local" / "cache"
    assert not cache.exists() or list(cache.iterdir()) == []


@pytest.mark.skipif(BACKEND is None, reason=f"no sandbox: {WHY}")
@pytest.mark.skipif(find_static_busybox() is None, reason="needs busybox-static")
def test_offline_falls_back_to_busybox_and_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as s:  # a port nothing listens on: the mirror is unreachable
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("AIBTUI_DISTROS", str(_table(tmp_path, f"http://127.0.0.1:{port}")))
    status, lines = _build(tmp_path, _body(". /etc/os-release", "echo running-on-$ID"))
    assert status["runState"] == "Succeeded", lines
    assert "[probe] running-on-aibtui-busybox" in lines
    assert any("falling back to the busybox root filesystem" in ln for ln in lines)


@pytest.mark.skipif(BACKEND is None, reason=f"no sandbox: {WHY}")
@pytest.mark.skipif(find_static_busybox() is None, reason="needs busybox-static")
def test_an_unknown_marketplace_source_runs_on_busybox_and_says_so(tmp_path: Path) -> None:
    b = _body(". /etc/os-release", "echo running-on-$ID")
    b["properties"]["source"] = {"type": "PlatformImage", "publisher": "Contoso", "offer": "thing", "sku": "1",
                                 "version": "latest"}
    status, lines = _build(tmp_path, b)
    assert status["runState"] == "Succeeded", lines
    assert "[probe] running-on-aibtui-busybox" in lines
    assert any("has no official rootfs in distros.json" in ln for ln in lines)


# -- checksum lists and archive layouts ------------------------------------------------------------


def test_bsd_and_sha512_checksum_lists(tmp_path: Path, mirror) -> None:
    srv, base = mirror
    data = b"rootfs bytes"
    srv.files["/r/Rocky.tar.xz"] = data
    srv.files["/r/CHECKSUM"] = f"# Rocky\nSHA256 (Rocky.tar.xz) = {hashlib.sha256(data).hexdigest()}\n".encode()
    got = rootfs.fetch_verified(f"{base}/r/Rocky.tar.xz", tmp_path / "c1", lambda d, t: None,
                                sums_url=f"{base}/r/CHECKSUM")
    assert got.read_bytes() == data
    srv.files["/d/debian.tar.xz"] = data
    srv.files["/d/SHA512SUMS"] = f"{hashlib.sha512(data).hexdigest()}  debian.tar.xz\n".encode()
    got = rootfs.fetch_verified(f"{base}/d/debian.tar.xz", tmp_path / "c2", lambda d, t: None,
                                sums_url=f"{base}/d/SHA512SUMS", algorithm="sha512")
    assert got.read_bytes() == data
    srv.files["/d/SHA512SUMS"] = f"{hashlib.sha512(b'other').hexdigest()}  debian.tar.xz\n".encode()
    with pytest.raises(rootfs.SetupError, match="sha512 mismatch"):
        rootfs.fetch_verified(f"{base}/d/debian.tar.xz", tmp_path / "c3", lambda d, t: None,
                              sums_url=f"{base}/d/SHA512SUMS", algorithm="sha512")


def test_an_oci_image_layout_is_unpacked_layer_by_layer(tmp_path: Path) -> None:
    layer1, layer2 = tmp_path / "l1", tmp_path / "l2"
    (layer1 / "bin").mkdir(parents=True)
    (layer1 / "bin" / "sh").write_text("#!fake\n")
    (layer1 / "etc").mkdir()
    (layer1 / "etc" / "os-release").write_text("ID=base\n")
    (layer2 / "etc").mkdir(parents=True)
    (layer2 / "etc" / "os-release").write_text("ID=rocky\n")
    blobs: dict[str, bytes] = {}

    def add(data: bytes) -> str:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        blobs[digest] = data
        return digest

    layers = [add(_tar_of(layer1)), add(_tar_of(layer2))]
    manifest = add(json.dumps({"schemaVersion": 2, "layers": [{"digest": d} for d in layers]}).encode())
    oci = tmp_path / "oci"
    (oci / "blobs" / "sha256").mkdir(parents=True)
    for digest, data in blobs.items():
        (oci / "blobs" / "sha256" / digest.split(":")[1]).write_bytes(data)
    (oci / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [{"digest": manifest}]}))
    (oci / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    archive = tmp_path / "rocky.tar.gz"
    archive.write_bytes(_tar_of(oci))
    dest = tmp_path / "root"
    rootfs.materialize(RootfsChoice("tarball", str(archive), "test", layout="auto"), dest)
    assert (dest / "etc" / "os-release").read_text() == "ID=rocky\n" and (dest / "bin" / "sh").exists()
    assert not (dest / "index.json").exists() and not (tmp_path / "root.oci").exists()


def test_a_raw_disk_image_is_read_without_mounting(tmp_path: Path) -> None:
    if shutil.which("mke2fs") is None or shutil.which("debugfs") is None:
        pytest.skip("needs mke2fs and debugfs (e2fsprogs)")
    content = tmp_path / "content"
    (content / "bin").mkdir(parents=True)
    (content / "bin" / "sh").write_text("#!fake\n")
    (content / "etc").mkdir()
    (content / "etc" / "os-release").write_text("ID=debian\n")
    part = tmp_path / "part.img"
    subprocess.run(["mke2fs", "-q", "-F", "-t", "ext4", "-d", str(content), str(part), "8M"], check=True)
    # a GPT disk: protective MBR, header at LBA 1, entries at LBA 2, the partition at LBA 2048
    start = 2048
    sectors = part.stat().st_size // 512
    disk = bytearray(512 * start)
    header = bytearray(92)
    header[:8] = b"EFI PART"
    struct.pack_into("<QII", header, 72, 2, 128, 128)
    disk[512:512 + 92] = header
    entry = bytearray(128)
    entry[:16] = bytes(range(1, 17))  # a non-zero type GUID
    struct.pack_into("<QQ", entry, 32, start, start + sectors - 1)
    disk[1024:1024 + 128] = entry
    folder = tmp_path / "tarred"
    folder.mkdir()
    (folder / "disk.raw").write_bytes(bytes(disk) + part.read_bytes())
    archive = tmp_path / "debian.tar"
    with tarfile.open(archive, "w") as tf:
        tf.add(folder / "disk.raw", arcname="disk.raw")
    dest = tmp_path / "root"
    rootfs.materialize(RootfsChoice("tarball", str(archive), "test", layout="disk"), dest)
    assert (dest / "etc" / "os-release").read_text() == "ID=debian\n"
    assert not (dest / "disk.raw").exists() and not (tmp_path / "root.disk").exists()
    assert os.path.isdir(dest / "bin")
