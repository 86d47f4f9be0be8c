"""The one module of the TUI that talks to the build-operations client (``aibtui.arm``).

Everything here blocks (HTTP), so screens call it from thread workers only. Keeping the use of
``aibtui.arm`` narrow (open a client, list images and templates, create/replace + run, poll a
watcher, cancel, run outputs) makes changes there easy to absorb.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aibtui.compiler.errors import AibtuiError

LOCAL = "local"


class AdapterError(AibtuiError):
    """A failure to show the user (service refused, unreachable, bad input)."""


@dataclass(frozen=True)
class ImageEntry:
    """One row of the source picker."""

    label: str
    value: str  # a profile name, or the URN (or prefix) this entry stands for
    kind: str  # profile | publisher | offer | sku | version
    os: str = ""
    generation: str = ""
    detail: str = ""


@dataclass
class TemplateRow:
    name: str
    provisioning: str
    run_state: str
    sub_state: str
    location: str
    running: bool
    mode: str = ""  # "executed", "simulated" or "" (not known)


def run_mode(last_run: Any, provider: str, log_simulated: bool | None = None) -> str:
    """How a run was carried out: "executed", "simulated", or "" when nothing says.

    The structured field ``lastRunStatus.aibtuiExecution.mode`` of the local service wins; then the
    local service's log flag (also structured). A local run that says neither is "" (unknown): the
    message text is never searched. Azure Image Builder always executes."""
    from aibtui.localbuild.model import EXECUTION_FIELD

    last_run = last_run if isinstance(last_run, dict) else {}
    execution = last_run.get(EXECUTION_FIELD)
    if isinstance(execution, dict) and execution.get("mode") in ("executed", "simulated"):
        return str(execution["mode"])
    if log_simulated is not None:
        return "simulated" if log_simulated else "executed"
    if provider == LOCAL:
        return ""
    return "executed" if last_run.get("runState") else ""


def identity_name(template: Any) -> str:
    """The short name of the template's user-assigned identity ("" when none)."""
    ident = (template or {}).get("identity") if isinstance(template, dict) else None
    ids = (ident or {}).get("userAssignedIdentities") if isinstance(ident, dict) else None
    if isinstance(ids, dict) and ids:
        return str(next(iter(ids))).rstrip("/").rsplit("/", 1)[-1]
    return ""


class _Recorder:
    """The client as the run watcher sees it, remembering the last template and log answer (the TUI
    reads the run's execution mode and identity from them)."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.last_template: dict[str, Any] = {}
        self.log_simulated: bool | None = None

    def get_template(self, name: str) -> Any:
        tpl = self._client.get_template(name)
        self.last_template = tpl if isinstance(tpl, dict) else {}
        return tpl

    def customization_log(self, *args: Any, **kwargs: Any) -> Any:
        log = self._client.customization_log(*args, **kwargs)
        if isinstance(log, dict) and isinstance(log.get("simulated"), bool) and log.get("runId"):
            self.log_simulated = log["simulated"]
        return log

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


@dataclass
class Launch:
    name: str
    stale_start: str | None
    notes: list[str] = field(default_factory=list)
    local: bool = False  # on the local service: its status says whether the steps execute


def _errors() -> tuple[type[BaseException], ...]:
    from aibtui.arm.errors import ArmError, ClientError
    from aibtui.config import ConfigError

    return (ArmError, ClientError, ConfigError, OSError)


class ProviderAdapter:
    def __init__(self, provider: str | None = None) -> None:
        self.provider_name = provider
        self._client: Any = None

    # -- plumbing --------------------------------------------------------------------------
    def client(self) -> Any:
        if self._client is None:
            from aibtui.arm.provider import Target, open_client

            self._client = self._call(open_client, Target(provider=self.provider_name))
        return self._client

    @property
    def provider(self) -> str:
        return self.client().provider

    def _call(self, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except AdapterError:
            raise
        except _errors() as exc:
            raise AdapterError(str(exc)) from exc
        except Exception as exc:  # noqa: BLE001 - a bug below us must not take the TUI down: show it
            raise AdapterError(f"unexpected {type(exc).__name__}: {exc} (a bug in aibtui; please report it)") from exc

    # -- images ------------------------------------------------------------------------------
    def location(self) -> str:
        c = self.client()
        return c.location or "westus2"

    def image_level(self, parts: tuple[str, ...]) -> list[ImageEntry]:
        """The entries one level below ``parts`` (publisher, offer, sku)."""
        c = self.client()
        loc = self.location()
        if len(parts) == 0:
            items = self._call(c.publishers, loc)
            return [ImageEntry(i.get("name", "?"), i.get("name", "?"), "publisher") for i in items]
        if len(parts) == 1:
            items = self._call(c.offers, loc, parts[0])
            return [ImageEntry(i.get("name", "?"), f"{parts[0]}:{i.get('name', '?')}", "offer") for i in items]
        if len(parts) == 2:
            items = self._call(c.skus, loc, *parts)
            out = []
            for i in items:
                props = i.get("properties") or {}
                gen = str(props.get("hyperVGeneration") or "")
                extra = "multi-session" if props.get("multiSession") else ""
                out.append(ImageEntry(i.get("name", "?"), f"{parts[0]}:{parts[1]}:{i.get('name', '?')}", "sku",
                                      str(props.get("osFamily") or ""), gen, extra))
            return out
        items = self._call(c.versions, loc, *parts)
        urn = ":".join(parts)
        rows = [ImageEntry("latest", f"{urn}:latest", "version", detail="resolved when the build starts")]
        rows += [ImageEntry(i.get("name", "?"), f"{urn}:{i.get('name', '?')}", "version")
                 for i in reversed(items)]
        return rows

    # -- templates -----------------------------------------------------------------------------
    def list_templates(self) -> list[TemplateRow]:
        c = self.client()
        rows = []
        for t in self._call(lambda: list(c.list_templates())):
            props = t.get("properties") or {}
            st = props.get("lastRunStatus") or {}
            state = str(st.get("runState") or "-")
            rows.append(TemplateRow(str(t.get("name", "?")), str(props.get("provisioningState") or "-"), state,
                                    str(st.get("runSubState") or ""), str(t.get("location") or ""),
                                    state in ("Running", "Canceling"), run_mode(st, c.provider)))
        return sorted(rows, key=lambda r: r.name)

    # -- builds ----------------------------------------------------------------------------------
    def launch(self, path: Path, *, replace: bool = True) -> Launch:
        """Compile ``path``, create (or replace a different) template, start a run."""
        from aibtui.arm.deploy import DeployError, apply_deploy, plan_deploy, start_run
        from aibtui.arm.source import load_template

        loaded = self._call(load_template, path)
        if not loaded.ok or loaded.body is None or loaded.name is None:
            raise AdapterError("the file has errors; nothing was sent:\n" + "\n".join(loaded.messages[:5]))
        c = self.client()
        name = loaded.name
        plan = self._call(plan_deploy, c, name, loaded.body)
        notes: list[str] = []
        if plan.action == "reuse":
            notes.append(f"template {name} is deployed and identical: reusing it")
        elif plan.action == "replace":
            if not replace:
                raise AdapterError(f"template {name} is deployed and differs ({len(plan.changes)} changes)")
            if plan.busy:
                raise AdapterError(f"{name} has a run in progress: cancel it first, or re-attach from the "
                                   "templates list")
            notes.append(f"replacing {name}: templates cannot be updated in place ({len(plan.changes)} changes)")
        try:
            self._call(apply_deploy, c, plan, loaded.body)
        except DeployError as exc:
            raise AdapterError(str(exc)) from exc
        if plan.action != "reuse":
            notes.append(f"template {name} created")
        self._call(start_run, c, name, plan.previous_start)
        return Launch(name, plan.previous_start, notes, local=c.provider == LOCAL)

    def watcher(self, name: str) -> Any:
        from aibtui.arm.watch import RunWatcher

        return self._call(RunWatcher, _Recorder(self.client()), name)

    def poll(self, watcher: Any) -> Any:
        update = self._call(watcher.poll)
        seen = getattr(watcher, "client", None)
        if isinstance(seen, _Recorder):  # what the run really is, for the monitor's header and timeline
            last_run = (seen.last_template.get("properties") or {}).get("lastRunStatus")
            watcher.execution_mode = run_mode(last_run, self.client().provider, seen.log_simulated)
            watcher.identity = identity_name(seen.last_template)
        return update

    def cancel(self, name: str) -> None:
        c = self.client()
        self._call(c.cancel, name)

    def run_outputs(self, name: str) -> list[tuple[str, str]]:
        c = self.client()
        out = []
        for o in self._call(c.run_outputs, name):
            p = o.get("properties") or {}
            out.append((str(o.get("name", "")), str(p.get("artifactId") or p.get("artifactUri") or "-")))
        return out

    def poll_interval(self) -> float:
        return 0.25 if self.client().provider == LOCAL else 15.0


def format_elapsed(seconds: float) -> str:
    from aibtui.arm.watch import format_elapsed as fmt

    return fmt(seconds)
