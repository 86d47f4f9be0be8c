"""The service as the CLI runs it: a detached subprocess. SIGKILL mid-run, restart, idle exit."""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from pathlib import Path

import pytest
from rawhttp import HttpRequest, StdlibTransport
from service_support import sample_body

from aibtui.arm.client import RetryPolicy
from aibtui.arm.local import ensure_service, local_client
from aibtui.service.statefiles import Discovery, read_discovery
from aibtui.service.store import INTERRUPTED

RETRY = RetryPolicy(attempts=3, backoff=0.05, timeout=5, poll_interval=0.02)


def _env(state: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "AIBTUI_STATE_DIR": str(state), "AIBTUI_SERVICE_IDLE_MINUTES": "2", **extra}


def _reap(pid: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return True
        if done:
            return True
        time.sleep(0.02)
    return False


def _shutdown(state: Path, info: Discovery) -> None:
    token = (state / "token").read_text().strip()
    try:
        StdlibTransport().send(HttpRequest("POST", f"{info.base_url}/_aibtui/shutdown",
                                           {"Authorization": f"Bearer {token}"}), 5)
    except Exception:  # noqa: BLE001 - already gone is fine
        pass
    if not _reap(info.pid, 5):
        os.kill(info.pid, signal.SIGKILL)
        _reap(info.pid)


@pytest.fixture
def started(tmp_path: Path):
    pids: list[Discovery] = []

    def start(**extra: str) -> Discovery:
        info = ensure_service(tmp_path, env=_env(tmp_path, **extra))
        pids.append(info)
        return info

    yield start
    for info in pids:
        _shutdown(tmp_path, info)


def test_sigkill_during_a_run_leaves_it_failed_not_running(tmp_path: Path, started) -> None:
    first = started(AIBTUI_SIM_STEP_DELAY="0.15")
    assert first.pid != os.getpid()
    c = local_client(tmp_path, api_version="2024-02-01", base_url=first.base_url, retry=RETRY)
    c.create_template("t", sample_body()).result(timeout=10)
    c.run("t")
    deadline = time.monotonic() + 10
    while c.get_template("t")["properties"]["lastRunStatus"]["runSubState"] != "Customizing":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    os.kill(first.pid, signal.SIGKILL)
    assert _reap(first.pid)

    second = started(AIBTUI_SIM_STEP_DELAY="0.15")
    assert second.pid != first.pid
    c = local_client(tmp_path, api_version="2024-02-01", base_url=second.base_url, retry=RETRY)
    status = c.get_template("t")["properties"]["lastRunStatus"]
    assert status["runState"] == "Failed"
    assert status["message"] == INTERRUPTED
    assert "endTime" in status
    assert c.customization_log("t")["lines"][-1]["text"] == f"ERROR: {INTERRUPTED}"
    assert c.run("t").wait(timeout=20) == "Succeeded"  # the template is usable again
    log = (tmp_path / "service.log").read_text()
    assert "marked 1 interrupted run(s) Failed" in log and " 202 " in log
    token = (tmp_path / "token").read_text().strip()
    assert token not in log and "Authorization" not in log
    with sqlite3.connect(tmp_path / "state.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("SELECT COUNT(*) FROM runs WHERE state IN ('Running', 'Canceling')").fetchone()[0] == 0


def test_second_cli_reuses_the_running_service(tmp_path: Path, started) -> None:
    a = started()
    b = ensure_service(tmp_path, env=_env(tmp_path))
    assert (a.pid, a.port) == (b.pid, b.port)


def test_service_exits_when_idle(tmp_path: Path, started) -> None:
    info = started(AIBTUI_SERVICE_IDLE_MINUTES="0.01")
    assert _reap(info.pid, 10)
    assert read_discovery(tmp_path) is None


def test_stopping_the_service_during_a_run_fails_it_as_interrupted(tmp_path: Path) -> None:
    from dataclasses import replace

    from service_support import FAST, local_service

    with local_service(tmp_path, replace(FAST, step_delay=0.2)) as svc:
        c = local_client(tmp_path, api_version="2024-02-01", base_url=svc.base_url, retry=RETRY)
        c.create_template("t", sample_body()).result(timeout=5)
        c.run("t")
    with local_service(tmp_path) as svc:
        c = local_client(tmp_path, api_version="2024-02-01", base_url=svc.base_url, retry=RETRY)
        status = c.get_template("t")["properties"]["lastRunStatus"]
        assert (status["runState"], status["message"]) == ("Failed", INTERRUPTED)


def test_a_delete_accepted_before_a_stop_completes_at_the_next_start(tmp_path: Path) -> None:
    from dataclasses import replace

    from service_support import FAST, local_service

    with local_service(tmp_path, replace(FAST, delete_delay=30)) as svc:
        c = local_client(tmp_path, api_version="2024-02-01", base_url=svc.base_url, retry=RETRY)
        c.create_template("t", sample_body()).result(timeout=5)
        poller = c.delete_template("t")
        assert poller.status == "InProgress"
        assert c.get_template("t")["properties"]["provisioningState"] == "Deleting"
    with local_service(tmp_path) as svc:
        c = local_client(tmp_path, api_version="2024-02-01", base_url=svc.base_url, retry=RETRY)
        assert c.find_template("t") is None
        assert list(c.list_templates()) == []
