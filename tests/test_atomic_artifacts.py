"""Issue 13, row 13 and item 5: artifacts appear whole or not at all; a killed service leaves no
process writing one, and its next start removes what was half-written."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aibtui.localbuild import artifacts
from aibtui.localbuild.build import clean_stale_runs
from aibtui.localbuild.model import Canceled, SetupError
from aibtui.localbuild.sandbox import PROCS_FILE, popen, track


def _alive(marker: bytes) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmd = Path(f"/proc/{entry}/cmdline").read_bytes()
                state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if marker in cmd and state not in ("Z", "X"):
                out.append(int(entry))
    return out


def _wait_gone(marker: bytes, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(marker):
            return True
        time.sleep(0.02)
    return False


def test_tarball_is_written_under_a_temporary_name_and_renamed(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "x").write_text("x")
    dest = tmp_path / "out" / "rootfs.tar"
    assert artifacts.make_tarball(root, dest) == dest
    assert dest.is_file() and not artifacts.partial(dest).exists()


def test_a_failed_or_stopped_tarball_leaves_nothing(tmp_path: Path) -> None:
    dest = tmp_path / "out" / "rootfs.tar"
    with pytest.raises(SetupError):  # tar creates its output, then fails: the partial file goes
        artifacts.make_tarball(tmp_path / "no-such-root", dest)
    assert not dest.exists() and not artifacts.partial(dest).exists()
    root = tmp_path / "root"
    root.mkdir()
    os.mkfifo(root / "fifo")
    (root / "big").write_bytes(os.urandom(1024) * 65536)  # 64 MiB: tar runs longer than one tick
    with pytest.raises(Canceled):
        artifacts.make_tarball(root, dest, should_stop=lambda: "canceled")
    assert not dest.exists() and not artifacts.partial(dest).exists()


def test_a_host_tool_dies_with_the_service_killed_with_sigkill(tmp_path: Path) -> None:
    # A stand-in for the service: it starts a long host tool the way artifacts are written, then is
    # killed with -9 (before the fix the tool, in its own session, went on writing for minutes).
    script = ("import sys, time\n"
              "from aibtui.localbuild.sandbox import run_tool\n"
              "print('ready', flush=True)\n"
              "run_tool(['sleep', '87654'])\n")
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
        deadline = time.monotonic() + 10
        while not _alive(b"sleep\x0087654") and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _alive(b"sleep\x0087654")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        assert _wait_gone(b"sleep\x0087654"), "the host tool outlived the killed service"
    finally:
        for pid in _alive(b"sleep\x0087654"):
            os.kill(pid, signal.SIGKILL)
        proc.kill()
        proc.wait()


def test_start_up_recovery_kills_recorded_groups_and_removes_partial_artifacts(tmp_path: Path) -> None:
    work = tmp_path / "local"
    run_dir = work / "runs" / "run-1"
    run_dir.mkdir(parents=True)
    out = work / "artifacts" / "tpl.0123456789ab" / "run-1"
    out.mkdir(parents=True)
    (out / "rootfs.tar.partial").write_bytes(b"half")
    done = work / "artifacts" / "tpl.0123456789ab" / "run-0"
    done.mkdir(parents=True)
    (done / "rootfs.tar").write_bytes(b"whole")
    # A process group the run started (recorded like every sandbox and tool), surviving somehow:
    # the recovery must kill it. Started without the death signal's parent link: a plain Popen.
    track(run_dir)
    try:
        child = popen(["/bin/sh", "-c", "sleep 87655 & sleep 87655"], dict(os.environ))
    finally:
        track(None)
    assert (run_dir / PROCS_FILE).read_text().startswith(f"{child.pid} ")
    deadline = time.monotonic() + 10
    while len(_alive(b"sleep\x0087655")) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        assert clean_stale_runs(work) == 1
        child.wait(5)
        assert _wait_gone(b"sleep\x0087655"), "recovery left the run's processes running"
        assert not run_dir.exists() and not out.exists()
        assert (done / "rootfs.tar").read_bytes() == b"whole"
    finally:
        for pid in _alive(b"sleep\x0087655"):
            os.kill(pid, signal.SIGKILL)
        child.kill()
        child.wait()
        assert child.stdout is not None and child.stderr is not None
        child.stdout.close()
        child.stderr.close()


def test_recovery_does_not_kill_a_reused_pid(tmp_path: Path) -> None:
    run_dir = tmp_path / "local" / "runs" / "run-2"
    run_dir.mkdir(parents=True)
    (run_dir / PROCS_FILE).write_text(f"{os.getpid()} 1\n")  # our pid, but a different start time
    clean_stale_runs(tmp_path / "local")
    assert not run_dir.exists()  # and we are still here
