"""Per-step resource limits of local builds: processes (pids), memory and CPU time.

Where the machine allows it, each step runs in its own cgroup:

- cgroup v2, when the service's own cgroup is delegated to it (it can create a child and enable
  the ``pids`` and ``memory`` controllers there): ``pids.max``, ``memory.max`` (and
  ``memory.swap.max = 0``), CPU time from ``cpu.stat``;
- cgroup v1 (as root, on hybrid/legacy machines): a child of the service's own cgroup in the
  ``pids``, ``memory`` and ``cpuacct`` hierarchies;
- otherwise rlimits on the sandbox's first process, inherited by every process of the step:
  ``RLIMIT_NPROC`` (weaker: counted per user, not per step) and ``RLIMIT_AS`` (per process).

``RLIMIT_CPU`` is always set as a backstop (per process). A watchdog (:meth:`StepCgroup.tripped`,
asked by the output loop every tick) stops the whole step as soon as a limit is hit (a fork bomb
whose forks fail would otherwise spin until the build times out), and the step fails with the
limit's name. :func:`describe` says which mechanism is in force (``aibtui serve`` prints it, the
service's health answer carries it).
"""

from __future__ import annotations

import errno
import os
import resource
import signal
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

CGROOT = Path("/sys/fs/cgroup")


@dataclass(frozen=True)
class StepLimits:
    pids: int = 1024  # processes and threads of one step
    memory_mb: int = 4096  # memory of one step (all its processes together, with cgroups)
    cpu_seconds: int = 3600  # CPU time of one step


def _own_paths() -> dict[str, str]:
    """controller (or "" for v2) -> this process's cgroup path."""
    out: dict[str, str] = {}
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _id, controllers, path = line.split(":", 2)
            for c in controllers.split(",") if controllers else [""]:
                out[c] = path
    except (OSError, ValueError):
        pass
    return out


def _v1_dirs() -> dict[str, Path] | None:
    """Writable v1 hierarchies for pids, memory and cpuacct, or None."""
    own = _own_paths()
    dirs: dict[str, Path] = {}
    for ctl in ("pids", "memory", "cpuacct"):
        mount = CGROOT / ctl
        if not (mount / "cgroup.procs").exists() or ctl not in own:
            return None
        base = mount / own[ctl].lstrip("/")
        if not os.access(base, os.W_OK):
            return None
        dirs[ctl] = base
    return dirs


def _v2_dir() -> Path | None:
    """This process's v2 cgroup when pids and memory can be enabled for children, or None."""
    if not (CGROOT / "cgroup.controllers").exists():
        return None
    own = _own_paths().get("")
    if own is None:
        return None
    base = CGROOT / own.lstrip("/")
    control = base / "cgroup.subtree_control"
    try:
        if {"pids", "memory"} <= set(control.read_text().split()):
            return base if os.access(base, os.W_OK) else None
        try:
            control.write_text("+pids +memory")
        except OSError as exc:
            if exc.errno != errno.EBUSY:
                raise
            # "No internal processes": a cgroup with processes cannot give controllers to children.
            # As systemd does for a delegated service, move this process into a leaf of its own first.
            leaf = base / "aibtui-service"
            leaf.mkdir(exist_ok=True)
            (leaf / "cgroup.procs").write_text(str(os.getpid()))
            control.write_text("+pids +memory")
    except OSError:
        return None  # not delegated to us
    return base if os.access(base, os.W_OK) else None


_MECHANISM: str | None = None


def mechanism() -> str:
    """``"cgroup v2"``, ``"cgroup v1"`` or ``"rlimits"`` (probed once)."""
    global _MECHANISM
    if _MECHANISM is None:
        if _v2_dir() is not None:
            _MECHANISM = "cgroup v2"
        elif _v1_dirs() is not None and _probe_v1():
            _MECHANISM = "cgroup v1"
        else:
            _MECHANISM = "rlimits"
    return _MECHANISM


def _probe_v1() -> bool:
    dirs = _v1_dirs()
    if dirs is None:
        return False
    probe = f"aibtui-probe-{os.getpid()}"
    made: list[Path] = []
    try:
        for d in dirs.values():
            (d / probe).mkdir()
            made.append(d / probe)
        return True
    except OSError:
        return False
    finally:
        for p in made:
            try:
                p.rmdir()
            except OSError:
                pass


def describe(limits: StepLimits) -> dict[str, str]:
    """What limits each step and how, for the health answer and `aibtui serve`."""
    mech = mechanism()
    if mech == "rlimits":
        return {"mechanism": "rlimits and a watchdog (no delegated cgroup)",
                "pids": f"{limits.pids} (counted by a watchdog every 0.1 s; RLIMIT_NPROC too for non-root users)",
                "memory": f"{limits.memory_mb} MB per process (RLIMIT_AS)",
                "cpu": f"{limits.cpu_seconds} s per process (RLIMIT_CPU)"}
    return {"mechanism": mech, "pids": f"{limits.pids} per step (pids controller)",
            "memory": f"{limits.memory_mb} MB per step (memory controller, no swap)",
            "cpu": f"{limits.cpu_seconds} s per step (CPU accounting; RLIMIT_CPU per process as a backstop)"}


def _write(path: Path, value: str) -> bool:
    try:
        path.write_text(value)
        return True
    except OSError:
        return False


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _field(text: str, key: str) -> int:
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == key and parts[1].isdigit():
            return int(parts[1])
    return 0


def _user_tasks(uid: int) -> int:
    """Processes and threads of ``uid`` now (what RLIMIT_NPROC counts)."""
    count = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        fields = {line.split(":", 1)[0]: line.split(":", 1)[1].split() for line in status.splitlines() if ":" in line}
        if fields.get("Uid", ["-1"])[0] == str(uid):
            count += int((fields.get("Threads") or ["1"])[0])
    return count


def _tasks_below(pid: int) -> int:
    """Processes and threads in the tree below ``pid`` (the watchdog's count without a pids cgroup)."""
    children: dict[int, list[int]] = {}
    threads: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        children.setdefault(int(stat[1]), []).append(int(entry))
        threads[int(entry)] = int(stat[17]) if len(stat) > 17 and stat[17].isdigit() else 1
    total, todo = 0, [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            total += threads.get(child, 1)
            todo.append(child)
    return total


class StepCgroup:
    """The limits of one step: create, join (in the child, before exec), watch, kill, remove."""

    def __init__(self, limits: StepLimits) -> None:
        self.limits = limits
        self.mech = mechanism()
        self.dirs: dict[str, Path] = {}
        self.hit: str | None = None
        name = f"aibtui-step-{uuid.uuid4().hex[:12]}"
        mem = limits.memory_mb * 1024 * 1024
        if self.mech == "cgroup v2":
            base = _v2_dir()
            if base is not None:
                d = base / name
                try:
                    d.mkdir()
                    self.dirs = {"pids": d, "memory": d, "cpuacct": d}
                    _write(d / "pids.max", str(limits.pids))
                    _write(d / "memory.max", str(mem))
                    _write(d / "memory.swap.max", "0")
                    _write(d / "memory.oom.group", "1")
                except OSError:
                    self.dirs = {}
        elif self.mech == "cgroup v1":
            for ctl, base in (_v1_dirs() or {}).items():
                try:
                    (base / name).mkdir()
                    self.dirs[ctl] = base / name
                except OSError:
                    continue
            if "pids" in self.dirs:
                _write(self.dirs["pids"] / "pids.max", str(limits.pids))
            if "memory" in self.dirs:
                m = self.dirs["memory"]
                _write(m / "memory.limit_in_bytes", str(mem))
                _write(m / "memory.memsw.limit_in_bytes", str(mem))  # no swap either, where accounted
        self.procs_files = sorted({str(d / "cgroup.procs") for d in self.dirs.values()})
        # RLIMIT_NPROC counts every process and thread of the user, not of the step: allow the
        # step `pids` more than the user runs already (as root, that is the whole machine's root).
        # (root is exempt from it whatever the limit: the watchdog counts the step's processes then)
        self.nproc = _user_tasks(os.getuid()) + limits.pids if "pids" not in self.dirs and os.getuid() != 0 else 0
        self.pid: int | None = None  # the step's first process, for the watchdog without a pids cgroup

    # -- in the child, between fork and exec (no locks, no allocation-heavy work) -------------------
    def preexec(self) -> None:
        pid = str(os.getpid()).encode()
        for f in self.procs_files:
            try:
                fd = os.open(f, os.O_WRONLY)
                try:
                    os.write(fd, pid)
                finally:
                    os.close(fd)
            except OSError:
                pass
        cpu = self.limits.cpu_seconds
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
        if self.nproc:
            resource.setrlimit(resource.RLIMIT_NPROC, (self.nproc, self.nproc))
        if "memory" not in self.dirs:
            mem = self.limits.memory_mb * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (mem, mem))

    # -- watching ------------------------------------------------------------------------------------
    def _cpu_seconds(self) -> float:
        d = self.dirs.get("cpuacct")
        if d is None:
            return 0.0
        if self.mech == "cgroup v2":
            return _field(_read(d / "cpu.stat"), "usage_usec") / 1e6
        text = _read(d / "cpuacct.usage").strip()
        return int(text) / 1e9 if text.isdigit() else 0.0

    def watch(self, pid: int) -> None:
        """The step's first process: without a pids cgroup, the watchdog counts what runs below it."""
        self.pid = pid

    def tripped(self) -> str | None:
        """The limit hit so far (a sentence naming it), or None. Sticky."""
        if self.hit is not None:
            return self.hit
        p = self.dirs.get("pids")
        if p is not None and _field(_read(p / "pids.events"), "max") > 0:
            self.hit = f"the pids limit ({self.limits.pids} processes)"
        elif p is None and self.pid is not None and _tasks_below(self.pid) > self.limits.pids:
            self.hit = f"the pids limit ({self.limits.pids} processes)"
        m = self.dirs.get("memory")
        if self.hit is None and m is not None:
            if self.mech == "cgroup v2":
                ooms = _field(_read(m / "memory.events"), "oom_kill")
            else:
                ooms = _field(_read(m / "memory.oom_control"), "oom_kill")
                if not ooms and _field(_read(m / "memory.oom_control"), "under_oom"):
                    ooms = 1
            if ooms:
                self.hit = f"the memory limit ({self.limits.memory_mb} MB)"
        if self.hit is None and self._cpu_seconds() > self.limits.cpu_seconds:
            self.hit = f"the CPU time limit ({self.limits.cpu_seconds} s)"
        return self.hit

    def verdict(self, exit_code: int | None) -> str | None:
        """After the step: the limit that stopped it, if any (cgroup counters, or a SIGXCPU exit)."""
        hit = self.tripped()
        if hit is None and exit_code in (128 + signal.SIGXCPU, -signal.SIGXCPU):
            hit = self.hit = f"the CPU time limit ({self.limits.cpu_seconds} s)"
        return hit

    def pids(self) -> list[int]:
        out: list[int] = []
        for f in self.procs_files:
            out += [int(x) for x in _read(Path(f)).split() if x.isdigit()]
        return sorted(set(out))

    def kill_all(self, settle: float = 5.0) -> None:
        """SIGKILL every process left in the step's cgroup and wait until it is empty."""
        deadline = time.monotonic() + settle
        while self.dirs and time.monotonic() < deadline:
            left = self.pids()
            if not left:
                return
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            time.sleep(0.01)

    def remove(self) -> None:
        self.kill_all()
        for d in set(self.dirs.values()):
            for _ in range(100):
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.01)
        self.dirs = {}
