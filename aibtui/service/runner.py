"""The simulated build runner: moves a run through the real states and writes its log.

Nothing is executed yet. Every step is logged as "simulated: ... was NOT executed", the final status
message says so, and the CLI shows it. Local execution is a later feature (ARCHITECTURE.md).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from .store import INTERRUPTED, Store

NOT_EXECUTED = "was NOT executed — local execution arrives with the local-builds feature"
SIMULATED_BANNER = ("SIMULATED RUN: the local service does not execute steps yet; every step below is "
                    "reported, none is run")
SUCCESS_MESSAGE = "simulated run finished: no step was executed (local execution arrives with the local-builds feature)"


class Canceled(Exception):
    pass


class Interrupted(Exception):
    """The service is stopping while the run is in progress."""


class StepFailed(Exception):
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


class Runner:
    """Runs one simulated build per thread."""

    def __init__(self, store: Store, step_delay: float, fail_step: Callable[[], str | None]) -> None:
        self.store = store
        self.step_delay = step_delay
        self._fail_step = fail_step
        self._wake: dict[str, threading.Event] = {}
        self._threads: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    def start(self, run_id: str, template_key: str, body: dict[str, Any]) -> None:
        ev = threading.Event()
        t = threading.Thread(target=self._run, args=(run_id, template_key, body, ev), name=f"run-{run_id[:8]}",
                             daemon=True)
        with self._lock:
            self._wake[run_id] = ev
            self._threads[run_id] = t
        t.start()

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
    def _pause(self, run_id: str, ev: threading.Event) -> None:
        ev.wait(self.step_delay)
        if self._stopping.is_set():
            raise Interrupted()
        if self.store.cancel_requested(run_id):
            raise Canceled()

    def _run(self, run_id: str, key: str, body: dict[str, Any], ev: threading.Event) -> None:
        store = self.store
        log = lambda text: store.append_log(run_id, text)  # noqa: E731
        sub = "Queued"
        props = body.get("properties") or {}
        try:
            log(SIMULATED_BANNER)
            log(f"run {run_id} queued")
            self._pause(run_id, ev)
            sub = "Building"
            store.set_run(run_id, sub_state=sub, message="Building (simulated): no VM is provisioned")
            src = props.get("source") or {}
            label = ":".join(str(src.get(k, "")) for k in ("publisher", "offer", "sku", "version")) \
                if src.get("type") == "PlatformImage" else str(src.get("imageId") or src.get("imageVersionId")
                                                               or src.get("imageVersionID") or src.get("type"))
            vm = (props.get("vmProfile") or {}).get("vmSize") or "Standard_D1_v2"
            log(f"simulated: build VM ({vm}) from source {label} {NOT_EXECUTED}")
            self._pause(run_id, ev)
            sub = "Customizing"
            store.set_run(run_id, sub_state=sub, message="Customizing (simulated): steps are not executed")
            self._steps(run_id, props.get("customize") or [], "step", ev, log)
            validations = (props.get("validate") or {}).get("inVMValidations") or []
            if validations:
                sub = "Validating"
                store.set_run(run_id, sub_state=sub, message="Validating (simulated): validations are not executed")
                self._steps(run_id, validations, "validation", ev, log)
            sub = "Distributing"
            store.set_run(run_id, sub_state=sub, message="Distributing (simulated): no image is published")
            for i, dist in enumerate(props.get("distribute") or []):
                name = str(dist.get("runOutputName") or f"output{i}")
                self._pause(run_id, ev)
                artifact_id, artifact_uri = _artifact(dist, name, run_id)
                store.put_output(key, run_id, name, artifact_id, artifact_uri)
                log(f"simulated: distribute '{name}' ({dist.get('type')}) {NOT_EXECUTED}; "
                    f"run output recorded: {artifact_id or artifact_uri}")
            log(SUCCESS_MESSAGE)
            store.set_run(run_id, state="Succeeded", message=SUCCESS_MESSAGE, finished=True)
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
