"""Issue 13, item 4 and rows 7-12: a local build's sandbox holds against steps that try to break out.

Each test runs a real build in the embedded service (busybox rootfs, bwrap or unshare sandbox) and
checks that the hostile step is contained: the run fails, its message names the step and the limit
that stopped it, and nothing is left running. Limits are tiny here ([local] pids, memory_mb,
cpu_seconds, log_bytes) so each case takes about a second.
"""

from __future__ import annotations

import http.server
import os
import tarfile
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from service_support import FAST, local_service, sample_body

from aibtui.arm.client import ArmClient, RetryPolicy
from aibtui.arm.local import local_client
from aibtui.config import LocalBuildConfig
from aibtui.localbuild import limits as limits_mod
from aibtui.localbuild.rootfs import find_static_busybox, make_busybox_rootfs
from aibtui.localbuild.sandbox import detect_backend
from aibtui.service.server import LocalService

BACKEND, WHY = detect_backend()
pytestmark = [
    pytest.mark.skipif(BACKEND is None, reason=f"no sandbox on this machine: {WHY}"),
    pytest.mark.skipif(find_static_busybox() is None, reason="needs busybox-static"),
]
URN_KEY = "canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2"
RETRY = RetryPolicy(attempts=3, backoff=0.01, timeout=15, poll_interval=0.01)
SUB_RG = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers"
CGROUPS = limits_mod.mechanism() != "rlimits"


@pytest.fixture(scope="module")
def busybox_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_busybox_rootfs(tmp_path_factory.mktemp("rootfs") / "busybox")


def _marked() -> set[int]:
    pids = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if b"sleep\x0054321" in Path(f"/proc/{entry}/cmdline").read_bytes():
                    pids.add(int(entry))
            except OSError:
                pass
    return pids


def make_svc(tmp_path: Path, busybox_root: Path, **local: Any) -> Any:
    if local.get("sandbox") and detect_backend(local["sandbox"])[0] is None:
        pytest.skip(f"no {local['sandbox']} sandbox here")
    cfg = LocalBuildConfig(rootfs=((URN_KEY, str(busybox_root)),), **local)
    return local_service(tmp_path / "state", replace(FAST, local=cfg, minute_seconds=0.5))


def client(svc: LocalService, tmp_path: Path) -> ArmClient:
    return local_client(tmp_path / "state", api_version="2024-02-01", base_url=svc.base_url, retry=RETRY)


def body(*steps: dict[str, Any], **props: Any) -> dict[str, Any]:
    b = sample_body(steps=(), outputs=())
    b["properties"]["customize"] = list(steps)
    b["properties"]["distribute"] = [{"type": "ManagedImage", "runOutputName": "img", "location": "westus2",
                                      "imageId": f"{SUB_RG}/Microsoft.Compute/images/img"}]
    b["properties"]["buildTimeoutInMinutes"] = 60  # 30 s at minute_seconds=0.5: limits must act first
    b["properties"].update(props)
    return b


def shell(name: str, *lines: str) -> dict[str, Any]:
    return {"type": "Shell", "name": name, "inline": list(lines)}


def build(c: ArmClient, name: str, b: dict[str, Any], timeout: float = 40.0) -> tuple[dict[str, Any], list[str]]:
    c.create_template(name, b).result(timeout=5)
    c.run(name).wait(timeout=timeout)
    status = c.get_template(name)["properties"]["lastRunStatus"]
    lines = [ln["text"] for ln in c.customization_log(name)["lines"]]
    return status, lines


# -- row 8: fork loop --------------------------------------------------------------------------


@pytest.mark.parametrize("sandbox", ["bwrap", "unshare"])
def test_row8_fork_loop_is_stopped_by_the_pids_limit(tmp_path: Path, busybox_root: Path, sandbox: str) -> None:
    with make_svc(tmp_path, busybox_root, pids=40, sandbox=sandbox) as svc:
        c = client(svc, tmp_path)
        started = time.monotonic()
        status, lines = build(c, "forks", body(shell("forkloop", "while :; do sleep 54321 & done")))
        took = time.monotonic() - started
    assert status["runState"] == "Failed", lines
    if CGROUPS:
        assert "step 'forkloop' (Shell) failed: stopped by the pids limit (40 processes)" in status["message"]
    else:  # RLIMIT_NPROC: the forks fail; the watchdog has no counter, the step ends on its own or times out
        assert "forkloop" in status["message"]
    assert took < 30, took
    deadline = time.monotonic() + 5
    while _marked() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not _marked(), "processes of the fork loop survived the step"


# -- row 9: memory hog ----------------------------------------------------------------------------


@pytest.mark.skipif(not CGROUPS, reason="a per-step memory limit needs a cgroup (rlimits cap each process only)")
def test_row9_memory_hog_is_stopped_by_the_memory_limit(tmp_path: Path, busybox_root: Path) -> None:
    with make_svc(tmp_path, busybox_root, memory_mb=64) as svc:
        c = client(svc, tmp_path)
        # dd's buffer is bs bytes, filled from /dev/zero: 512 MB resident if nothing stops it
        status, lines = build(c, "hog", body(shell("hog", "echo allocating", "dd if=/dev/zero of=/dev/null bs=512M "
                                                   "count=4", "echo SURVIVED")))
    assert status["runState"] == "Failed", lines
    assert "step 'hog' (Shell) failed: stopped by the memory limit (64 MB)" in status["message"], status["message"]
    assert "[hog] SURVIVED" not in lines


# -- CPU time --------------------------------------------------------------------------------------


def test_cpu_loop_is_stopped_by_the_cpu_time_limit(tmp_path: Path, busybox_root: Path) -> None:
    with make_svc(tmp_path, busybox_root, cpu_seconds=1) as svc:
        c = client(svc, tmp_path)
        started = time.monotonic()
        status, lines = build(c, "spin", body(shell("spin", "while :; do :; done")))
    assert status["runState"] == "Failed", lines
    assert "step 'spin' (Shell) failed: stopped by the CPU time limit (1 s)" in status["message"], status["message"]
    assert time.monotonic() - started < 25


# -- row 10: a step printing without end -------------------------------------------------------


def test_row10_huge_output_is_capped_head_and_tail_kept(tmp_path: Path, busybox_root: Path) -> None:
    with make_svc(tmp_path, busybox_root, log_bytes=64 * 1024) as svc:
        c = client(svc, tmp_path)
        loud = shell("loud", "echo FIRST-LINE", "yes 0123456789abcdef | head -c 30000000", "echo", "echo LAST-LINE")
        status, lines = build(c, "loud", body(loud), timeout=120)
    assert status["runState"] == "Succeeded", status
    stored = sum(len(ln.encode()) + 1 for ln in lines)
    assert stored < 80 * 1024, stored  # the cap (64 KiB) plus the run's own few lines
    assert "[loud] FIRST-LINE" in lines and "[loud] LAST-LINE" in lines
    dropped = [ln for ln in lines if "log capped:" in ln]
    assert len(dropped) == 1 and int(dropped[0].split("log capped: ")[1].split()[0]) > 30_000_000 - 80 * 1024
    assert lines.index(dropped[0]) < lines.index("[loud] LAST-LINE")


# -- row 11: mount, and the user namespace that would allow it ---------------------------------


@pytest.mark.parametrize("sandbox", ["bwrap", "unshare"])
def test_row11_mount_fails_inside_the_sandbox(tmp_path: Path, busybox_root: Path, sandbox: str) -> None:
    with make_svc(tmp_path, busybox_root, sandbox=sandbox) as svc:
        c = client(svc, tmp_path)
        status, lines = build(c, "mnt", body(
            shell("nested", "if unshare -U -r true 2>/dev/null; then echo NESTED-USERNS; fi",
                  "if unshare -U -r -m mount -t tmpfs none /mnt 2>/dev/null; then echo NESTED-MOUNT; fi",
                  "echo probed"),
            shell("mount", "mount -t tmpfs none /mnt", "echo MOUNTED")))
    assert status["runState"] == "Failed", lines
    assert "[nested] probed" in lines
    assert "[nested] NESTED-USERNS" not in lines and "[nested] NESTED-MOUNT" not in lines
    assert "step 'mount' (Shell) failed: exit code" in status["message"]
    assert "[mount] MOUNTED" not in lines


# -- row 12: sparse files stay sparse --------------------------------------------------------------


def test_row12_sparse_file_stays_sparse_in_the_artifact(tmp_path: Path, busybox_root: Path) -> None:
    with make_svc(tmp_path, busybox_root) as svc:
        c = client(svc, tmp_path)
        holes = shell("holes", "truncate -s 4G /var/tmp/big", "echo end >> /var/tmp/big")
        status, lines = build(c, "sparse", body(holes))
        assert status["runState"] == "Succeeded", lines
        tars = list((tmp_path / "state" / "local" / "artifacts").rglob("rootfs.tar"))
        assert len(tars) == 1
        tar = tars[0]
        assert tar.stat().st_size < 64 * 1024 * 1024, tar.stat().st_size
        with tarfile.open(tar) as tf:
            member = tf.getmember("./var/tmp/big")
            assert member.size == 4 * 1024**3 + 4 and member.issparse()
        assert not list((tmp_path / "state" / "local" / "artifacts").rglob("*.partial"))


# -- row 7: network: false and downloads on the step's behalf -------------------------------------


class _Secret(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return None

    def do_GET(self) -> None:  # noqa: N802
        type(self).hits.append(self.path)
        data = b"host-only secret\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def secret_server() -> Iterator[int]:
    _Secret.hits = []
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Secret)
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    try:
        yield srv.server_address[1]
    finally:
        srv.shutdown()
        srv.server_close()
        t.join(5)


def test_row7_file_step_cannot_fetch_host_only_urls(tmp_path: Path, busybox_root: Path, secret_server: int) -> None:
    port = secret_server
    spellings = ["127.1", "0", "2130706433", "[::ffff:127.0.0.1]", "localhost.", "0x7f.0.0.1", "017700000001"]
    steps = [{"type": "File", "name": f"leak{i}", "sourceUri": f"http://{host}:{port}/secret",
              "destination": f"/tmp/leak{i}"} for i, host in enumerate(spellings)]
    with make_svc(tmp_path, busybox_root, network=False) as svc:
        c = client(svc, tmp_path)
        for i, step in enumerate(steps):
            status, lines = build(c, f"leak{i}", body(step))
            assert status["runState"] == "Failed", (spellings[i], lines)
            assert f"step 'leak{i}' (File) failed: refused http://" in status["message"], status["message"]
    assert _Secret.hits == [], "the host fetched a loopback URL for a step without network"


def test_health_and_the_run_log_say_which_limits_are_in_force(tmp_path: Path, busybox_root: Path) -> None:
    with make_svc(tmp_path, busybox_root, pids=77) as svc:
        c = client(svc, tmp_path)
        status, lines = build(c, "say", body(shell("hi", "echo hi")))
        health = c.get_json(f"{svc.base_url}/_aibtui/health")
    assert status["runState"] == "Succeeded", lines
    line = next(ln for ln in lines if ln.startswith("limits per step ("))
    assert limits_mod.mechanism() in line and "pids 77" in line
    assert health["limits"]["mechanism"].startswith(limits_mod.mechanism())
    assert health["limits"]["pids"].startswith("77")


@pytest.mark.parametrize("backend", ["bwrap", "unshare"])
def test_sigpipe_ends_a_pipeline_in_both_sandboxes(tmp_path: Path, busybox_root: Path, backend: str) -> None:
    # The unshare backend's Python launchers ignored SIGPIPE and passed that on: `yes | head` never ended.
    from aibtui.localbuild.sandbox import Sandbox

    if detect_backend(backend)[0] is None:
        pytest.skip(f"no {backend} sandbox here")
    ctl = tmp_path / "ctl"
    ctl.mkdir()
    lines: list[str] = []
    started = time.monotonic()
    out = Sandbox(backend, busybox_root, ctl).run(["/bin/sh", "-c", "yes | head -c 10; echo; echo END"],
                                                  lambda s, got: lines.extend(got),
                                                  lambda: "timeout" if time.monotonic() - started > 20 else None)
    assert out.exit_code == 0 and out.stopped is None and lines[-1] == "END", (out, lines)


def test_without_cgroups_the_watchdog_and_rlimits_still_hold(tmp_path: Path, busybox_root: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    # Machines without a delegated cgroup: the pids limit is the watchdog's count of the step's
    # processes (root ignores RLIMIT_NPROC), memory is RLIMIT_AS per process.
    from aibtui.localbuild.sandbox import Sandbox

    monkeypatch.setattr(limits_mod, "_MECHANISM", "rlimits")
    ctl = tmp_path / "ctl"
    ctl.mkdir()
    sb = Sandbox(BACKEND or "bwrap", busybox_root, ctl, limits=limits_mod.StepLimits(pids=30, memory_mb=200))
    started = time.monotonic()
    out = sb.run(["/bin/sh", "-c", "while :; do sleep 54321 & done"], lambda s, got: None,
                 lambda: "timeout" if time.monotonic() - started > 20 else None)
    assert out.limit == "the pids limit (30 processes)" and out.stopped == "limit"
    deadline = time.monotonic() + 5
    while _marked() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not _marked()
    lines: list[str] = []
    out = sb.run(["/bin/sh", "-c", "dd if=/dev/zero of=/dev/null bs=300M count=1; echo dd=$?"],
                 lambda s, got: lines.extend(got), lambda: None)
    assert "dd=1" in lines, lines  # the allocation failed: 300 MB > RLIMIT_AS 200 MB
