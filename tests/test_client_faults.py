"""Fault mode: the service answers 429/500, drops connections and stalls; the client (azure-mgmt-core's
pipeline and ARMPolling, plus the run/cancel decisions of aibtui/arm/client.py) copes cleanly."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from azure.core.pipeline.transport import RequestsTransport
from rawhttp import HttpRequest, StdlibTransport
from service_support import FAST, local_service, sample_body

from aibtui.arm.client import ArmClient, RetryPolicy
from aibtui.arm.errors import ArmError, TransportError
from aibtui.arm.local import local_client
from aibtui.service.server import LocalService


@pytest.fixture
def svc(tmp_path: Path):
    with local_service(tmp_path, replace(FAST, fault_mode=True)) as s:
        yield s


def _faults(svc: LocalService, **plan: object) -> None:
    req = HttpRequest("PUT", f"{svc.base_url}/_aibtui/faults", {"Authorization": f"Bearer {svc.token}"},
                      json.dumps(plan).encode())
    assert StdlibTransport(getattr(svc, "ca_file", None)).send(req, 5).status == 200


def _applied(svc: LocalService) -> list[str]:
    return list(svc.faults.snapshot()["applied"])


class SleepRecorder(RequestsTransport):
    """azure-core's requests transport; its sleep (used by RetryPolicy and ARMPolling) is recorded
    and kept short, so Retry-After values can be asserted without waiting them out."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.calls: list[float] = []

    def sleep(self, duration: float) -> None:
        self.calls.append(round(float(duration), 3))
        super().sleep(min(duration, 0.01))


def _client(svc: LocalService, tmp_path: Path, **retry: float) -> tuple[ArmClient, SleepRecorder]:
    pol = RetryPolicy(**{"attempts": 4, "backoff": 0.01, "timeout": 5.0, "poll_interval": 0.005, **retry})
    transport = SleepRecorder(connection_timeout=pol.timeout, read_timeout=pol.timeout,
                              connection_verify=getattr(svc, "ca_file", None) or True)
    c = local_client(tmp_path, api_version="2024-02-01", base_url=svc.base_url, retry=pol, http_transport=transport)
    return c, transport


def _runs(tmp_path: Path) -> int:
    with sqlite3.connect(tmp_path / "state.db") as db:
        return int(db.execute("SELECT COUNT(*) FROM runs").fetchone()[0])


def test_429_honours_retry_after(svc: LocalService, tmp_path: Path) -> None:
    c, t = _client(svc, tmp_path)
    _faults(svc, rules=[{"action": "429", "method": "GET", "retryAfter": 7, "times": 2}])
    assert c.find_template("nope") is None
    assert t.calls == [7.0, 7.0]
    assert _applied(svc) == [f"429 GET {c.template_path('nope')}"] * 2


def test_500s_are_retried_with_backoff_then_succeed(svc: LocalService, tmp_path: Path) -> None:
    c, t = _client(svc, tmp_path, backoff=0.5)
    _faults(svc, rules=[{"action": "500", "method": "PUT", "times": 2}, {"action": "503", "method": "GET"}])
    created = c.create_template("t", sample_body()).result(timeout=5)
    assert created["properties"]["provisioningState"] == "Succeeded"
    assert t.calls[0] == 1.0  # azure-core: the first retry is immediate, then 0.5 * 2**1
    assert len([a for a in _applied(svc) if a.startswith("500 PUT")]) == 2


def test_persistent_500_fails_cleanly_with_the_service_error(svc: LocalService, tmp_path: Path) -> None:
    c, _ = _client(svc, tmp_path)
    _faults(svc, rules=[{"action": "500", "times": 100}])
    with pytest.raises(ArmError) as err:
        c.get_template("t")
    assert err.value.status == 500 and err.value.code == "InternalServerError"
    assert len(_applied(svc)) == 4  # attempts


def test_dropped_answer_to_run_does_not_start_a_second_run(svc: LocalService, tmp_path: Path) -> None:
    """The service accepted the run, then the connection dropped: the client reads lastRunStatus,
    sees its run and never sends POST run again (exactly one run, one POST)."""
    lines: list[str] = []
    c, _ = _client(svc, tmp_path)
    c.debug = lines.append
    c.create_template("t", sample_body()).result(timeout=5)
    _faults(svc, rules=[{"action": "drop-after", "method": "POST", "path": "/run$", "times": 2}])
    op = c.run("t")
    assert op.recovered
    assert op.wait(timeout=5) == "Succeeded"
    assert _runs(tmp_path) == 1
    assert _applied(svc) == [f"drop-after POST {c.template_path('t')}/run"]  # one POST only
    assert any("it is ours; not sending POST run again" in ln for ln in lines)


def test_run_lost_before_the_service_saw_it_is_sent_again_once(svc: LocalService, tmp_path: Path) -> None:
    c, _ = _client(svc, tmp_path)
    c.create_template("t", sample_body()).result(timeout=5)
    _faults(svc, rules=[{"action": "drop-before", "method": "POST", "path": "/run$"}])
    op = c.run("t")
    assert not op.recovered and op.wait(timeout=5) == "Succeeded"
    assert _runs(tmp_path) == 1


def test_run_answered_500_is_settled_by_last_run_status(svc: LocalService, tmp_path: Path) -> None:
    c, _ = _client(svc, tmp_path)
    c.create_template("t", sample_body()).result(timeout=5)
    _faults(svc, rules=[{"action": "500", "method": "POST", "path": "/run$"}])
    assert c.run("t").wait(timeout=5) == "Succeeded"
    assert _runs(tmp_path) == 1
    assert len(_applied(svc)) == 1


def test_dropped_answer_to_put_and_get(svc: LocalService, tmp_path: Path) -> None:
    c, _ = _client(svc, tmp_path)
    _faults(svc, rules=[{"action": "drop-after", "method": "PUT"}, {"action": "drop-before", "method": "GET"}])
    assert c.create_template("t", sample_body()).result(timeout=5)["properties"]["provisioningState"] == "Succeeded"
    assert c.get_template("t")["name"] == "t"
    assert [a.split(" ")[0] for a in _applied(svc)] == ["drop-after", "drop-before"]


def test_cancel_after_a_dropped_answer(tmp_path: Path) -> None:
    with local_service(tmp_path, replace(FAST, fault_mode=True, step_delay=0.05)) as svc:
        c, _ = _client(svc, tmp_path)
        c.create_template("t", sample_body()).result(timeout=5)
        run = c.run("t")
        _faults(svc, rules=[{"action": "drop-after", "method": "POST", "path": "/cancel$"}])
        cancel = c.cancel("t")
        assert cancel.recovered  # settled by lastRunStatus (Canceling), not by sending it again
        assert cancel.wait(timeout=5) == "Canceled"
        assert run.wait(timeout=5) == "Canceled"
        assert _runs(tmp_path) == 1
        assert len(_applied(svc)) == 1


def test_stalled_answer_times_out_and_is_retried(svc: LocalService, tmp_path: Path) -> None:
    c, _ = _client(svc, tmp_path, timeout=0.2)
    _faults(svc, rules=[{"action": "stall", "method": "GET", "seconds": 0.6}])
    assert c.find_template("x") is None
    assert _applied(svc)[0].startswith("stall GET")


def test_connection_always_dropped_gives_a_clean_transport_error(svc: LocalService, tmp_path: Path) -> None:
    c, _ = _client(svc, tmp_path)
    _faults(svc, rules=[{"action": "drop-before", "times": 100}])
    with pytest.raises(TransportError) as err:
        c.get_template("t")
    assert "GET " in str(err.value) and "Authorization" not in str(err.value)
    assert len(_applied(svc)) == 4  # attempts


def test_nothing_listening_gives_a_clean_transport_error(tmp_path: Path) -> None:
    with local_service(tmp_path) as svc:
        url = svc.base_url
    c = local_client(tmp_path, api_version="2024-02-01", base_url=url,
                     retry=RetryPolicy(attempts=2, backoff=0.01, timeout=1))
    with pytest.raises(TransportError) as err:
        c.get_template("t")
    assert "ServiceRequestError" in str(err.value) and "127.0.0.1" in str(err.value)


def test_injected_step_failure_fails_the_run_naming_the_step(svc: LocalService, tmp_path: Path) -> None:
    c, _ = _client(svc, tmp_path)
    c.create_template("t", sample_body()).result(timeout=5)
    _faults(svc, failStep="harden")
    op = c.run("t")
    assert op.wait(timeout=5) == "Failed"
    assert op.error is not None and "step 'harden' (Shell) failed" in op.error.message
    status = c.get_template("t")["properties"]["lastRunStatus"]
    assert status["runState"] == "Failed" and "step 'harden'" in status["message"]
    assert c.run_outputs("t") == []


@pytest.mark.parametrize("action", ["429", "500", "503", "drop-before", "drop-after"])
def test_every_call_of_the_lifecycle_survives_one_fault(tmp_path: Path, action: str) -> None:
    """One fault on every request of create, get, list, run, watch, outputs, cancel, delete: the
    lifecycle completes and exactly one run happens per POST run."""
    with local_service(tmp_path, replace(FAST, fault_mode=True, step_delay=0.03)) as svc:
        c, _ = _client(svc, tmp_path, attempts=5)
        _faults(svc, rules=[{"action": action, "times": 1, "retryAfter": 0, "method": m, "path": p}
                            for m, p in [("PUT", "imageTemplates/t$"), ("GET", "/operations/"),
                                         ("GET", "imageTemplates/t$"), ("GET", "imageTemplates$"),
                                         ("POST", "/run$"), ("GET", "/runOutputs$"), ("POST", "/cancel$"),
                                         ("DELETE", "imageTemplates/t$"), ("GET", "/operationresults/")]])
        c.create_template("t", sample_body()).result(timeout=10)
        assert [x["name"] for x in c.list_templates()] == ["t"]
        assert c.run("t").wait(timeout=10) == "Succeeded"
        assert _runs(tmp_path) == 1
        assert sorted(o["name"] for o in c.run_outputs("t")) == ["img", "vhd"]
        svc.runner.step_delay = 0.3  # the second run lasts long enough to be canceled
        second = c.run("t")
        cancel = c.cancel("t")
        assert cancel.wait(timeout=10) in ("Succeeded", "Canceled")
        assert c.watch_run("t").wait(timeout=10) in ("Canceled", "Succeeded")
        second.wait(timeout=10)
        assert _runs(tmp_path) == 2
        assert c.delete_template("t").wait(timeout=10) == "Succeeded"
        assert c.find_template("t") is None
        hit = {a.split(" ", 2)[1] + " " + a.split(" ", 2)[2].rsplit("/", 1)[-1] for a in _applied(svc)}
        assert {"PUT t", "POST run", "POST cancel", "DELETE t"} <= hit, hit


def test_fault_endpoint_is_off_unless_fault_mode(tmp_path: Path) -> None:
    with local_service(tmp_path) as svc:
        req = HttpRequest("PUT", f"{svc.base_url}/_aibtui/faults", {"Authorization": f"Bearer {svc.token}"}, b"{}")
        assert StdlibTransport(getattr(svc, "ca_file", None)).send(req, 5).status == 404
