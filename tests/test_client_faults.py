"""Fault mode: the service answers 429/500, drops connections and stalls; the client copes cleanly."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from aibtui.arm.client import ArmClient, RetryPolicy
from aibtui.arm.errors import ArmError, TransportError
from aibtui.arm.http import HttpRequest, StdlibTransport
from aibtui.arm.local import local_client
from aibtui.service.server import LocalService
from aibtui.service.testing import FAST, local_service, sample_body


@pytest.fixture
def svc(tmp_path: Path):
    with local_service(tmp_path, replace(FAST, fault_mode=True)) as s:
        yield s


def _faults(svc: LocalService, **plan: object) -> None:
    req = HttpRequest("PUT", f"{svc.base_url}/_aibtui/faults", {"Authorization": f"Bearer {svc.token}"},
                      json.dumps(plan).encode())
    assert StdlibTransport().send(req, 5).status == 200


def _applied(svc: LocalService) -> list[str]:
    return list(svc.faults.snapshot()["applied"])


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def _client(svc: LocalService, tmp_path: Path, sleeps: Sleeps | None = None, **retry: float) -> ArmClient:
    pol = RetryPolicy(**{"attempts": 4, "backoff": 0.01, "timeout": 5.0, "poll_interval": 0.005, **retry})
    c = local_client(tmp_path, api_version="2024-02-01", base_url=svc.base_url, retry=pol)
    if sleeps is not None:
        c.sleep = sleeps
    return c


def _runs(tmp_path: Path) -> int:
    with sqlite3.connect(tmp_path / "state.db") as db:
        return int(db.execute("SELECT COUNT(*) FROM runs").fetchone()[0])


def test_429_honours_retry_after(svc: LocalService, tmp_path: Path) -> None:
    sleeps = Sleeps()
    c = _client(svc, tmp_path, sleeps)
    _faults(svc, rules=[{"action": "429", "method": "GET", "retryAfter": 7, "times": 2}])
    assert c.find_template("nope") is None
    assert sleeps.calls == [7.0, 7.0]
    assert _applied(svc) == [f"429 GET {c.template_path('nope')}"] * 2


def test_500s_are_retried_with_backoff_then_succeed(svc: LocalService, tmp_path: Path) -> None:
    sleeps = Sleeps()
    c = _client(svc, tmp_path, sleeps, backoff=0.5)
    _faults(svc, rules=[{"action": "500", "method": "PUT", "times": 2}, {"action": "503", "method": "GET"}])
    created = c.create_template("t", sample_body()).result(timeout=5)
    assert created["properties"]["provisioningState"] == "Succeeded"
    assert sleeps.calls[:2] == [0.5, 1.0]  # exponential backoff, then LRO polling intervals
    assert len([a for a in _applied(svc) if a.startswith("500 PUT")]) == 2


def test_persistent_500_fails_cleanly_with_the_service_error(svc: LocalService, tmp_path: Path) -> None:
    c = _client(svc, tmp_path, Sleeps())
    _faults(svc, rules=[{"action": "500", "times": 100}])
    with pytest.raises(ArmError) as err:
        c.get_template("t")
    assert err.value.status == 500 and err.value.code == "InternalServerError"
    assert len(_applied(svc)) == 4  # attempts


def test_dropped_answer_to_run_does_not_start_a_second_run(svc: LocalService, tmp_path: Path) -> None:
    c = _client(svc, tmp_path)
    c.create_template("t", sample_body()).result(timeout=5)
    _faults(svc, rules=[{"action": "drop-after", "method": "POST", "path": "/run$", "times": 2}])
    poller = c.run("t")  # the first two answers are lost after the run started
    assert poller.wait(timeout=5) == "Succeeded"
    assert _runs(tmp_path) == 1
    assert _applied(svc) == [f"drop-after POST {c.template_path('t')}/run"] * 2


def test_dropped_answer_to_put_and_cancel(svc: LocalService, tmp_path: Path) -> None:
    c = _client(svc, tmp_path)
    _faults(svc, rules=[{"action": "drop-after", "method": "PUT"}, {"action": "drop-before", "method": "GET"}])
    assert c.create_template("t", sample_body()).result(timeout=5)["properties"]["provisioningState"] == "Succeeded"
    assert len(_applied(svc)) == 2


def test_cancel_retry_after_a_dropped_answer(tmp_path: Path) -> None:
    with local_service(tmp_path, replace(FAST, fault_mode=True, step_delay=0.05)) as svc:
        c = _client(svc, tmp_path)
        c.create_template("t", sample_body()).result(timeout=5)
        run = c.run("t")
        _faults(svc, rules=[{"action": "drop-after", "method": "POST", "path": "/cancel$"}])
        assert c.cancel("t").wait(timeout=5) == "Succeeded"
        assert run.wait(timeout=5) == "Canceled"
        assert _runs(tmp_path) == 1


def test_stalled_answer_times_out_and_is_retried(svc: LocalService, tmp_path: Path) -> None:
    c = _client(svc, tmp_path, timeout=0.2)
    _faults(svc, rules=[{"action": "stall", "method": "GET", "seconds": 0.6}])
    assert c.find_template("x") is None
    assert _applied(svc)[0].startswith("stall GET")


def test_connection_always_dropped_gives_a_clean_transport_error(svc: LocalService, tmp_path: Path) -> None:
    c = _client(svc, tmp_path)
    _faults(svc, rules=[{"action": "drop-before", "times": 100}])
    with pytest.raises(TransportError) as err:
        c.get_template("t")
    assert "gave up after 4 tries" in str(err.value)


def test_nothing_listening_gives_a_clean_transport_error(tmp_path: Path) -> None:
    with local_service(tmp_path) as svc:
        url = svc.base_url
    c = local_client(tmp_path, api_version="2024-02-01", base_url=url,
                     retry=RetryPolicy(attempts=2, backoff=0.01, timeout=1))
    with pytest.raises(TransportError) as err:
        c.get_template("t")
    assert "connection to 127.0.0.1" in str(err.value)


def test_injected_step_failure_fails_the_run_naming_the_step(svc: LocalService, tmp_path: Path) -> None:
    c = _client(svc, tmp_path)
    c.create_template("t", sample_body()).result(timeout=5)
    _faults(svc, failStep="harden")
    poller = c.run("t")
    assert poller.wait(timeout=5) == "Failed"
    assert poller.error is not None and "step 'harden' (Shell) failed" in poller.error.message
    status = c.get_template("t")["properties"]["lastRunStatus"]
    assert status["runState"] == "Failed" and "step 'harden'" in status["message"]
    assert c.run_outputs("t") == []


def test_fault_endpoint_is_off_unless_fault_mode(tmp_path: Path) -> None:
    with local_service(tmp_path) as svc:
        req = HttpRequest("PUT", f"{svc.base_url}/_aibtui/faults", {"Authorization": f"Bearer {svc.token}"}, b"{}")
        assert StdlibTransport().send(req, 5).status == 404
