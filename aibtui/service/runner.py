"""The build runner: executes a Linux build for real in a sandbox, or simulates it and says why.

Per run, :meth:`Runner.plan` decides (``aibtui.localbuild.build.plan_run``): a Linux template whose
source resolves to a root filesystem, on a machine with a sandbox (bubblewrap, or namespaces +
pivot_root as root), runs for real (``aibtui.localbuild``); anything else is *simulated*: the run moves
through the real states, every step is logged as "simulated: ... was NOT executed", and the banner
and final status message say why (no root filesystem configured, a Windows image, no sandbox).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aibtui.compiler.errors import AibtuiError

from ..localbuild import model as lb
from ..localbuild.build import TIMEOUT_MESSAGE, BuildHooks, LocalBuild, clean_stale_runs, plan_run, prune_artifacts
from ..localbuild.rootfs import ImageCatalog
from ..localbuild.sandbox import detect_backend
from .store import INTERRUPTED, Store

NOT_EXECUTED = "was NOT executed (simulated run)"
SIMULATED_BANNER = "SIMULATED RUN: no step of this run is executed; every step below is reported, none is run"
SUCCESS_MESSAGE = "simulated run finished: no step was executed"


class PhaseGate:
    """Test-only: hold every run that enters ``phase`` until :meth:`release` (or a cancel, or the service
    stopping). Lets monitor and cancel tests act while a run is provably in a phase, instead of racing
    a step delay. Inactive unless :meth:`hold` was called; the product never calls it."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._phase: str | None = None
        self._reached = 0  # runs that arrived at the gate since hold()

    def hold(self, phase: str) -> None:
        with self._cond:
            self._phase, self._reached = phase, 0

    def release(self) -> None:
        with self._cond:
            self._phase = None
            self._cond.notify_all()

    def reached(self, timeout: float = 10.0) -> bool:
        """Wait until a run is held at the gate (True) or ``timeout`` passes (False)."""
        with self._cond:
            return self._cond.wait_for(lambda: self._reached > 0, timeout)

    def wait(self, phase: str, should_stop: Callable[[], bool]) -> None:
        with self._cond:
            if self._phase != phase:
                return
            self._reached += 1
            self._cond.notify_all()
            while self._phase == phase and not should_stop():
                self._cond.wait(0.02)  # a cancel is seen in the store, not notified here


class Canceled(AibtuiError):
    pass


class Interrupted(AibtuiError):
    """The service is stopping while the run is in progress."""


class StepFailed(AibtuiError):
    def __init__(self, step: str, kind: str, why: str) -> None:
        super().__init__(why)
        self.step, self.kind, self.why = step, kind, why


def _artifact(dist: dict[str, Any], name: str, run_id: str) -> tuple[str | None, str | None]:
    kind = dist.get("type")
    if kind == "ManagedImage":
        return str(dist.get("imageId", "")), None
    if kind == "SharedImage":
        gid = str(dist.get("galleryImageId", ""))
        if "/versions/" in gid.lower():
            return gid, None
        return f"{gid}/versions/0.0.{abs(hash(run_id)) % 100000}", None
    return None, f"https://aibtui-local.invalid/simulated/{name}/{run_id}.vhd"


HOLD_TAG = "aibtuiTestHold"  # honoured only when the service runs with AIBTUI_TEST_HOLD_RUNS=1


class Runner:
    """Runs one build per thread: real (``aibtui.localbuild``) or simulated, as :meth:`plan` decides."""

    def __init__(self, store: Store, step_delay: float, fail_step: Callable[[], str | None],
                 local: lb.LocalOptions | None = None,
                 detect: Callable[[str | None], tuple[str | None, str]] = detect_backend, *,
                 hold: bool = False) -> None:
        self.store = store
        self.hold = hold  # test-only: runs of templates tagged HOLD_TAG=true wait in Building until canceled
        self.step_delay = step_delay
        self._fail_step = fail_step
        self.local = local or lb.LocalOptions(work_dir=store.path.parent / "local")
        self.catalog = ImageCatalog(self.local.work_dir / "images.json")
        clean_stale_runs(self.local.work_dir)  # sandboxes of runs a killed service left behind
        self._detect = detect
        self._wake: dict[str, threading.Event] = {}
        self._threads: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.gate = PhaseGate()
        self._sandbox_probe: tuple[float, str | None, str] | None = None  # (when, backend, why not)

    def capabilities(self) -> dict[str, Any]:
        """What this service can really do for local builds, probed (the health endpoint reports it):
        is a sandbox usable, which root filesystems are configured, can a Linux run execute at all."""
        with self._lock:
            now = time.monotonic()
            if self._sandbox_probe is None or now - self._sandbox_probe[0] > 30.0:  # a probe runs bwrap
                backend, why = self._detect(self.local.sandbox)
                self._sandbox_probe = (now, backend, why)
            _, backend, why = self._sandbox_probe
        configured = [{"source": key, "rootfs": where,
                       "present": where.startswith(("https://", "http://")) or Path(where.removeprefix("file://"))
                       .exists()} for key, where in self.local.rootfs_map]
        images = len({p for p in self.catalog.referenced() if p and Path(p).exists()})
        rootfs_ok = any(c["present"] for c in configured) or images > 0 or self.local.download
        return {
            "sandbox": {"available": backend is not None, "backend": backend, "problem": None if backend else why},
            "rootfs": {"available": rootfs_ok, "configured": configured, "localImages": images,
                       "download": self.local.download},
            # a Linux template whose source has a root filesystem executes; anything else is simulated
            "canExecute": backend is not None and rootfs_ok,
        }

    def plan(self, body: dict[str, Any], rootfs: str | None = None) -> lb.RunPlan:
        """Execute for real or simulate (and why). Raises ``localbuild.model.SetupError`` when a named
        root filesystem cannot be used (the caller refuses the run request)."""
        return plan_run(body, self.local, self.catalog, rootfs, self._detect)

    def start(self, run_id: str, template_key: str, body: dict[str, Any], plan: lb.RunPlan | None = None) -> None:
        ev = threading.Event()
        plan = plan or lb.RunPlan(why_simulated="no plan was made for this run")
        t = threading.Thread(target=self._run, args=(run_id, template_key, body, ev, plan), name=f"run-{run_id[:8]}",
                             daemon=True)
        with self._lock:
            self._wake[run_id] = ev
            self._threads[run_id] = t
        t.start()

    def template_deleted(self, key: str) -> None:
        """The template is gone: so are its VHDs and rootfs tarballs no local image uses (DI-06)."""
        prune_artifacts(self.local.work_dir, key, self.catalog, keep_run=None)

    def poke(self, run_id: str) -> None:
        """Wake a run's thread now (after a cancel request)."""
        with self._lock:
            ev = self._wake.get(run_id)
        if ev is not None:
            ev.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        with self._lock:
            events, threads = list(self._wake.values()), list(self._threads.values())
        for ev in events:
            ev.set()
        for t in threads:
            t.join(timeout)

    def busy(self) -> bool:
        with self._lock:
            return any(t.is_alive() for t in self._threads.values())

    # -- the run ---------------------------------------------------------------------------
    def _hold(self, run_id: str, phase: str) -> None:
        self.gate.wait(phase, lambda: self._stopping.is_set() or self.store.cancel_requested(run_id))

    def _pause(self, run_id: str, ev: threading.Event) -> None:
        ev.wait(self.step_delay)
        if self._stopping.is_set():
            raise Interrupted()
        if self.store.cancel_requested(run_id):
            raise Canceled()

    def _run(self, run_id: str, key: str, body: dict[str, Any], ev: threading.Event, plan: lb.RunPlan) -> None:
        if plan.real:
            try:
                self._run_real(run_id, key, body, ev, plan)
            finally:
                with self._lock:
                    self._wake.pop(run_id, None)
                    self._threads.pop(run_id, None)
                self.store.close_thread()
            return
        store = self.store
        log = lambda text: store.append_log(run_id, text)  # noqa: E731
        sub = "Queued"
        props = body.get("properties") or {}
        why = plan.why_simulated
        try:
            store.append_logs(run_id, [f"{SIMULATED_BANNER}. Why: {why}", f"run {run_id} queued"])  # one write
            self._pause(run_id, ev)
            sub = "Building"
            store.set_run(run_id, sub_state=sub, message="Building (simulated): no VM is provisioned")
            if self.hold and str((body.get("tags") or {}).get(HOLD_TAG, "")).lower() == "true":
                log(f"test hold: the run waits here until it is canceled (tag {HOLD_TAG})")
                while not self._stopping.is_set() and not store.cancel_requested(run_id):
                    ev.wait(0.05)
                    ev.clear()
            self._hold(run_id, sub)
            src = props.get("source") or {}
            label = ":".join(str(src.get(k, "")) for k in ("publisher", "offer", "sku", "version")) \
                if src.get("type") == "PlatformImage" else str(src.get("imageId") or src.get("imageVersionId")
                                                               or src.get("imageVersionID") or src.get("type"))
            vm = (props.get("vmProfile") or {}).get("vmSize") or "Standard_D1_v2"
            log(f"simulated: build VM ({vm}) from source {label} {NOT_EXECUTED}")
            self._pause(run_id, ev)
            sub = "Customizing"
            store.set_run(run_id, sub_state=sub, message="Customizing (simulated): steps are not executed")
            self._hold(run_id, sub)
            self._steps(run_id, props.get("customize") or [], "step", ev, log)
            validations = (props.get("validate") or {}).get("inVMValidations") or []
            if validations:
                sub = "Validating"
                store.set_run(run_id, sub_state=sub, message="Validating (simulated): validations are not executed")
                self._hold(run_id, sub)
                self._steps(run_id, validations, "validation", ev, log)
            sub = "Distributing"
            store.set_run(run_id, sub_state=sub, message="Distributing (simulated): no image is published")
            self._hold(run_id, sub)
            for i, dist in enumerate(props.get("distribute") or []):
                name = str(dist.get("runOutputName") or f"output{i}")
                self._pause(run_id, ev)
                artifact_id, artifact_uri = _artifact(dist, name, run_id)
                store.put_output(key, run_id, name, artifact_id, artifact_uri)
                log(f"simulated: distribute '{name}' ({dist.get('type')}) {NOT_EXECUTED}; "
                    f"run output recorded: {artifact_id or artifact_uri}")
            done = f"{SUCCESS_MESSAGE} ({why})"
            log(done)
            store.set_run(run_id, state="Succeeded", message=done, finished=True)
            store.finish_operations_for_run(run_id, "Succeeded", None, None)
        except Canceled:
            removed = store.drop_outputs_of_run(run_id)
            note = f"; {removed} partial run output(s) removed" if removed else ""
            msg = f"canceled during {sub} (simulated run, no step was executed){note}"
            log(msg)
            store.set_run(run_id, state="Canceled", message=msg, finished=True)
            store.finish_operations_for_run(run_id, "Canceled", "Canceled", msg)
        except Interrupted:
            log(f"ERROR: {INTERRUPTED}")
            store.drop_outputs_of_run(run_id)
            store.set_run(run_id, state="Failed", message=INTERRUPTED, finished=True)
            store.finish_operations_for_run(run_id, "Failed", "Interrupted", INTERRUPTED)
        except StepFailed as exc:
            msg = f"simulated failure in {sub}: step '{exc.step}' ({exc.kind}) failed: {exc.why}"
            log(f"ERROR: {msg}")
            store.drop_outputs_of_run(run_id)
            store.set_run(run_id, state="Failed", message=msg, failed_step=exc.step, finished=True)
            store.finish_operations_for_run(run_id, "Failed", "BuildFailed", msg)
        except Exception as exc:  # noqa: BLE001 - a runner bug must not leave the run Running
            msg = f"internal error in the local service: {type(exc).__name__}: {exc}"
            try:
                log(f"ERROR: {msg}")
                store.set_run(run_id, state="Failed", message=msg, finished=True)
                store.finish_operations_for_run(run_id, "Failed", "InternalError", msg)
            except Exception:  # noqa: BLE001
                pass
        finally:
            with self._lock:
                self._wake.pop(run_id, None)
                self._threads.pop(run_id, None)
            store.close_thread()

    def _steps(self, run_id: str, steps: list[Any], what: str, ev: threading.Event,
               log: Callable[[str], None]) -> None:
        fail = self._fail_step()
        for i, step in enumerate(steps):
            step = step if isinstance(step, dict) else {}
            name = str(step.get("name") or f"{what} {i + 1}")
            kind = str(step.get("type") or "?")
            self._pause(run_id, ev)
            if fail is not None and fail == name:
                raise StepFailed(name, kind, "failure injected by the service's fault mode")
            log(f"simulated: {what} '{name}' ({kind}) {NOT_EXECUTED}")

    # -- a real local build ----------------------------------------------------------------
    def _run_real(self, run_id: str, key: str, body: dict[str, Any], ev: threading.Event, plan: lb.RunPlan) -> None:
        store = self.store
        sub = ["Queued"]

        def log(lines: list[str]) -> None:
            store.append_logs(run_id, lines)

        def phase(sub_state: str, message: str) -> None:
            sub[0] = sub_state
            store.set_run(run_id, sub_state=sub_state, message=message)
            self._hold(run_id, sub_state)

        def stop_reason() -> str | None:
            if self._stopping.is_set():
                return "interrupted"
            if ev.is_set() and store.cancel_requested(run_id):
                return "canceled"
            return None

        def put_output(name: str, artifact_id: str | None, artifact_uri: str | None) -> None:
            store.put_output(key, run_id, name, artifact_id, artifact_uri)

        build = LocalBuild(run_id, key, body, plan, self.local, self.catalog,
                           BuildHooks(log=log, phase=phase, stop_reason=stop_reason, put_output=put_output))
        try:
            log([f"run {run_id} queued (local build: steps are executed)"])
            message = build.run()
            log([message])
            store.set_run(run_id, state="Succeeded", message=message, finished=True)
            store.finish_operations_for_run(run_id, "Succeeded", None, None)
        except lb.Canceled:
            removed = store.drop_outputs_of_run(run_id)
            note = f"; {removed} partial run output(s) removed" if removed else ""
            msg = f"canceled during {sub[0]}: the running step's processes were killed{note}"
            log([msg])
            store.set_run(run_id, state="Canceled", message=msg, finished=True)
            store.finish_operations_for_run(run_id, "Canceled", "Canceled", msg)
        except lb.Interrupted:
            log([f"ERROR: {INTERRUPTED}"])
            store.drop_outputs_of_run(run_id)
            store.set_run(run_id, state="Failed", message=INTERRUPTED, finished=True)
            store.finish_operations_for_run(run_id, "Failed", "Interrupted", INTERRUPTED)
        except lb.TimedOut:
            minutes = (body.get("properties") or {}).get("buildTimeoutInMinutes") or 240
            msg = (f"{TIMEOUT_MESSAGE} (buildTimeoutInMinutes {minutes} passed during {sub[0]}; the running "
                   "step's processes were killed)")
            log([f"ERROR: {msg}"])
            store.drop_outputs_of_run(run_id)
            store.set_run(run_id, state="Failed", message=msg, finished=True)
            store.finish_operations_for_run(run_id, "Failed", "BuildTimeout", msg)
        except lb.StepFailed as exc:
            kept = f"; the failed sandbox is kept at {build.kept}" if build.kept else ""
            msg = f"{sub[0]} failed: step '{exc.step}' ({exc.kind}) failed: {exc.why}{kept}"
            log([f"ERROR: {msg}"])
            store.drop_outputs_of_run(run_id)
            store.set_run(run_id, state="Failed", message=msg, failed_step=exc.step, finished=True)
            store.finish_operations_for_run(run_id, "Failed", "BuildFailed", msg)
        except lb.SetupError as exc:
            msg = f"local build failed during {sub[0]}: {exc}"
            log([f"ERROR: {msg}"])
            store.drop_outputs_of_run(run_id)
            store.set_run(run_id, state="Failed", message=msg, finished=True)
            store.finish_operations_for_run(run_id, "Failed", "LocalBuildFailed", msg)
        except Exception as exc:  # noqa: BLE001 - a runner bug must not leave the run Running
            msg = f"internal error in the local service: {type(exc).__name__}: {exc}"
            try:
                log([f"ERROR: {msg}"])
                store.drop_outputs_of_run(run_id)
                store.set_run(run_id, state="Failed", message=msg, finished=True)
                store.finish_operations_for_run(run_id, "Failed", "InternalError", msg)
            except Exception:  # noqa: BLE001
                pass
