"""The live customization.log of Azure builds (aibtui/arm/stagelog.py), read by byte range from a real
blob service: Azurite (`npm install -g azurite`), started on 127.0.0.1 and stopped by the fixture.
The storage side authenticates with Azurite's shared key (its public development key); the ARM side
(template, staging group, storage account) answers through fakes at the ARM boundary."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aibtui.arm.client import Identity
from aibtui.arm.errors import ClientError
from aibtui.arm.stagelog import Account, StagingLog

# Azurite's well-known development account (documented by Microsoft; not a secret)
DEV_ACCOUNT = "devstoreaccount1"
DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
ACCOUNT_ID = ("/subscriptions/s/resourceGroups/IT_rg_web_abc/providers/Microsoft.Storage/storageAccounts/"
              "abcstaging")


@pytest.fixture(scope="module")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    exe = shutil.which("azurite-blob")
    if exe is None:
        pytest.skip("needs azurite (npm install -g azurite)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    work = tmp_path_factory.mktemp("azurite")
    proc = subprocess.Popen([exe, "--blobHost", "127.0.0.1", "--blobPort", str(port), "--location", str(work),
                             "--silent", "--skipApiVersionCheck", "--loose"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else "azurite exited"
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "azurite did not listen within 30 s"
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/{DEV_ACCOUNT}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _key() -> dict[str, str]:
    return {"account_name": DEV_ACCOUNT, "account_key": DEV_KEY}


@pytest.fixture
def container(azurite: str, request: pytest.FixtureRequest) -> Any:
    from azure.storage.blob import BlobServiceClient

    svc = BlobServiceClient(azurite, credential=_key())
    try:
        svc.delete_container("packerlogs")
    except Exception:  # noqa: BLE001 - not there yet
        pass
    deadline = time.monotonic() + 10
    while True:  # a deleted container's name is briefly unavailable
        try:
            return svc.create_container("packerlogs")
        except Exception:  # noqa: BLE001
            assert time.monotonic() < deadline
            time.sleep(0.05)


class FakeArm:
    """The ARM side of a run: the template's lastRunStatus, as Azure reports it."""

    provider = "azure"
    subscription = "s"
    resource_group = "rg"

    def __init__(self) -> None:
        self.state = "Running"
        self.identity = Identity("cli", "dev@example.com", "t-1", assignee="dev@example.com")
        self.credential = None

    def get_template(self, name: str) -> dict[str, Any]:
        end = {"endTime": "2026-12-08T01:10:00Z"} if self.state != "Running" else {}
        return {"name": name, "properties": {"provisioningState": "Succeeded", "lastRunStatus": {
            "runState": self.state, "startTime": "2026-12-08T01:00:00Z", "message": "", **end}}}


def _log(arm: FakeArm, azurite: str, key: Any = None) -> StagingLog:
    return StagingLog(arm, account=Account(ACCOUNT_ID, azurite), blob_credential=key or _key())


def test_new_bytes_only_and_whole_lines(container: Any, azurite: str) -> None:
    old = container.get_blob_client("run-1/customization.log")
    old.upload_blob(b"old run line\n")
    time.sleep(1.1)  # blob times have 1 s resolution: the new run's log must be newer
    blob = container.get_blob_client("run-2/customization.log")
    blob.create_append_blob()
    blob.append_block(b"PACKER OUT step 1\nPACKER OUT step 2\npartial")
    arm = FakeArm()
    log = _log(arm, azurite)
    first = log.read("web")
    assert first["runId"] == "run-2" and not first["complete"]
    assert [ln["text"] for ln in first["lines"]] == ["PACKER OUT step 1", "PACKER OUT step 2"]
    assert first["next"] == 2
    blob.append_block(b" line done\nstep 3\n")
    second = log.read("web", after=first["next"])
    assert [(ln["n"], ln["text"]) for ln in second["lines"]] == [(3, "partial line done"), (4, "step 3")]
    assert log.read("web", after=second["next"])["lines"] == []
    blob.append_block(b"last words without newline")
    arm.state = "Succeeded"
    last = log.read("web", after=second["next"])
    assert [ln["text"] for ln in last["lines"]] == ["last words without newline"] and last["complete"]
    size = blob.get_blob_properties().size
    assert log.bytes_read == size  # every byte downloaded once: reads by range, never the whole blob again
    again = log.read("web", run_id="run-1")  # an earlier run by id
    assert [ln["text"] for ln in again["lines"]] == ["old run line"]
    reattach = _log(arm, azurite).read("web", after=3)  # a new reader resuming after line 3
    assert [ln["n"] for ln in reattach["lines"]] == [4, 5]


def test_no_log_yet_and_no_run_yet(container: Any, azurite: str) -> None:
    arm = FakeArm()
    assert _log(arm, azurite).read("web") == {"runId": None, "lines": [], "next": 0, "complete": False,
                                               "runState": "Running"}
    assert _log(arm, azurite).read("web", run_id="nope")["lines"] == []


def test_403_names_the_role_the_scope_and_the_command(container: Any, azurite: str) -> None:
    container.get_blob_client("run-9/customization.log").upload_blob(b"x\n")
    wrong = {"account_name": DEV_ACCOUNT, "account_key": "d3Jvbmc=" * 11}
    with pytest.raises(ClientError) as err:
        _log(FakeArm(), azurite, key=wrong).read("web", run_id="run-9")
    text = str(err.value)
    assert "403" in text and "Storage Blob Data Reader" in text and ACCOUNT_ID in text
    assert (f'az role assignment create --assignee dev@example.com --role "Storage Blob Data Reader" '
            f"--scope {ACCOUNT_ID}") in text


def test_logs_follow_on_azure_prints_the_log_as_it_grows(container: Any, azurite: str, capsys: Any,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import aibtui.cli.ops_cmd as ops
    from aibtui.cli.main import main

    blob = container.get_blob_client("run-3/customization.log")
    blob.create_append_blob()
    blob.append_block(b"line 1\n")
    arm = FakeArm()
    log = _log(arm, azurite)
    arm.customization_log = lambda name, after=0, run_id=None, wait=0.0: log.read(name, after=after, run_id=run_id)
    monkeypatch.setattr(ops, "_client", lambda args, err: arm)
    reads = []
    real_read = log.read

    def counting_read(*a: Any, **kw: Any) -> dict[str, Any]:
        out = real_read(*a, **kw)
        reads.append(out["next"])
        return out

    log.read = counting_read  # type: ignore[method-assign]

    def grow() -> None:
        deadline = time.monotonic() + 20
        while len(reads) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        blob.append_block(b"line 2\nline 3\n")
        while reads[-1] < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        arm.state = "Failed"

    t = threading.Thread(target=grow)
    t.start()
    try:
        rc = main(["logs", "web", "--follow", "--poll", "0.02", "--provider", "azure"])
    finally:
        t.join()
    assert rc == 1  # the run failed
    assert capsys.readouterr().out == "line 1\nline 2\nline 3\n"


def test_the_staging_account_is_found_through_arm() -> None:
    import json

    from test_client_azure import FakeCredential, FakeProfile, FakeTransport, china_cli

    from aibtui.arm.azure import azure_client, context_from_cli

    ctx = context_from_cli(None, cli_ctx=china_cli({("defaults", "group"): "rg"}),
                           profile=FakeProfile(FakeCredential()))
    groups = {"value": [{"name": "other"}, {"name": "IT_rg_web_5f1a"}]}
    accounts = {"value": [{"id": ACCOUNT_ID, "properties": {"primaryEndpoints": {
        "blob": "https://abcstaging.blob.core.chinacloudapi.cn/"}}}]}
    fake = FakeTransport([(200, groups, {}), (200, accounts, {})])
    client = azure_client(ctx, api_version="2024-02-01", http_transport=fake)
    acct = StagingLog(client).find_account({"properties": {}}, "web")
    assert acct == Account(ACCOUNT_ID, "https://abcstaging.blob.core.chinacloudapi.cn/")
    assert "/resourcegroups?api-version=2021-04-01" in fake.requests[0].url
    assert "/resourceGroups/IT_rg_web_5f1a/providers/Microsoft.Storage/storageAccounts?" in fake.requests[1].url
    named = {"properties": {"stagingResourceGroup": "/subscriptions/s/resourceGroups/my-staging"}}
    fake2 = FakeTransport([(200, accounts, {})])
    client2 = azure_client(ctx, api_version="2024-02-01", http_transport=fake2)
    StagingLog(client2).find_account(named, "web")
    assert "/resourceGroups/my-staging/providers/Microsoft.Storage/" in fake2.requests[0].url
    assert json.dumps(fake2.requests[0].headers.get("Authorization")) == '"Bearer fake-token-123"'


def test_shared_blob_path_is_container_packerlogs(tmp_path: Path) -> None:
    from aibtui.arm import stagelog

    assert (stagelog.CONTAINER, stagelog.LOG_BLOB) == ("packerlogs", "customization.log")
