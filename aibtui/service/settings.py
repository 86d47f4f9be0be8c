"""Tunables of the local service. Tests use tiny delays so a full lifecycle takes milliseconds."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..config import ConfigError, LocalBuildConfig, load_local_config
from ..localbuild.model import LocalOptions


@dataclass(frozen=True)
class ServiceSettings:
    step_delay: float = 0.4  # seconds per simulated phase/step, so a user can watch the states move
    provision_delay: float = 0.2  # Creating -> Succeeded after a PUT
    delete_delay: float = 0.1  # Deleting -> gone
    page_size: int = 100  # items per page of list answers (nextLink beyond)
    idle_timeout: float | None = None  # seconds without requests or runs before the service exits
    fault_mode: bool = False  # test-only: enables /_aibtui/faults
    retry_after: int = 1  # Retry-After (seconds) on 202 answers, for clients that read only that
    retry_after_ms: int = 100  # retry-after-ms on 202 answers: the poll interval our client uses
    local: LocalBuildConfig = LocalBuildConfig()  # [local] of the config file: rootfs mapping, download, sandbox
    workers: int = 32  # threads running request handlers (SQLite, validation): bounded concurrency
    request_read_timeout: float = 30.0  # seconds to receive a whole request (headers + body), else closed
    keep_alive_timeout: float = 15.0  # seconds an idle keep-alive connection stays open after an answer
    hold_runs: bool = False  # test-only: runs of templates tagged aibtuiTestHold=true wait until canceled
    minute_seconds: float = 60.0  # length of a buildTimeoutInMinutes minute in local builds (tests shrink it)

    def local_options(self, state: Path) -> LocalOptions:
        return LocalOptions(work_dir=Path(state) / "local", rootfs_map=self.local.rootfs, download=self.local.download,
                            sandbox=self.local.sandbox, minute_seconds=self.minute_seconds,
                            network=self.local.network)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> ServiceSettings:
        """Settings from ``AIBTUI_SIM_STEP_DELAY`` / ``AIBTUI_SERVICE_PAGE_SIZE`` / ``AIBTUI_FAULT_MODE`` and
        the config file's ``[local]`` table (raises ValueError for a bad one)."""
        env = os.environ if env is None else env
        kw: dict[str, object] = {}
        try:
            kw["local"] = load_local_config(env)
        except ConfigError as exc:
            raise ValueError(str(exc)) from exc
        if env.get("AIBTUI_SIM_STEP_DELAY"):
            d = float(env["AIBTUI_SIM_STEP_DELAY"])
            kw.update(step_delay=d, provision_delay=d / 2, delete_delay=d / 4, retry_after_ms=max(2, int(d * 500)))
        if env.get("AIBTUI_SERVICE_PAGE_SIZE"):
            kw["page_size"] = max(1, int(env["AIBTUI_SERVICE_PAGE_SIZE"]))
        if env.get("AIBTUI_SERVICE_READ_TIMEOUT"):
            kw["request_read_timeout"] = max(0.1, float(env["AIBTUI_SERVICE_READ_TIMEOUT"]))
        if env.get("AIBTUI_TEST_HOLD_RUNS") == "1":
            kw["hold_runs"] = True
        if env.get("AIBTUI_FAULT_MODE") == "1":
            kw["fault_mode"] = True
        kw.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**kw)  # type: ignore[arg-type]
