"""The ARM client against the local service over real HTTP on 127.0.0.1: the whole lifecycle."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

import pytest
from rawhttp import HttpRequest, StdlibTransport
from service_support import FAST, local_service, sample_body

from aibtui.arm.client import ArmClient, RetryPolicy
from aibtui.arm.errors import ArmError
from aibtui.arm.local import local_client
from aibtui.service.runner import NOT_EXECUTED
from aibtui.service.server import LocalService

RETRY = RetryPolicy(attempts=3, backoff=0.01, timeout=5, poll_interval=0.005)


def _client(svc: LocalService, state: Path, api_version: str = "2024-02-01") -> ArmClient:
    return local_client(state, api_version=api_version, base_url=svc.base_url, retry=RETRY)


@pytest.fixture
def svc(tmp_path: Path):
    with local_service(tmp_path) as s:
        yield s


def _wait_state(client: ArmClient, name: str, pred, timeout: float = 5.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        tpl = client.get_template(name)
        if pred(tpl["properties"].get("lastRunStatus") or {}):
            return tpl
        time.sleep(0.002)
    raise AssertionError(f"state not reached; last: {tpl['properties'].get('lastRunStatus')}")


def test_full_lifecycle(svc: LocalService, tmp_path: Path) -> None:
    c = _client(svc, tmp_path)
    created = c.create_template("web", sample_body()).result(timeout=5)
    assert created["properties"]["provisioningState"] == "Succeeded"
    assert created["id"].endswith("/providers/Microsoft.VirtualMachineImages/imageTemplates/web")
    assert "lastRunStatus" not in created["properties"]
    assert [t["name"] for t in c.list_templates()] == ["web"]

    poller = c.run("web")
    assert poller.status == "InProgress" and poller.async_url and "/operations/" in poller.async_url
    assert poller.wait(timeout=5) == "Succeeded"
    status = c.get_template("web")["properties"]["lastRunStatus"]
    assert status["runState"] == "Succeeded"
    assert "simulated" in status["message"] and "no step was executed" in status["message"]
    assert status["startTime"].endswith("Z") and status["endTime"] >= status["startTime"]

    outs = {o["name"]: o for o in c.run_outputs("web")}
    assert set(outs) == {"img", "vhd"}
    assert outs["img"]["properties"]["artifactId"].endswith("/providers/Microsoft.Compute/images/img")
    assert outs["vhd"]["properties"]["artifactUri"].endswith(".vhd")
    assert outs["img"]["type"] == "Microsoft.VirtualMachineImages/imageTemplates/runOutputs"
    assert c.run_output("web", "vhd")["properties"]["provisioningState"] == "Succeeded"

    log = c.customization_log("web")
    text = [ln["text"] for ln in log["lines"]]
    assert log["complete"] is True and log["simulated"] is True
    assert text[0].startswith("SIMULATED RUN")
    assert f"simulated: step 'install' (Shell) {NOT_EXECUTED}" in text
    assert f"simulated: step 'harden' (Shell) {NOT_EXECUTED}" in text

    tail = c.customization_log("web", after=log["next"])
    assert tail["lines"] == [] and tail["next"] == log["next"]

    assert c.delete_template("web").wait(timeout=5) == "Succeeded"
    assert c.find_template("web") is None
    with pytest.raises(ArmError) as err:
        c.get_template("web")
    assert err.value.status == 404 and err.value.code == "ResourceNotFound"


def test_validation_steps_run_in_validating(svc: LocalService, tmp_path: Path) -> None:
    c = _client(svc, tmp_path)
    c.create_template("v", sample_body(validations=("smoke",))).result(timeout=5)
    assert c.run("v").wait(timeout=5) == "Succeeded"
    text = [ln["text"] for ln in c.customization_log("v")["lines"]]
    assert f"simulated: validation 'smoke' (Shell) {NOT_EXECUTED}" in text


def test_second_run_after_the_first_and_run_while_running(tmp_path: Path) -> None:
    with local_service(tmp_path, replace(FAST, step_delay=0.05)) as svc:
        c = _client(svc, tmp_path)
        c.create_template("t", sample_body()).result(timeout=5)
        first = c.run("t")
        with pytest.raises(ArmError) as err:
            c.run("t")
        assert err.value.status == 409 and "already in progress" in err.value.message
        assert first.wait(timeout=5) == "Succeeded"
        assert c.run("t").wait(timeout=5) == "Succeeded"


def test_changed_put_is_a_conflict_and_the_same_put_is_idempotent(svc: LocalService, tmp_path: Path) -> None:
    c = _client(svc, tmp_path)
    c.create_template("t", sample_body()).result(timeout=5)
    again = c.create_template("t", sample_body())
    assert again.initial_status == 200 and again.done()
    with pytest.raises(ArmError) as err:
        c.create_template("t", sample_body(steps=("install", "other")))
    assert err.value.status == 409 and err.value.code == "Conflict"
    assert "Update/Upgrade of image templates is currently not supported" in err.value.message


@pytest.mark.parametrize("stage", ["Queued", "Building", "Customizing", "Validating", "Distributing"])
def test_cancel_at_every_stage(tmp_path: Path, stage: str) -> None:
    with local_service(tmp_path, replace(FAST, step_delay=0.04)) as svc:
        c = _client(svc, tmp_path)
        c.create_template("t", sample_body(outputs=("a", "b", "c"), validations=("v1",))).result(timeout=5)
        run = c.run("t")
        _wait_state(c, "t", lambda s: s.get("runSubState") == stage)
        cancel = c.cancel("t")
        assert c.get_template("t")["properties"]["lastRunStatus"]["runState"] in ("Canceling", "Canceled")
        assert cancel.wait(timeout=5) == "Succeeded"
        assert run.wait(timeout=5) == "Canceled"
        status = c.get_template("t")["properties"]["lastRunStatus"]
        assert status["runState"] == "Canceled" and f"canceled during {stage}" in status["message"]
        assert c.run_outputs("t") == []  # partial outputs are cleaned up (OP-02)
        with pytest.raises(ArmError) as err:
            c.cancel("t")
        assert err.value.status == 409 and "no run in progress" in err.value.message


def test_delete_refused_while_running(tmp_path: Path) -> None:
    with local_service(tmp_path, replace(FAST, step_delay=0.05)) as svc:
        c = _client(svc, tmp_path)
        c.create_template("t", sample_body()).result(timeout=5)
        c.run("t")
        with pytest.raises(ArmError) as err:
            c.delete_template("t")
        assert err.value.status == 409 and "cancel it first" in err.value.message
        c.cancel("t").wait(timeout=5)
        assert c.delete_template("t").wait(timeout=5) == "Succeeded"


def test_paging_of_templates_and_run_outputs(tmp_path: Path) -> None:
    with local_service(tmp_path, replace(FAST, page_size=2)) as svc:
        lines: list[str] = []
        c = local_client(tmp_path, api_version="2022-07-01", base_url=svc.base_url, retry=RETRY, debug=lines.append)
        for i in range(5):
            c.create_template(f"t{i}", sample_body()).result(timeout=5)
        lines.clear()
        assert [t["name"] for t in c.list_templates()] == [f"t{i}" for i in range(5)]
        gets = [ln for ln in lines if ln.startswith("Request URL:") and "imageTemplates?" in ln]
        assert len(gets) == 3 and "$skipToken=" in gets[1] and "$skipToken=" in gets[2]  # keyset cursors
        outs = tuple(f"o{i}" for i in range(5))
        c.create_template("many", sample_body(outputs=outs)).result(timeout=5)
        c.run("many").wait(timeout=5)
        assert sorted(o["name"] for o in c.run_outputs("many")) == list(outs)
        assert len(list(c.list_templates(all_groups=True))) == 6


@pytest.mark.parametrize("version,flat", [("2020-02-14", True), ("2024-02-01", False), ("2025-10-01", False)])
def test_both_error_envelopes(svc: LocalService, tmp_path: Path, version: str, flat: bool) -> None:
    c = _client(svc, tmp_path, api_version=version)
    url = c.url(c.template_path("missing"))
    raw = StdlibTransport().send(HttpRequest("GET", url, {"Authorization": f"Bearer {svc.token}"}), 5)
    body = json.loads(raw.body)
    assert raw.status == 404
    err = body if flat else body["error"]
    assert ("error" in body) is not flat
    assert err["code"] == "ResourceNotFound" and "'missing'" in err["message"]
    with pytest.raises(ArmError) as caught:
        c.get_template("missing")
    assert caught.value.code == "ResourceNotFound" and caught.value.status == 404
    assert str(caught.value).startswith("ResourceNotFound: The image template 'missing' was not found.")


def test_invalid_put_is_400_with_details(svc: LocalService, tmp_path: Path) -> None:
    c = _client(svc, tmp_path, api_version="2020-02-14")
    body = sample_body()
    del body["properties"]["source"]
    body["properties"]["distribute"].append(dict(body["properties"]["distribute"][0]))
    with pytest.raises(ArmError) as err:
        c.create_template("bad", body)
    assert err.value.status == 400 and err.value.code == "InvalidParameter"
    msgs = [d["message"] for d in err.value.details]
    assert "'properties.source' is required" in msgs
    assert "runOutputName 'img' is used more than once" in msgs
    assert c.find_template("bad") is None


def test_api_version_is_required_and_checked(svc: LocalService, tmp_path: Path) -> None:
    c = _client(svc, tmp_path, api_version="2019-05-01-preview")
    with pytest.raises(ArmError) as err:
        c.get_template("x")
    # ARM's answer for a version the provider does not serve, listing the ones it does
    assert err.value.code == "NoRegisteredProviderFound" and err.value.status == 400
    assert "2020-02-14, 2021-10-01" in err.value.message and "2025-10-01" in err.value.message
    raw = StdlibTransport().send(HttpRequest("GET", svc.base_url + c.template_path("x"),
                                             {"Authorization": f"Bearer {svc.token}"}), 5)
    assert raw.status == 400 and json.loads(raw.body)["error"]["code"] == "MissingApiVersionParameter"


def test_marketplace_images_from_the_catalog(svc: LocalService, tmp_path: Path) -> None:
    c = _client(svc, tmp_path)
    pubs = {p["name"] for p in c.publishers("westus2")}
    assert {"Canonical", "RedHat", "Debian", "SUSE", "MicrosoftWindowsServer", "MicrosoftWindowsDesktop"} <= pubs
    assert "0001-com-ubuntu-server-jammy" in {o["name"] for o in c.offers("westus2", "canonical")}
    skus = {s["name"]: s["properties"] for s in c.skus("westus2", "MicrosoftWindowsDesktop", "windows-11")}
    assert skus["win11-24h2-avd"] == {"osFamily": "Windows", "hyperVGeneration": "V2", "multiSession": True}
    versions = [v["name"] for v in c.versions("westus2", "Canonical", "0001-com-ubuntu-server-jammy", "22_04-lts")]
    assert versions
    latest = c.image_version("westus2", "Canonical", "0001-com-ubuntu-server-jammy", "22_04-lts", "latest")
    assert latest["name"] == versions[-1]
    assert latest["properties"] == {"hyperVGeneration": "V1", "osDiskImage": {"operatingSystem": "Linux"}}
    with pytest.raises(ArmError) as err:
        c.offers("westus2", "NoSuchPublisher")
    assert err.value.status == 404


def test_log_long_poll_answers_when_something_happens(tmp_path: Path) -> None:
    with local_service(tmp_path, replace(FAST, step_delay=0.3)) as svc:
        c = _client(svc, tmp_path)
        c.create_template("t", sample_body(steps=("a",), outputs=("img",))).result(timeout=5)
        c.run("t")
        first = c.customization_log("t")
        started = time.monotonic()
        nxt = c.customization_log("t", after=first["next"], wait=5)
        took = time.monotonic() - started
        assert nxt["lines"] or nxt["runSubState"] != first["runSubState"]
        # it answered when the next thing happened (a step is 0.3 s here), not at the 5 s timeout; the
        # next thing may already have happened by the time of the call, so there is no lower bound
        assert took < 4.0
        c.cancel("t").wait(timeout=5)
        started = time.monotonic()
        done = c.customization_log("t", after=10_000, wait=5)
        assert done["complete"] is True and time.monotonic() - started < 4.0  # at once, not after wait=5
