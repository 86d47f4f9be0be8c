"""The Azure provider's real code path (aibtui.arm.azure: azure-identity-style credential, the
ARMPipelineClient, ARMPolling) against the local service acting as ARM over HTTPS, verified with the
service's CA file. No mock transport: every request crosses TLS to a real server."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from azure.core.credentials import AccessToken
from service_support import FAST, local_service, sample_body

from aibtui.arm.azure import AzureContext, azure_client
from aibtui.arm.client import ArmClient, ClientSettings, Identity
from aibtui.arm.errors import ClientError
from aibtui.arm.watch import RunWatcher
from aibtui.localstate import LOCAL_RESOURCE_GROUP, LOCAL_SUBSCRIPTION
from aibtui.service.server import LocalService


class TestCredential:
    """A TokenCredential handing out the local service's token (what azure-identity would do)."""

    __test__ = False

    def __init__(self, token: str) -> None:
        self.token, self.calls = token, 0

    def get_token(self, *scopes: str, **kw: Any) -> AccessToken:
        self.calls += 1
        assert scopes == ("https://management.azure.com/.default",)
        return AccessToken(self.token, 2**40)


def _azure(svc: LocalService, endpoint: str | None = None, **settings: Any) -> tuple[ArmClient, TestCredential]:
    cred = TestCredential(svc.token)
    ctx = AzureContext(credential=cred, subscription=LOCAL_SUBSCRIPTION, tenant="t-test",
                       arm_endpoint=endpoint or svc.https_url + "/", scopes=("https://management.azure.com/.default",),
                       cloud="AzureCloud", identity=Identity("env", "service principal test-app", "t-test"),
                       default_group=LOCAL_RESOURCE_GROUP)
    pol = ClientSettings(**{"attempts": 4, "backoff": 0.01, "timeout": 10.0, "poll_interval": 0.01, **settings})
    assert svc.tls is not None
    return azure_client(ctx, api_version="2024-02-01", retry=pol, ca_file=str(svc.tls.ca_file)), cred


@pytest.fixture
def svc(tmp_path: Path):
    with local_service(tmp_path, replace(FAST, fault_mode=True, step_delay=0.02)) as s:
        yield s


def _runs(tmp_path: Path) -> int:
    with sqlite3.connect(tmp_path / "state.db") as db:
        return int(db.execute("SELECT COUNT(*) FROM runs").fetchone()[0])


def test_lifecycle_over_https(svc: LocalService, tmp_path: Path) -> None:
    c, cred = _azure(svc)
    assert c.provider == "azure" and c.base_url.startswith("https://127.0.0.1:")
    created = c.create_template("web", sample_body()).result(timeout=10)
    assert created["properties"]["provisioningState"] == "Succeeded"
    op = c.run("web")
    watcher = RunWatcher(c, "web")  # watch: state changes; the log is Azure's blob, not found here
    seen, notes = [], []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        upd = watcher.poll()
        if upd.log_note:
            notes.append(upd.log_note)
        if upd.changed and upd.status:
            seen.append(upd.status.state if upd.status.done else upd.status.sub_state)
        if watcher.done:
            break
        time.sleep(0.01)
    assert seen[-1] == "Succeeded" and "Customizing" in seen
    assert notes and "no staging resource group for web: no group named IT_aibtui-local_web_*" in notes[0]
    assert op.wait(timeout=10) == "Succeeded"
    assert sorted(o["name"] for o in c.run_outputs("web")) == ["img", "vhd"]
    assert c.run_output("web", "img")["properties"]["artifactId"].endswith("/images/img")
    svc.runner.step_delay = 0.2
    second = c.run("web")
    cancel = c.cancel("web")
    assert cancel.wait(timeout=10) == "Succeeded"
    assert c.watch_run("web").wait(timeout=10) == "Canceled"  # cancel --wait: the run's own end
    assert second.wait(timeout=10) == "Canceled"
    assert c.delete_template("web").wait(timeout=10) == "Succeeded"
    assert c.find_template("web") is None
    assert cred.calls == 1  # azure-core's challenge policy caches the token


def test_resource_provider_registered_once_on_missing_subscription_registration(
        svc: LocalService, monkeypatch: pytest.MonkeyPatch) -> None:
    import azure.mgmt.core.policies._base as rp_policy

    monkeypatch.setattr(rp_policy.time, "sleep", lambda s: None)  # the policy waits 10 s between checks
    svc.faults.configure({"rules": [{"action": "unregistered", "method": "PUT", "times": 1}]})
    c, _ = _azure(svc)
    assert c.create_template("t", sample_body()).result(timeout=10)["properties"]["provisioningState"] == "Succeeded"
    assert [a.split(" ")[0] for a in svc.faults.snapshot()["applied"]] == ["unregistered"]


def test_lost_answer_to_run_over_https_starts_exactly_one_run(svc: LocalService, tmp_path: Path) -> None:
    c, _ = _azure(svc)
    c.create_template("t", sample_body()).result(timeout=10)
    svc.faults.configure({"rules": [{"action": "drop-after", "method": "POST", "path": "/run$"}]})
    op = c.run("t")
    assert op.recovered and op.wait(timeout=10) == "Succeeded"
    assert _runs(tmp_path) == 1


@pytest.mark.parametrize("action", ["429", "503", "drop-before", "drop-after"])
def test_faults_on_every_call_over_https(svc: LocalService, tmp_path: Path, action: str) -> None:
    c, _ = _azure(svc, attempts=5)
    svc.faults.configure({"rules": [{"action": action, "times": 1, "retryAfter": 0, "method": m, "path": p}
                                    for m, p in [("PUT", "/t$"), ("GET", "/t$"), ("GET", "/operations/"),
                                                 ("POST", "/run$"), ("GET", "/runOutputs$"),
                                                 ("DELETE", "/t$"), ("GET", "/operationresults/")]]})
    c.create_template("t", sample_body()).result(timeout=10)
    assert c.run("t").wait(timeout=10) == "Succeeded"
    assert len(c.run_outputs("t")) == 2
    assert _runs(tmp_path) == 1
    assert c.delete_template("t").wait(timeout=10) == "Succeeded"
    assert len(svc.faults.snapshot()["applied"]) >= 5


def test_the_token_never_goes_to_the_plain_http_listener(svc: LocalService) -> None:
    c, cred = _azure(svc, endpoint=svc.base_url + "/")
    assert c.base_url.startswith("http://")
    with pytest.raises(ClientError, match="refusing to send the bearer token over plain http"):
        c.get_template("t")
    assert cred.calls == 0
