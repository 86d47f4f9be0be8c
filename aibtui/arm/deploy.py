"""Bringing a compiled template onto a provider, then starting a run.

Image templates cannot be updated in place (the service answers Conflict), so deploying means:
compare the deployed template with the compiled body; identical -> reuse; different (or an
earlier provisioning failed) -> delete and create again. The CLI (`aibtui build`) and the TUI
share these steps; each front end decides how to ask and what to print.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aibtui.compiler.errors import AibtuiError

from .diff import Change, differences
from .errors import ArmError

_BUSY = ("Running", "Canceling")


class DeployError(AibtuiError):
    """A deploy step that cannot go on; the message is for the user."""


@dataclass
class DeployPlan:
    name: str
    deployed: dict[str, Any] | None  # the template on the provider now, or None
    changes: list[Change] = field(default_factory=list)  # deployed -> compiled
    failed_before: bool = False  # the deployed template's provisioning failed: recreate without asking
    busy: bool = False  # the deployed template has a run in progress

    @property
    def action(self) -> str:
        """'create', 'reuse' or 'replace'."""
        if self.deployed is None:
            return "create"
        if not self.changes and not self.failed_before:
            return "reuse"
        return "replace"

    @property
    def previous_start(self) -> str | None:
        """startTime of the last run of the template the run will start on (None after a create or a
        replace: the new template has no run yet), to tell the new run from an old one."""
        if self.action != "reuse":
            return None
        props = (self.deployed or {}).get("properties") or {}
        return (props.get("lastRunStatus") or {}).get("startTime")


def plan_deploy(client: Any, name: str, body: dict[str, Any]) -> DeployPlan:
    deployed = client.find_template(name)
    if deployed is None:
        return DeployPlan(name, None)
    props = deployed.get("properties") or {}
    return DeployPlan(
        name, deployed, changes=differences(deployed, body),
        failed_before=props.get("provisioningState") == "Failed",
        busy=(props.get("lastRunStatus") or {}).get("runState") in _BUSY,
    )


def apply_deploy(client: Any, plan: DeployPlan, body: dict[str, Any]) -> None:
    """Carry out the plan: nothing for 'reuse'; delete then create for 'replace'; create for 'create'.

    Raises DeployError when a run is in progress (replacing would cut it off) or provisioning fails.
    """
    if plan.action == "reuse":
        return
    if plan.action == "replace":
        if plan.busy:
            raise DeployError(f"{plan.name} has a run in progress; cancel it first, or wait")
        client.delete_template(plan.name).result()
    op = client.create_template(plan.name, body)  # a refused PUT raises here, to the caller
    try:
        created = op.result() or {}
    except ArmError:  # provisioning ended Failed: the template says why
        created = client.find_template(plan.name) or {}
    props = created.get("properties") or {}
    state = props.get("provisioningState", "?")
    if state != "Succeeded":
        perr = props.get("provisioningError") or {}
        detail = f"{perr.get('provisioningErrorCode', '')} {perr.get('message', '')}".strip()
        raise DeployError(f"provisioning of {plan.name} ended {state}" + (f": {detail}" if detail else ""))


def start_run(client: Any, name: str, previous_start: str | None = None, *, rootfs: str | None = None) -> bool:
    """POST run. Returns True when the run had already started (the answer to the POST was lost and
    the template's lastRunStatus showed the run: it was not sent again), False for a fresh start.

    ``rootfs`` is the local service's extension: run the steps for real on a copy of that root
    filesystem (docs/local-service.md). ``previous_start`` is kept for callers; the client reads
    lastRunStatus itself before the POST.
    """
    op = client.run(name, query={"rootfs": rootfs} if rootfs is not None else None)
    return bool(op.recovered)
