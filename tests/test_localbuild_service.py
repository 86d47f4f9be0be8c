"""Local builds for real, end to end: the embedded service runs Linux steps in a sandboxed copy of a small
busybox root filesystem, over real HTTP on 127.0.0.1, through the same client that talks to Azure.

Needs a sandbox (bubblewrap, or root for unshare + pivot_root) and a static busybox (`apt-get install
busybox-static`); `.ci/run` installs both, so on CI nothing here skips. Every test checks that no
process it started and no mount it made is left behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import tarfile
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from file_server import FileServer, serve_files
from service_support import FAST, local_service, sample_body

from aibtui.arm.client import ArmClient, RetryPolicy
from aibtui.arm.errors import ArmError
from aibtui.arm.local import local_client
from aibtui.config import LocalBuildConfig
from aibtui.localbuild import steps
from aibtui.localbuild.rootfs import find_static_busybox, make_busybox_rootfs
from aibtui.localbuild.sandbox import detect_backend
from aibtui.service.server import LocalService

BACKEND, WHY = detect_backend()
pytestmark = [
    pytest.mark.skipif(BACKEND is None, reason=f"no sandbox on this machine: {WHY}"),
    pytest.mark.skipif(find_static_busybox() is None,
                       reason="no static busybox for the test rootfs (apt-get install busybox-static)"),
]
URN_KEY = "canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2"
RETRY = RetryPolicy(attempts=3, backoff=0.01, timeout=15, poll_interval=0.01)
SUB_RG = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers"


# -- fixtures -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def busybox_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_busybox_rootfs(tmp_path_factory.mktemp("rootfs") / "busybox")


# marker sleeps, unique to this test process: another suite running on the machine (another checkout, a
# second pass) has its own and never counts as ours
LONG = str(random.SystemRandom().randint(10_000_000, 49_999_999))
HANG = str(int(LONG) + 50_000_000)


def _markers() -> set[int]:
    """PIDs of processes whose command line carries one of our marker sleeps."""
    pids = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if f"sleep\x00{LONG}".encode() in cmd or f"sleep\x00{HANG}".encode() in cmd:
            pids.add(int(entry))
    return pids


def _no_markers(timeout: float = 10.0) -> bool:
    """True once no marker sleep is left (a killed process tree is reaped by the kernel, not instantly)."""
    deadline = time.monotonic() + timeout
    while _markers():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _mounts() -> list[str]:
    return Path("/proc/self/mountinfo").read_text().splitlines()


@pytest.fixture
def clean_host(tmp_path: Path) -> Iterator[None]:
    before = _mounts()
    yield
    assert _no_markers(), "a step's process outlived its build"
    assert [m for m in _mounts() if m not in before and str(tmp_path) in m] == [], "a mount was left behind"


@pytest.fixture
def files(monkeypatch: pytest.MonkeyPatch) -> Iterator[FileServer]:
    """A file server on 127.0.0.1. The service refuses loopback URLs in templates (the build VM could not
    reach them), so templates name https://files.test/... and File/Shell downloads are routed here."""
    with serve_files() as (srv, base):
        real = steps._open_url
        monkeypatch.setattr(steps, "_open_url", lambda url, timeout: real(url.replace("https://files.test", base),
                                                                          timeout))
        yield srv


def _url(srv: FileServer, path: str) -> str:
    return f"https://files.test{path}"


def _loopback(srv: FileServer, path: str) -> str:
    return f"http://127.0.0.1:{srv.server_address[1]}{path}"


@pytest.fixture
def svc(tmp_path: Path, busybox_root: Path, clean_host: None) -> Iterator[LocalService]:
    settings = replace(FAST, local=LocalBuildConfig(rootfs=((URN_KEY, str(busybox_root)),)), minute_seconds=0.5)
    with local_service(tmp_path / "state", settings) as s:
        yield s


def _client(svc: LocalService, tmp_path: Path) -> ArmClient:
    return local_client(tmp_path / "state", api_version="2024-02-01", base_url=svc.base_url, retry=RETRY)


def body(*steps: dict[str, Any], outputs: tuple[dict[str, Any], ...] = (), validations: tuple[dict, ...] = (),
         **props: Any) -> dict[str, Any]:
    b = sample_body(steps=(), outputs=())
    b["properties"]["customize"] = list(steps)
    b["properties"]["distribute"] = list(outputs) or [
        {"type": "ManagedImage", "runOutputName": "img", "location": "westus2",
         "imageId": f"{SUB_RG}/Microsoft.Compute/images/img"}]
    if validations:
        b["properties"]["validate"] = {"inVMValidations": list(validations)}
    b["properties"].update(props)
    return b


def shell(name: str, *lines: str) -> dict[str, Any]:
    return {"type": "Shell", "name": name, "inline": list(lines)}


def build(c: ArmClient, name: str, b: dict[str, Any], timeout: float = 20.0) -> tuple[dict[str, Any], list[str]]:
    c.create_template(name, b).result(timeout=5)
    c.run(name).wait(timeout=timeout)
    status = c.get_template(name)["properties"]["lastRunStatus"]
    lines = [ln["text"] for ln in c.customization_log(name)["lines"]]
    return status, lines


# -- the example, end to end ---------------------------------------------------------------------
def test_linux_template_runs_for_real_live_in_order_with_artifacts(svc, tmp_path, files) -> None:
    c = _client(svc, tmp_path)
    payload = b"hello from the file step\n"
    files.files["/conf.txt"] = payload
    b = body(
        shell("write", "echo writing", "mkdir -p /etc/app", "echo built-by-step-1 > /etc/app/marker",
              "sudo touch /etc/app/sudo-worked", "echo done >&2"),
        {"type": "File", "name": "conf", "sourceUri": _url(files, "/conf.txt"), "destination": "/tmp/conf.txt",
         "sha256Checksum": hashlib.sha256(payload).hexdigest()},
        shell("read", "echo first", "sleep 0.6", "cat /etc/app/marker /tmp/conf.txt", "cp /tmp/conf.txt /etc/app/"),
        validations=(shell("check", "test -f /etc/app/sudo-worked", "echo validated"),),
        outputs=({"type": "ManagedImage", "runOutputName": "img", "location": "westus2",
                  "imageId": f"{SUB_RG}/Microsoft.Compute/images/img"},
                 {"type": "VHD", "runOutputName": "disk"}))
    c.create_template("ex", b).result(timeout=5)
    c.run("ex")
    # live: the first line of step 'read' is readable while that step still runs
    after, seen_live = 0, False
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        log = c.customization_log("ex", after=after, wait=2)
        texts = [ln["text"] for ln in log["lines"]]
        after = log["next"]
        if "[read] first" in texts and log["runState"] == "Running" and "[read] built-by-step-1" not in texts:
            seen_live = True
        if log["complete"]:
            break
    assert seen_live, "the step's output was not visible while it ran"
    status = c.get_template("ex")["properties"]["lastRunStatus"]
    lines = [ln["text"] for ln in c.customization_log("ex")["lines"]]
    assert status["runState"] == "Succeeded", (status, lines)
    assert "simulated" not in status["message"].lower() and "every step ran in the sandbox" in status["message"]
    assert status["aibtuiExecution"] == {"mode": "executed", "reason": None, "sandbox": BACKEND}
    assert c.customization_log("ex")["simulated"] is False
    order = ["==> customize 1/3: step 'write' (Shell)", "[write] writing", "[write] ! done",
             "<== step 'write' (Shell): exit code 0", "==> customize 2/3: step 'conf' (File)",
             "==> customize 3/3: step 'read' (Shell)", "[read] first", "[read] built-by-step-1",
             "[read] hello from the file step", "==> validation 1/1: step 'check' (Shell)", "[check] validated",
             "skipped: deprovision"]
    idx = [next(i for i, ln in enumerate(lines) if ln.startswith(o)) for o in order]
    assert idx == sorted(idx), lines
    outs = {o["name"]: o["properties"] for o in c.run_outputs("ex")}
    assert outs["img"]["artifactId"].endswith("/images/img")
    vhd = Path(outs["disk"]["artifactUri"].removeprefix("file://"))
    assert vhd.is_file() and vhd.stat().st_size % (1024 * 1024) == 512
    with open(vhd, "rb") as fh:
        fh.seek(-512, os.SEEK_END)
        assert fh.read(8) == b"conectix"  # the VHD footer
    tarball = vhd.parent / "rootfs.tar"
    with tarfile.open(tarball) as tar:
        names = set(tar.getnames())
        assert "./etc/app/marker" in names and "./etc/app/conf.txt" in names
        marker = tar.extractfile("./etc/app/marker")
        assert marker is not None and marker.read() == b"built-by-step-1\n"
    assert not (svc.state / "local" / "runs").exists() or not any((svc.state / "local" / "runs").iterdir())


def test_a_second_template_builds_on_the_first_ones_local_image(svc, tmp_path) -> None:
    c = _client(svc, tmp_path)
    image = f"{SUB_RG}/Microsoft.Compute/images/base-layer"
    first = body(shell("base", "echo from-the-base > /etc/base-layer"),
                 outputs=({"type": "ManagedImage", "runOutputName": "base", "location": "westus2",
                           "imageId": image},))
    status, _ = build(c, "base", first)
    assert status["runState"] == "Succeeded"
    second = body(shell("app", "cat /etc/base-layer", "echo app > /etc/app-layer"),
                  outputs=({"type": "ManagedImage", "runOutputName": "app", "location": "westus2",
                            "imageId": f"{SUB_RG}/Microsoft.Compute/images/app-layer"},))
    second["properties"]["source"] = {"type": "ManagedImage", "imageId": image}
    status, lines = build(c, "app", second)
    assert status["runState"] == "Succeeded", lines
    assert "[app] from-the-base" in lines
    assert any("chosen by local image" in ln for ln in lines)


# -- failures -------------------------------------------------------------------------------------
def test_a_failing_step_fails_the_run_with_its_name_and_exit_code(svc, tmp_path) -> None:
    c = _client(svc, tmp_path)
    status, lines = build(c, "bad", body(shell("ok", "echo fine"), shell("boom", "echo before", "exit 3"),
                                          shell("never", "echo SHOULD-NOT-RUN")))
    assert status["runState"] == "Failed"
    assert "step 'boom' (Shell) failed: exit code 3" in status["message"]
    assert "[boom] before" in lines and not any("SHOULD-NOT-RUN" in ln for ln in lines)
    assert c.run_outputs("bad") == []
    assert "errorHandling.onCustomizerError is cleanup: the sandbox is removed" in lines


def test_error_handling_abort_keeps_the_failed_sandbox(svc, tmp_path) -> None:
    c = _client(svc, tmp_path)
    b = body(shell("leave", "echo evidence > /root/evidence", "false"), errorHandling={"onCustomizerError": "abort"})
    status, _ = build(c, "keep", b)
    assert status["runState"] == "Failed" and "kept at " in status["message"]
    kept = Path(status["message"].rsplit("kept at ", 1)[1])
    assert (kept / "root" / "evidence").read_text() == "evidence\n"
    shutil.rmtree(kept.parent)


def test_valid_exit_codes_accept_a_non_zero_exit(svc, tmp_path, busybox_root) -> None:
    with_pwsh = tmp_path / "with-pwsh"
    shutil.copytree(busybox_root, with_pwsh, symlinks=True)
    fake = with_pwsh / "usr" / "bin" / "pwsh"  # a stand-in: runs the .ps1 (here valid sh) with sh
    fake.write_text('#!/bin/sh\nfor a; do last="$a"; done\nexec sh "$last"\n')
    fake.chmod(0o755)
    c = _client(svc, tmp_path)
    b = body({"type": "PowerShell", "name": "three", "inline": ["echo pwsh-ran", "exit 3"], "validExitCodes": [0, 3]},
             shell("after", "echo after"))
    c.create_template("codes", b).result(timeout=5)
    c.begin("POST", c.url(c.template_path("codes") + "/run", extra=f"&rootfs={with_pwsh}"), ok=(202,),
            final_via="azure-async-operation").wait(timeout=20)
    status = c.get_template("codes")["properties"]["lastRunStatus"]
    lines = [ln["text"] for ln in c.customization_log("codes")["lines"]]
    assert status["runState"] == "Succeeded", lines
    assert "[three] pwsh-ran" in lines and "[after] after" in lines
    assert any(ln.startswith("<== step 'three' (PowerShell): exit code 3 (valid: 0, 3)") for ln in lines)


def test_powershell_without_pwsh_fails_and_says_so(svc, tmp_path) -> None:
    c = _client(svc, tmp_path)
    status, _ = build(c, "nopwsh", body({"type": "PowerShell", "name": "ps", "inline": ["Write-Host hi"]}))
    assert status["runState"] == "Failed" and "need pwsh in the root filesystem" in status["message"]


def test_timeout_kills_the_step_and_fails_like_the_service(svc, tmp_path) -> None:
    c = _client(svc, tmp_path)  # minute_seconds=0.5: buildTimeoutInMinutes 1 is half a second
    started = time.monotonic()
    status, lines = build(c, "slow", body(shell("hang", "echo hanging", f"sleep {HANG}"), buildTimeoutInMinutes=1),
                          timeout=20)
    assert time.monotonic() - started < 10  # the half-second timeout, not the step's own end
    assert status["runState"] == "Failed"
    assert "context deadline exceeded" in status["message"] and "buildTimeoutInMinutes 1" in status["message"]
    assert _no_markers()


def test_cancel_mid_step_kills_the_whole_tree_within_a_second(svc, tmp_path) -> None:
    c = _client(svc, tmp_path)
    b = body(shell("long", "echo started", f"sleep {LONG} &", f"sleep {LONG}"), buildTimeoutInMinutes=120)
    c.create_template("cx", b).result(timeout=5)
    c.run("cx")
    after = 0
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        log = c.customization_log("cx", after=after, wait=1)
        after = log["next"]
        if any(ln["text"] == "[long] started" for ln in log["lines"]):
            break
    while len(_markers()) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(_markers()) >= 2, "the step's two sleeps should be running"
    asked = time.monotonic()
    c.cancel("cx").wait(timeout=5)
    took = time.monotonic() - asked
    status = c.get_template("cx")["properties"]["lastRunStatus"]
    assert status["runState"] == "Canceled" and "processes were killed" in status["message"]
    assert took < 5, took  # promptly (about a second on an idle machine), not when the sleeps end
    assert _no_markers(), "processes of the canceled step are still running"


def test_sha256_mismatch_fails_the_file_step(svc, tmp_path, files) -> None:
    files.files["/x.txt"] = b"the real content\n"
    c = _client(svc, tmp_path)
    b = body({"type": "File", "name": "dl", "sourceUri": _url(files, "/x.txt"), "destination": "/tmp/x.txt",
              "sha256Checksum": "0" * 64})
    status, _ = build(c, "sha", b)
    assert status["runState"] == "Failed"
    assert "step 'dl' (File) failed: sha256 mismatch" in status["message"]


def test_file_step_outside_tmp_is_refused(svc, tmp_path, files) -> None:
    files.files["/x.txt"] = b"x"
    c = _client(svc, tmp_path)
    b = body({"type": "File", "name": "etc", "sourceUri": _url(files, "/x.txt"), "destination": "/etc/x.txt"})
    with pytest.raises(ArmError) as exc:  # the service validates like Azure: refused before any run
        c.create_template("outside", b).result(timeout=5)
    assert "outside /tmp" in str(exc.value)


def test_file_step_into_a_missing_folder_fails_like_the_service(svc, tmp_path, files) -> None:
    files.files["/x.txt"] = b"x"
    c = _client(svc, tmp_path)
    b = body({"type": "File", "name": "deep", "sourceUri": _url(files, "/x.txt"), "destination": "/tmp/no/such/x"})
    status, _ = build(c, "deep", b)
    assert status["runState"] == "Failed" and "step 'deep' (File)" in status["message"]


@pytest.mark.parametrize("sandbox", ["bwrap", "unshare"])
def test_steps_cannot_read_or_write_host_files(sandbox, tmp_path, busybox_root, clean_host) -> None:
    usable, why = detect_backend(sandbox)
    if usable is None:
        pytest.skip(why)
    secret = tmp_path / "host-secret.txt"
    secret.write_text("TOP-SECRET\n")
    target = tmp_path / "written-from-the-sandbox"
    # a root process in a plain chroot could climb out with chroot("x") + chdir(".."); here there is no way up
    climb = "mkdir -p /x && cd / && for i in 1 2 3 4 5 6 7 8; do cd ..; done && ls"
    settings = replace(FAST, local=LocalBuildConfig(rootfs=((URN_KEY, str(busybox_root)),), sandbox=sandbox))
    with local_service(tmp_path / "state", settings) as s:
        c = _client(s, tmp_path)
        b = body(shell("peek", f"cat {secret} || echo cannot-read", f"echo pwned > {target} || echo cannot-write",
                       f"ls {tmp_path} || echo cannot-list", "cat /etc/hostname", climb,
                       "cat /proc/sys/kernel/core_pattern > /tmp/cp",  # the same value back: harmless if it worked
                       "cat /tmp/cp > /proc/sys/kernel/core_pattern 2>/dev/null || echo sysctl-read-only",
                       "mkdir -p /mnt/p && mount -t proc proc /mnt/p 2>/dev/null || echo cannot-mount",
                       "echo x > /root/owned && chown 42:42 /root/owned && echo chown-ok",
                       "grep -c . /proc/self/mountinfo", "ls /proc | grep -c '^[0-9]'"))
        status, lines = build(c, "iso", b)
    assert status["runState"] == "Succeeded", lines
    assert not any("TOP-SECRET" in ln for ln in lines)
    assert "[peek] cannot-read" in lines and "[peek] cannot-write" in lines and "[peek] cannot-list" in lines
    assert not target.exists()
    assert "[peek] aibtui-build" in lines  # the rootfs's /etc/hostname, not the host's
    assert "[peek] x" in lines and "[peek] linuxrc" in lines  # climbing up ends at the rootfs's own /
    assert "[peek] sysctl-read-only" in lines and "[peek] cannot-mount" in lines  # the machine's settings: no
    if os.geteuid() == 0:  # identity-mapped ids: packages can chown to their system users
        assert "[peek] chown-ok" in lines
    counts = [int(ln.split()[-1]) for ln in lines if ln.startswith("[peek] ") and ln.split()[-1].isdigit()]
    assert counts and counts[-1] <= 5, lines  # only the sandbox's own processes are visible (pid 1, sh, ls, grep)


def test_deprovision_script_runs_when_a_step_writes_it(svc, tmp_path) -> None:
    c = _client(svc, tmp_path)
    b = body(shell("prep", "echo 'echo custom-deprovision; rm -f /root/.history' > /tmp/DeprovisioningScript.sh"))
    status, lines = build(c, "deprov", b)
    assert status["runState"] == "Succeeded", lines
    assert "[deprovision] custom-deprovision" in lines and not any(ln.startswith("skipped: deprovision")
                                                                  for ln in lines)


# -- when it does not execute ---------------------------------------------------------------------
def test_windows_templates_are_simulated_and_list_the_steps_needing_azure(svc, tmp_path) -> None:
    c = _client(svc, tmp_path)
    b = body({"type": "PowerShell", "name": "iis", "inline": ["Install-WindowsFeature Web-Server"]},
             {"type": "WindowsRestart", "name": "reboot"})
    b["properties"]["source"] = {"type": "PlatformImage", "publisher": "MicrosoftWindowsServer",
                                 "offer": "WindowsServer", "sku": "2022-datacenter-azure-edition",
                                 "version": "latest"}
    status, lines = build(c, "win", b)
    assert status["runState"] == "Succeeded" and "simulated" in status["message"]
    assert "these steps would need Azure: 'iis' (PowerShell), 'reboot' (WindowsRestart)" in status["message"]
    assert lines[0].startswith("SIMULATED RUN") and "Windows images can't be built locally" in lines[0]
    assert c.customization_log("win")["simulated"] is True
    ex = status["aibtuiExecution"]
    assert ex["mode"] == "simulated" and ex["sandbox"] is None
    assert ex["reason"].startswith("Windows images can't be built locally; these steps would need Azure: 'iis'")


def test_no_rootfs_for_the_source_simulates_and_says_how_to_provide_one(svc, tmp_path) -> None:
    c = _client(svc, tmp_path)
    b = body(shell("x", "echo x"))
    b["properties"]["source"] = {"type": "PlatformImage", "publisher": "RedHat", "offer": "RHEL", "sku": "9-lvm-gen2",
                                 "version": "latest"}
    status, lines = build(c, "norootfs", b)
    assert "simulated" in status["message"] and "no root filesystem for RedHat:RHEL:9-lvm-gen2:latest" in lines[0]
    assert "--rootfs PATH" in status["message"]
    assert status["aibtuiExecution"]["mode"] == "simulated"
    assert status["aibtuiExecution"]["reason"].startswith("no root filesystem for RedHat:RHEL:9-lvm-gen2:latest")


def test_a_named_rootfs_that_does_not_exist_refuses_the_run(svc, tmp_path) -> None:
    c = _client(svc, tmp_path)
    c.create_template("missing", body(shell("x", "echo x"))).result(timeout=5)
    with pytest.raises(ArmError) as exc:
        c.begin("POST", c.url(c.template_path("missing") + "/run", extra=f"&rootfs={tmp_path}/nope"), ok=(202,),
                final_via="azure-async-operation")
    assert exc.value.status == 400 and "does not exist" in str(exc.value)


# -- both sandboxes --------------------------------------------------------------------------------
@pytest.mark.skipif(os.geteuid() != 0, reason="the unshare + pivot_root sandbox needs root")
def test_the_unshare_pivot_root_sandbox_runs_a_build_too(tmp_path, busybox_root, clean_host) -> None:
    settings = replace(FAST, local=LocalBuildConfig(rootfs=((URN_KEY, str(busybox_root)),), sandbox="unshare"))
    with local_service(tmp_path / "state", settings) as s:
        c = _client(s, tmp_path)
        status, lines = build(c, "chroot", body(shell("a", "echo one > /root/one"), shell("b", "cat /root/one",
                                                                                          "ls /proc/1 >/dev/null")))
    assert status["runState"] == "Succeeded", lines
    assert "[b] one" in lines and any("unshare sandbox" in ln for ln in lines)


# -- the official rootfs download path, against a loopback server ----------------------------------
def test_rootfs_download_is_verified_cached_and_reused(tmp_path, busybox_root, files, clean_host) -> None:
    tar_path = tmp_path / "rootfs.tar"
    with tarfile.open(tar_path, "w") as tar:
        tar.add(busybox_root, arcname=".")
    data = tar_path.read_bytes()
    files.files["/images/rootfs.tar"] = data
    files.files["/images/SHA256SUMS"] = f"{hashlib.sha256(data).hexdigest()} *rootfs.tar\n".encode()
    url = _loopback(files, "/images/rootfs.tar")
    settings = replace(FAST, local=LocalBuildConfig(rootfs=((URN_KEY, url),)))
    with local_service(tmp_path / "state", settings) as s:
        c = _client(s, tmp_path)
        status, lines = build(c, "dl1", body(shell("a", "echo downloaded-rootfs-works")))
        assert status["runState"] == "Succeeded", lines
        assert "[a] downloaded-rootfs-works" in lines
        assert any(ln.startswith("download: 100%") for ln in lines)
        assert any("verified against the published SHA256SUMS" in ln for ln in lines)
        status, lines = build(c, "dl2", body(shell("b", "echo again")))
        assert status["runState"] == "Succeeded"
    assert files.hits.count("/images/rootfs.tar") == 1  # cached: downloaded once


def test_rootfs_download_with_a_wrong_checksum_fails_and_caches_nothing(tmp_path, files, clean_host) -> None:
    files.files["/images/rootfs.tar"] = b"not what the checksum says"
    files.files["/images/SHA256SUMS"] = f"{'1' * 64}  rootfs.tar\n".encode()
    settings = replace(FAST, local=LocalBuildConfig(rootfs=((URN_KEY, _loopback(files, "/images/rootfs.tar")),)))
    with local_service(tmp_path / "state", settings) as s:
        c = _client(s, tmp_path)
        status, _ = build(c, "dlbad", body(shell("a", "echo a")))
    assert status["runState"] == "Failed" and "sha256 mismatch" in status["message"]
    cache = tmp_path / "state" / "local" / "cache"
    assert not cache.exists() or list(cache.iterdir()) == []


def test_health_reports_what_local_builds_can_really_do(svc, tmp_path, busybox_root) -> None:
    c = _client(svc, tmp_path)
    health = json.loads(c.send("GET", f"{svc.base_url}/_aibtui/health").body)["localBuilds"]
    assert health["sandbox"] == {"available": True, "backend": BACKEND, "problem": None}
    assert health["rootfs"]["configured"] == [{"source": URN_KEY, "rootfs": str(busybox_root), "present": True}]
    assert health["rootfs"]["available"] is True and health["canExecute"] is True


def test_health_without_a_rootfs_or_a_sandbox_says_so(tmp_path) -> None:
    missing = tmp_path / "no-such-rootfs"
    settings = replace(FAST, local=LocalBuildConfig(rootfs=((URN_KEY, str(missing)),)))
    with local_service(tmp_path / "state", settings) as s:
        s.runner._detect = lambda prefer: (None, "no sandbox: install bubblewrap")  # a machine without one
        health = json.loads(_client(s, tmp_path).send("GET", f"{s.base_url}/_aibtui/health").body)["localBuilds"]
    assert health["sandbox"] == {"available": False, "backend": None, "problem": "no sandbox: install bubblewrap"}
    assert health["rootfs"] == {"available": False, "localImages": 0, "download": False,
                                "configured": [{"source": URN_KEY, "rootfs": str(missing), "present": False}]}
    assert health["canExecute"] is False


def test_stopping_the_service_mid_step_kills_it_and_fails_the_run(tmp_path, busybox_root, clean_host) -> None:
    settings = replace(FAST, local=LocalBuildConfig(rootfs=((URN_KEY, str(busybox_root)),)))
    state = tmp_path / "state"
    stale = state / "local" / "runs" / "left-by-a-killed-service" / "root"
    stale.mkdir(parents=True)
    with local_service(state, settings) as s:
        assert not stale.parent.exists()  # a killed service's sandbox is removed at the next start
        c = _client(s, tmp_path)
        c.create_template("stop", body(shell("long", "echo started", f"sleep {HANG}"))).result(timeout=5)
        c.run("stop")
        deadline, after = time.monotonic() + 10, 0
        while time.monotonic() < deadline:
            log = c.customization_log("stop", after=after, wait=1)
            after = log["next"]
            if any(ln["text"] == "[long] started" for ln in log["lines"]):
                break
        while not _markers() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert _markers()
    assert _no_markers()
    with local_service(state, settings) as s:
        status = _client(s, tmp_path).get_template("stop")["properties"]["lastRunStatus"]
    assert status["runState"] == "Failed" and "interrupted" in status["message"]
    assert list((state / "local" / "runs").iterdir()) == []


def test_artifacts_are_replaced_by_the_next_run_and_go_with_the_template(svc, tmp_path) -> None:
    c = _client(svc, tmp_path)
    image = f"{SUB_RG}/Microsoft.Compute/images/keepme"
    b = body(shell("a", "echo a > /root/a"), outputs=(
        {"type": "VHD", "runOutputName": "disk"},
        {"type": "ManagedImage", "runOutputName": "img", "location": "westus2", "imageId": image}))
    status, _ = build(c, "arts", b)
    assert status["runState"] == "Succeeded"
    first = Path(c.run_output("arts", "disk")["properties"]["artifactUri"].removeprefix("file://"))
    c.run("arts").wait(timeout=20)
    second = Path(c.run_output("arts", "disk")["properties"]["artifactUri"].removeprefix("file://"))
    assert second.is_file() and second != first and not first.parent.exists()  # the earlier run's files are gone
    c.delete_template("arts").result(timeout=5)
    deadline = time.monotonic() + 5
    while second.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not second.exists()  # DI-06: deleting the template deletes its VHD ...
    assert (second.parent / "rootfs.tar").is_file()  # ... but the managed image (a separate resource) stays
    only_vhd = body(shell("b", "true"), outputs=({"type": "VHD", "runOutputName": "disk"},))
    status, lines = build(c, "vhdonly", only_vhd)
    assert status["runState"] == "Succeeded" and "rootfs tarball removed: no ManagedImage or SharedImage" in \
        " ".join(lines)
