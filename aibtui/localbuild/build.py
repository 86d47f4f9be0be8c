"""One local build, from a fresh rootfs copy to artifacts, reporting through :class:`BuildHooks`.

The service's runner owns the run's states; this module does the work and raises
:class:`~.model.BuildStop` subclasses when the build ends early.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import artifacts, rootfs
from .model import LocalOptions, RootfsChoice, RunPlan, SetupError, StepFailed, stop_error
from .sandbox import APT_CONF, Sandbox, track
from .steps import StepContext, run_deprovision, run_step

DEFAULT_TIMEOUT_MINUTES = 240  # B-01
TIMEOUT_MESSAGE = ("Failed while waiting for packerizer: Timeout waiting for microservice to complete: "
                   "'context deadline exceeded'")  # B-04


@dataclass
class BuildHooks:
    log: Callable[[list[str]], None]
    phase: Callable[[str, str], None]  # (runSubState, message)
    stop_reason: Callable[[], str | None]  # "canceled" | "interrupted" | None
    put_output: Callable[[str, str | None, str | None], None]  # (runOutputName, artifactId, artifactUri)


KEPT_MARKER = "KEPT"  # in a run folder: errorHandling abort kept it for inspection


def artifacts_dir(work_dir: Path, template_key: str) -> Path:
    """``<work>/artifacts/<name>.<hash of sub/rg/name>``: one folder per template, whatever its names."""
    name = template_key.rsplit("/", 1)[-1]
    return work_dir / "artifacts" / f"{name}.{hashlib.sha256(template_key.encode()).hexdigest()[:12]}"


def prune_artifacts(work_dir: Path, template_key: str, catalog: rootfs.ImageCatalog, keep_run: str | None) -> int:
    """Remove a template's artifacts, except run ``keep_run``'s and rootfs tarballs that a local image
    still points at (a later build may use it as its source). After a new run (its outputs replace
    the earlier ones) and when the template is deleted (DI-06: its VHDs go with it). Returns files removed."""
    base = artifacts_dir(work_dir, template_key)
    if not base.is_dir():
        return 0
    used = catalog.referenced()
    removed = 0
    for run in base.iterdir():
        if run.name == keep_run or not run.is_dir():
            continue
        for f in run.iterdir():
            if str(f) in used:
                continue
            rootfs.remove_tree(f) if f.is_dir() else f.unlink(missing_ok=True)
            removed += 1
        if not any(run.iterdir()):
            run.rmdir()
    if not any(base.iterdir()):
        base.rmdir()
    return removed


def clean_stale_runs(work_dir: Path) -> int:
    """Recovery at start-up, after a service that stopped (or was killed with -9) mid-run: kill the
    process groups its runs recorded (a ``tar`` still writing an artifact, a step), remove their run
    folders (not those kept for inspection) and every artifact left half-written (``*.partial``),
    with the artifact folders that are then empty. Returns how many run folders were removed."""
    from .sandbox import kill_recorded

    runs = work_dir / "runs"
    stale = [d for d in runs.iterdir() if d.is_dir()] if runs.is_dir() else []
    for d in stale:
        kill_recorded(d)
    stale = [d for d in stale if not (d / KEPT_MARKER).exists()]
    for d in stale:
        rootfs.remove_tree(d)
    arts = work_dir / "artifacts"
    if arts.is_dir():
        for tmp in arts.glob(f"*/*/*{artifacts.PARTIAL}"):
            run_folder = tmp.parent
            tmp.unlink(missing_ok=True)
            if not any(run_folder.iterdir()):
                run_folder.rmdir()
    return len(stale)


def _timeout_seconds(props: dict[str, Any], opts: LocalOptions) -> float:
    minutes = props.get("buildTimeoutInMinutes") or DEFAULT_TIMEOUT_MINUTES
    try:
        minutes = float(minutes)
    except (TypeError, ValueError):
        minutes = DEFAULT_TIMEOUT_MINUTES
    return max(0.001, minutes * opts.minute_seconds)


class LocalBuild:
    def __init__(self, run_id: str, template_key: str, body: dict[str, Any], plan: RunPlan, opts: LocalOptions,
                 catalog: rootfs.ImageCatalog, hooks: BuildHooks) -> None:
        assert plan.rootfs is not None and plan.backend is not None
        self.run_id, self.template_key, self.body, self.plan = run_id, template_key, body, plan
        self.template = template_key.rsplit("/", 1)[-1]
        from .logcap import LogCap

        self.logcap = LogCap(hooks.log, opts.log_bytes)
        hooks = BuildHooks(log=self.logcap, phase=hooks.phase, stop_reason=hooks.stop_reason,
                           put_output=hooks.put_output)
        self.opts, self.catalog, self.hooks = opts, catalog, hooks
        self.props: dict[str, Any] = body.get("properties") or {}
        self.run_dir = opts.work_dir / "runs" / run_id
        self.out_dir = artifacts_dir(opts.work_dir, template_key) / run_id
        self.deadline = time.monotonic() + _timeout_seconds(self.props, opts)
        self.kept: Path | None = None
        self._succeeded = False

    def _should_stop(self) -> str | None:
        reason = self.hooks.stop_reason()
        if reason is None and time.monotonic() > self.deadline:
            return "timeout"
        return reason

    def _check(self) -> None:
        reason = self._should_stop()
        if reason is not None:
            raise stop_error(reason)

    def run(self) -> str:
        """Build; returns the success message. Cleans up its sandbox unless errorHandling says abort."""
        keep = False
        try:
            return self._run()
        except StepFailed as exc:
            policy = (self.props.get("errorHandling") or {})
            which = "onValidationError" if exc.kind.startswith("validation:") else "onCustomizerError"
            if str(policy.get(which, "cleanup")).lower() == "abort":
                keep = True
                self.kept = self.run_dir / "root"
                (self.run_dir / KEPT_MARKER).write_text(f"kept by errorHandling.{which}: abort\n", encoding="utf-8")
                self.hooks.log([f"errorHandling.{which} is abort: the failed sandbox is kept for inspection at "
                                f"{self.kept} (remove it when done)"])
            else:
                self.hooks.log([f"errorHandling.{which} is cleanup: the sandbox is removed"])
            raise
        finally:
            track(None)
            self.logcap.close()  # the tail of a capped log, before the run's last message
            if not keep:
                rootfs.remove_tree(self.run_dir)
            if not self._succeeded:
                rootfs.remove_tree(self.out_dir)

    def _run(self) -> str:
        hooks, plan = self.hooks, self.plan
        assert plan.rootfs is not None and plan.backend is not None
        choice = plan.rootfs
        hooks.phase("Building", f"Building: preparing a sandboxed copy of the root filesystem ({plan.backend})")
        where = choice.location if choice.kind != "busybox" else "a busybox root filesystem"
        hooks.log([f"local build: steps run in a {plan.backend} sandbox on a fresh copy of {where} "
                   f"(chosen by {choice.found_by}); nothing runs on the host"])
        cached = None
        if choice.kind == "download":
            try:
                cached = self._download(choice)
            except rootfs.DownloadUnavailable as exc:  # offline: busybox, said loudly; a bad checksum still fails
                choice = RootfsChoice("busybox", "", "fallback")
                hooks.log([f"{exc}; falling back to the busybox root filesystem: steps that need the "
                           "distribution's tools (apt-get, dnf, zypper) will fail"])
        started = time.monotonic()
        self.run_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        track(self.run_dir)  # every process group this run starts, for recovery after kill -9
        root = self.run_dir / "root"
        ctl = self.run_dir / "ctl"
        ctl.mkdir(mode=0o755)
        (ctl / "bin").mkdir(mode=0o755)
        (ctl / "bin" / "sudo").write_text(rootfs.SUDO_SHIM, encoding="utf-8")
        (ctl / "bin" / "sudo").chmod(0o755)
        (ctl / "apt.conf").write_text(APT_CONF, encoding="utf-8")
        from .limits import describe

        lim = describe(self.opts.limits)
        hooks.log([f"limits per step ({lim['mechanism']}): pids {lim['pids']}; memory {lim['memory']}; "
                   f"CPU {lim['cpu']}; stored log {self.opts.log_bytes} bytes per run"])
        rootfs.materialize(choice, root, cached, self._should_stop)
        hooks.log([f"root filesystem ready in {time.monotonic() - started:.2f}s: {root}"])
        self._check()
        ctx = StepContext(Sandbox(plan.backend, root, ctl, self.opts.network, self.opts.limits), hooks.log,
                          self._should_stop, network=self.opts.network)

        steps = [s if isinstance(s, dict) else {} for s in self.props.get("customize") or []]
        hooks.phase("Customizing", f"Customizing: running {len(steps)} step(s) in the sandbox")
        for i, step in enumerate(steps):
            self._check()
            run_step(ctx, step, f"customize {i + 1}/{len(steps)}")
        validate = self.props.get("validate") or {}
        validations = [s if isinstance(s, dict) else {} for s in validate.get("inVMValidations") or []]
        if validations:
            hooks.phase("Validating", f"Validating: running {len(validations)} validation(s) in the sandbox")
            for i, step in enumerate(validations):
                self._check()
                try:
                    run_step(ctx, step, f"validation {i + 1}/{len(validations)}")
                except StepFailed as exc:
                    if validate.get("continueOnFailure"):
                        hooks.log([f"validation '{exc.step}' failed ({exc.why}); continueOnFailure is true: going on"])
                        continue
                    exc.kind = f"validation: {exc.kind}"
                    raise
        self._check()
        run_deprovision(ctx)
        self._check()
        message = self._distribute(root)
        self._succeeded = True
        return message

    def _download(self, choice: RootfsChoice) -> Path:
        url = choice.location
        self.hooks.log([f"downloading the root filesystem {url} (once; cached in {self.opts.work_dir / 'cache'})"])
        shown = {"step": -1}

        def progress(done: int, total: int | None) -> None:
            self._check()
            if total:
                step = int(done * 10 / total)
                if step != shown["step"]:
                    shown["step"] = step
                    self.hooks.log([f"download: {step * 10}% ({done // (1024 * 1024)} of "
                                    f"{total // (1024 * 1024)} MB)"])
            elif done // (64 * 1024 * 1024) != shown["step"]:
                shown["step"] = done // (64 * 1024 * 1024)
                self.hooks.log([f"download: {done // (1024 * 1024)} MB"])

        path = rootfs.fetch_verified(url, self.opts.work_dir / "cache", progress, sums_url=choice.sums,
                                     algorithm=choice.algorithm)
        self.hooks.log([f"download verified against the published {choice.sums or 'SHA256SUMS'} "
                        f"({choice.algorithm}): {path}"])
        return path

    def _distribute(self, root: Path) -> str:
        dists = [d for d in self.props.get("distribute") or [] if isinstance(d, dict)]
        self.hooks.phase("Distributing", "Distributing: writing the artifacts")
        ctl_mount = root / ".aibtui"  # the control folder's mount point is not part of the image
        if ctl_mount.is_dir() and not ctl_mount.is_symlink():
            try:
                ctl_mount.rmdir()
            except OSError:
                pass  # the source rootfs had content there: keep it
        if not dists:
            return "local build finished: every step ran in the sandbox; no distribute target, no artifact kept"
        tarball = artifacts.make_tarball(root, self.out_dir / "rootfs.tar", self._should_stop)
        self.hooks.log([f"rootfs tarball: {tarball} ({tarball.stat().st_size // 1024} KiB)"])
        images: list[tuple[list[str], str]] = []
        for i, dist in enumerate(dists):
            self._check()
            name = str(dist.get("runOutputName") or f"output{i}")
            kind = dist.get("type")
            if kind == "VHD":
                try:
                    vhd = artifacts.make_vhd(root, self.out_dir / f"{name}.vhd", self.run_dir, self._should_stop)
                except SetupError as exc:
                    raise SetupError(f"VHD target '{name}': {exc}; the rootfs tarball was written to {tarball} "
                                     "but is removed with the failed run") from exc
                uri = vhd.resolve().as_uri()
                self.hooks.put_output(name, None, uri)
                self.hooks.log([f"distribute '{name}' (VHD): {uri} (ext4 file system image, fixed VHD; "
                                "not bootable: no boot loader or kernel setup)"])
            elif kind in ("ManagedImage", "SharedImage"):
                if kind == "ManagedImage":
                    artifact = str(dist.get("imageId", ""))
                    keys = [artifact]
                else:
                    gid = str(dist.get("galleryImageId", ""))
                    artifact = gid if "/versions/" in gid.lower() else f"{gid}/versions/0.0.{int(time.time())}"
                    keys = [artifact, artifact.lower().split("/versions/", 1)[0]]
                self.hooks.put_output(name, artifact, None)
                images.append((keys, artifact))
                self.hooks.log([f"distribute '{name}' ({kind}): recorded in the local image catalog as {artifact} "
                                f"-> {tarball}; a later local build can use it as its source"])
            else:
                raise SetupError(f"distribute '{name}': unknown type {kind!r}")
        for keys, _artifact in images:
            self.catalog.record(keys, tarball, self.template, self.run_id)
        if not images:  # no local image points at it: the VHD (or nothing) is the artifact
            tarball.unlink()
            self.hooks.log(["rootfs tarball removed: no ManagedImage or SharedImage target uses it"])
        prune_artifacts(self.opts.work_dir, self.template_key, self.catalog, keep_run=self.run_id)
        return f"local build finished: every step ran in the sandbox; artifacts in {self.out_dir}"


def _steps_of(props: dict[str, Any]) -> list[dict[str, Any]]:
    steps = [s for s in props.get("customize") or [] if isinstance(s, dict)]
    steps += [s for s in (props.get("validate") or {}).get("inVMValidations") or [] if isinstance(s, dict)]
    return steps


def windows_steps(body: dict[str, Any]) -> tuple[str, ...] | None:
    """For a Windows template, its steps as "'name' (Type)" (they would all need Azure); else None."""
    props = body.get("properties") or {}
    src = props.get("source") or {}
    steps = _steps_of(props)
    publisher = str(src.get("publisher", "")).lower()
    offer = str(src.get("offer", "")).lower()
    windows = (publisher.startswith("microsoftwindows") or "windows" in offer
               or any(s.get("type") in ("WindowsRestart", "WindowsUpdate") for s in steps))
    if not windows:
        return None
    return tuple(f"'{s.get('name', '?')}' ({s.get('type', '?')})" for s in steps)


def plan_run(body: dict[str, Any], opts: LocalOptions, catalog: rootfs.ImageCatalog, explicit: str | None,
             detect: Callable[[str | None], tuple[str | None, str]]) -> RunPlan:
    """Real execution when the template is Linux, a rootfs resolves and a sandbox works; otherwise a
    simulation with the reason. With ``explicit`` (``--rootfs``) a reason not to execute raises
    SetupError instead: the user asked for a real build."""
    win = windows_steps(body)
    if win is not None:
        why = ("Windows images can't be built locally; these steps would need Azure: " + (", ".join(win) or "none")
               + " (build with --provider azure)")
        if explicit:
            raise SetupError(why)
        return RunPlan(why_simulated=why, azure_only_steps=win)
    source = (body.get("properties") or {}).get("source") or {}
    choice = rootfs.resolve(source, opts, catalog, explicit)
    if isinstance(choice, str):
        return RunPlan(why_simulated=choice)
    backend, why = detect(opts.sandbox)
    if backend is None:
        if explicit:
            raise SetupError(why)
        return RunPlan(why_simulated=why)
    return RunPlan(rootfs=choice, backend=backend)
