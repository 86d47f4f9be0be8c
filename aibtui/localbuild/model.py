"""Options of local builds, the plan of one run, and the ways a build stops."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from aibtui.compiler.errors import AibtuiError

from .limits import StepLimits

DEFAULT_LOG_BYTES = 8 * 1024 * 1024  # the stored customization log of one run: head + tail


@dataclass(frozen=True)
class LocalOptions:
    """What the service knows about local builds (from the config file and the service settings)."""

    work_dir: Path  # <state>/local: runs/, artifacts/, cache/, images.json
    rootfs_map: tuple[tuple[str, str], ...] = ()  # (source key, folder | tarball | https URL), lower-cased keys
    download: bool = False  # may fetch the distribution's official cloud rootfs for known marketplace images
    sandbox: str | None = None  # force "bwrap" or "unshare"; None: bwrap when it works, else unshare as root
    minute_seconds: float = 60.0  # length of a buildTimeoutInMinutes minute (tests shrink it)
    network: bool = True  # steps may use the network (apt-get); False unshares it
    limits: StepLimits = StepLimits()  # pids, memory, CPU time per step ([local] pids, memory_mb, cpu_seconds)
    log_bytes: int = DEFAULT_LOG_BYTES  # [local] log_bytes: beyond it the middle of a run's log is dropped


@dataclass(frozen=True)
class RootfsChoice:
    kind: str  # "folder" | "tarball" | "download"
    location: str  # a path, or the URL to download
    found_by: str  # how it was chosen, for the log: "--rootfs", "config [local.rootfs] 'key'", ...
    sums: str | None = None  # a download's published checksum list (default: SHA256SUMS beside it)
    algorithm: str = "sha256"  # of that list: sha256 | sha512
    layout: str = "rootfs"  # rootfs | oci | disk | auto (see distros.json)
    note: str = ""  # said in the log (which distribution stands in for the source, and why)


@dataclass(frozen=True)
class RunPlan:
    """Real execution (``rootfs`` and ``backend`` set) or a simulation with the reason why."""

    rootfs: RootfsChoice | None = None
    backend: str | None = None
    why_simulated: str = ""
    azure_only_steps: tuple[str, ...] = field(default=())

    @property
    def real(self) -> bool:
        return self.rootfs is not None and self.backend is not None


# The local service adds this key to ``properties.lastRunStatus``: whether the run executes its steps
# ("executed": in a sandbox, from a root filesystem) or only walks through the states ("simulated"), why,
# and which sandbox. The official fields (runState, runSubState, message, startTime, endTime) keep their
# meaning; the Azure SDK ignores a key it does not know, and Azure itself never sends this one, so a run
# without it is a real (Azure) run. Readers: aibtui.arm.watch.RunStatus (CLI and TUI).
EXECUTION_FIELD = "aibtuiExecution"
EXECUTED, SIMULATED = "executed", "simulated"


def execution_record(simulated: bool, reason: str, sandbox: str | None) -> dict[str, str | None]:
    """The value of ``lastRunStatus.aibtuiExecution`` for a run."""
    return {"mode": SIMULATED if simulated else EXECUTED, "reason": reason or None, "sandbox": sandbox}


class BuildStop(AibtuiError):
    """Base: the build ends early."""


class Canceled(BuildStop):
    pass


class Interrupted(BuildStop):
    """The service is stopping."""


class TimedOut(BuildStop):
    pass


class SetupError(BuildStop):
    """The build could not start or finish for a reason that is not a step's (rootfs, tools)."""


class StepFailed(BuildStop):
    def __init__(self, step: str, kind: str, why: str, exit_code: int | None = None) -> None:
        super().__init__(why)
        self.step, self.kind, self.why, self.exit_code = step, kind, why, exit_code


def stop_error(reason: str) -> BuildStop:
    """The exception for a ``should_stop`` answer: "canceled", "timeout" or "interrupted"."""
    if reason == "canceled":
        return Canceled()
    if reason == "timeout":
        return TimedOut()
    return Interrupted()
