"""Watching a run: poll the template's lastRunStatus and the customization log (the local service's
log endpoint, or on Azure the staging storage account's blob: aibtui/arm/stagelog.py).

:class:`RunWatcher` reports what changed since the last poll; the CLI prints it, the TUI can post
it as messages. One poll at a time: the next is armed only after the last finished.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..localbuild.model import EXECUTION_FIELD, SIMULATED
from .client import ArmClient
from .errors import ArmError, ClientError

TERMINAL_RUN_STATES = ("Succeeded", "PartiallySucceeded", "Failed", "Canceled")


@dataclass(frozen=True)
class Execution:
    """``lastRunStatus.aibtuiExecution`` of the local service: did the run execute its steps, and why not."""

    mode: str  # "executed" | "simulated"
    reason: str = ""  # why a simulated run executes nothing
    sandbox: str | None = None  # where an executed run runs (bwrap, unshare)

    @classmethod
    def from_status(cls, st: dict[str, Any]) -> Execution | None:
        ex = st.get(EXECUTION_FIELD)
        if not isinstance(ex, dict) or not isinstance(ex.get("mode"), str):
            return None  # Azure (or an older local service): nothing to say
        sandbox = ex.get("sandbox")
        return cls(ex["mode"], str(ex.get("reason") or ""), sandbox if isinstance(sandbox, str) else None)


@dataclass(frozen=True)
class RunStatus:
    state: str | None
    sub_state: str | None
    message: str
    start: datetime | None
    end: datetime | None
    execution: Execution | None = None  # None: a run on Azure (always executed)

    @classmethod
    def from_template(cls, tpl: dict[str, Any]) -> RunStatus | None:
        st = (tpl.get("properties") or {}).get("lastRunStatus")
        if not isinstance(st, dict):
            return None
        return cls(st.get("runState"), st.get("runSubState"), str(st.get("message") or ""),
                   parse_time(st.get("startTime")), parse_time(st.get("endTime")), Execution.from_status(st))

    @property
    def simulated(self) -> bool:
        """True when the service said the run executes nothing (a structured field, never the message)."""
        return self.execution is not None and self.execution.mode == SIMULATED

    @property
    def done(self) -> bool:
        return self.state in TERMINAL_RUN_STATES

    def elapsed(self, now: datetime | None = None) -> float:
        if self.start is None:
            return 0.0
        end = self.end or now or datetime.now(UTC)
        return max(0.0, (end - self.start).total_seconds())


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    text = value.replace("Z", "+00:00")
    if "." in text:  # Python wants at most 6 fractional digits; ARM sends 7
        head, _, tail = text.partition(".")
        digits = "".join(ch for ch in tail if ch.isdigit())
        rest = tail[len(digits):]
        text = f"{head}.{digits[:6]}{rest}"
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def format_elapsed(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60:02d}:{s % 60:02d}"


@dataclass
class Update:
    status: RunStatus | None
    changed: bool
    log_lines: list[str] = field(default_factory=list)
    log_note: str | None = None  # once: why no log is shown


class RunWatcher:
    def __init__(self, client: ArmClient, name: str, *, follow_log: bool = True, log_after: int = 0) -> None:
        self.client = client
        self.name = name
        self.follow_log = follow_log
        self.log_after = log_after
        self.log_complete = not follow_log
        self.run_id: str | None = None
        self._last: tuple[str | None, str | None, str] | None = None
        self.status: RunStatus | None = None
        self.raw_start: str | None = None  # lastRunStatus.startTime as the service wrote it

    def reset(self) -> None:
        """Forget what was seen (the status was an earlier run's): the next poll reports afresh."""
        self._last = None
        self.status = None
        self.log_complete = not self.follow_log

    @property
    def done(self) -> bool:
        return self.status is not None and self.status.done and self.log_complete

    @property
    def long_polls(self) -> bool:
        """True while polls wait on the service's log (no sleep needed between them). Only the local
        service long-polls; Azure's log is a blob (aibtui/arm/stagelog.py), read once per poll."""
        return self.follow_log and not self.log_complete and getattr(self.client, "provider", "local") == "local"

    def poll(self, wait: float = 0.0) -> Update:
        """Read the log first, then the status: lines print before the state they led to.

        ``wait``: let the log read wait up to that many seconds for a new line or state change (the
        local service answers as soon as something happens), so no sleep is needed between polls."""
        lines: list[str] = []
        note = None
        if self.follow_log and not self.log_complete:
            try:
                log = self.client.customization_log(self.name, after=self.log_after, run_id=self.run_id,
                                                    wait=wait)
            except ArmError:
                raise
            except ClientError as exc:  # Azure: the log cannot be read (no access yet): watch the state only
                self.follow_log, self.log_complete = False, True
                note = str(exc)
            else:
                self.run_id = log.get("runId") or self.run_id
                lines = [ln["text"] for ln in log.get("lines") or []]
                self.log_after = int(log.get("next") or self.log_after)
                self.log_complete = bool(log.get("complete"))  # the run had ended when these lines were read
        tpl = self.client.get_template(self.name)
        status = RunStatus.from_template(tpl)
        self.raw_start = ((tpl.get("properties") or {}).get("lastRunStatus") or {}).get("startTime")
        self.status = status
        key = (status.state, status.sub_state, status.message) if status else None
        changed = key != self._last
        self._last = key
        return Update(status, changed, lines, note)

    def wait_interval(self, interval: float) -> None:
        time.sleep(interval)
