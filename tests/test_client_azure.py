"""The azure provider with a fake azure-cli-core profile and a fake azure-core transport: no network."""

from __future__ import annotations

import json
import subprocess
import sys
from types import SimpleNamespace
from typing import Any

import pytest
from azure.core.credentials import AccessToken
from azure.core.pipeline.transport import HttpResponse as CoreResponse
from azure.core.pipeline.transport import HttpTransport

from aibtui.arm.azure import azure_client, context_from_cli
from aibtui.arm.client import RetryPolicy
from aibtui.arm.errors import ArmError, ClientError


class FakeCredential:
    def __init__(self) -> None:
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **kw: Any) -> AccessToken:
        self.scopes.append(scopes)
        return AccessToken("fake-token-123", 2**40)


class FakeProfile:
    def __init__(self, credential: FakeCredential, fail: str | None = None) -> None:
        self.credential, self.fail, self.asked = credential, fail, []

    def get_login_credentials(self, subscription_id: str | None = None, **kw: Any):
        self.asked.append(subscription_id)
        if self.fail:
            raise RuntimeError(self.fail)
        return self.credential, subscription_id or "11111111-2222-3333-4444-555555555555", "tenant-x"


class FakeConfig:
    def __init__(self, values: dict[tuple[str, str], str]) -> None:
        self.values = values

    def get(self, section: str, key: str, fallback: Any = None) -> Any:
        return self.values.get((section, key), fallback)


def china_cli(defaults: dict[tuple[str, str], str] | None = None) -> SimpleNamespace:
    endpoints = SimpleNamespace(resource_manager="https://management.chinacloudapi.cn/",
                                active_directory_resource_id="https://management.core.chinacloudapi.cn/")
    return SimpleNamespace(cloud=SimpleNamespace(name="AzureChinaCloud", endpoints=endpoints),
                           config=FakeConfig(defaults or {}))


class _Resp(CoreResponse):
    def __init__(self, request: Any, status: int, body: dict | None, headers: dict[str, str] | None = None) -> None:
        super().__init__(request, None)
        self.status_code = status
        self.headers = {"Content-Type": "application/json", **(headers or {})}
        self._body = json.dumps(body).encode() if body is not None else b""

    def body(self) -> bytes:
        return self._body


class FakeTransport(HttpTransport):
    def __init__(self, answers: list[tuple[int, dict | None, dict[str, str]]]) -> None:
        self.answers, self.requests = list(answers), []

    def send(self, request: Any, **kwargs: Any) -> _Resp:
        self.requests.append(request)
        status, body, headers = self.answers.pop(0)
        return _Resp(request, status, body, headers)

    def open(self) -> None: ...
    def close(self) -> None: ...
    def __enter__(self) -> FakeTransport:
        return self

    def __exit__(self, *a: Any) -> None: ...


def test_urls_api_version_and_headers_for_the_target_cloud() -> None:
    cred = FakeCredential()
    defaults = {("defaults", "group"): "rg-img", ("defaults", "location"): "chinanorth3"}
    ctx = context_from_cli(None, cli_ctx=china_cli(defaults), profile=FakeProfile(cred))
    assert ctx.subscription == "11111111-2222-3333-4444-555555555555" and ctx.tenant == "tenant-x"
    assert ctx.default_group == "rg-img" and ctx.cloud == "AzureChinaCloud"
    tpl = {"id": "x", "name": "web", "properties": {"provisioningState": "Succeeded"}}
    fake = FakeTransport([(200, tpl, {})])
    client = azure_client(ctx, api_version="2024-02-01", http_transport=fake)
    assert client.location == "chinanorth3"
    assert client.get_template("web")["name"] == "web"
    req = fake.requests[0]
    assert req.method == "GET"
    assert req.url == ("https://management.chinacloudapi.cn/subscriptions/11111111-2222-3333-4444-555555555555"
                       "/resourceGroups/rg-img/providers/Microsoft.VirtualMachineImages/imageTemplates/web"
                       "?api-version=2024-02-01")
    assert req.headers["Authorization"] == "Bearer fake-token-123"
    assert req.headers["Accept"] == "application/json"
    assert req.headers["User-Agent"].startswith("aibtui/")
    assert len(req.headers["x-ms-client-request-id"]) == 36
    assert cred.scopes == [("https://management.core.chinacloudapi.cn//.default",)]


def test_put_run_and_lro_on_azure_with_flags_overriding_defaults() -> None:
    ctx = context_from_cli("99999999-0000-0000-0000-000000000000", cli_ctx=china_cli(),
                           profile=FakeProfile(FakeCredential()))
    op = ("https://management.chinacloudapi.cn/subscriptions/9/providers/Microsoft.VirtualMachineImages/locations/x"
          "/operations/1?api-version=2022-07-01")
    fake = FakeTransport([
        (201, {"name": "t"}, {"Azure-AsyncOperation": op, "Retry-After": "3"}),
        (200, {"status": "InProgress"}, {"Retry-After": "5"}),
        (200, {"status": "Succeeded"}, {}),
        (200, {"name": "t", "properties": {"provisioningState": "Succeeded"}}, {}),
        (202, None, {"Azure-AsyncOperation": op}),
    ])
    sleeps: list[float] = []
    client = azure_client(ctx, api_version="2022-07-01", resource_group="rg-flag", http_transport=fake,
                          retry=RetryPolicy(poll_interval=15))
    client.sleep = sleeps.append
    assert client.create_template("t", {"location": "chinanorth3"}).result()["name"] == "t"
    assert sleeps == [3.0, 5.0]
    put = fake.requests[0]
    assert put.method == "PUT" and "/resourceGroups/rg-flag/" in put.url and "/subscriptions/99999999-" in put.url
    assert put.headers["Content-Type"].startswith("application/json")
    assert json.loads(put.body) == {"location": "chinanorth3"}
    assert [r.url for r in fake.requests[1:3]] == [op, op]
    run = client.run("t")
    assert fake.requests[-1].url.endswith("/imageTemplates/t/run?api-version=2022-07-01")
    assert run.async_url == op


def test_both_envelopes_from_azure_and_no_link_to_other_hosts() -> None:
    ctx = context_from_cli(None, cli_ctx=china_cli({("defaults", "group"): "g"}), profile=FakeProfile(FakeCredential()))
    fake = FakeTransport([(409, {"error": {"code": "Conflict", "message": "Update/Upgrade ... not supported"}}, {}),
                          (400, {"code": "InvalidParameter", "message": "flat"}, {})])
    client = azure_client(ctx, api_version="2020-02-14", http_transport=fake)
    with pytest.raises(ArmError, match="Conflict: Update/Upgrade"):
        client.get_template("a")
    with pytest.raises(ArmError, match="InvalidParameter: flat"):
        client.get_template("b")
    with pytest.raises(ClientError, match="another host"):
        client.send("GET", "https://evil.example.com/x")


def test_tenant_flag_takes_tokens_for_that_tenant() -> None:
    class TenantProfile(FakeProfile):
        def get_subscription(self, subscription: str | None = None) -> dict:
            return {"id": "default-sub"}

        def get_raw_token(self, scopes=None, tenant=None, **kw: Any):
            self.asked.append((tuple(scopes), tenant))
            return ("Bearer", f"token-for-{tenant}", {"expires_on": 2**40}), None, tenant

    profile = TenantProfile(FakeCredential())
    ctx = context_from_cli(None, tenant="other-tenant", cli_ctx=china_cli({("defaults", "group"): "g"}),
                           profile=profile)
    assert ctx.subscription == "default-sub"
    fake = FakeTransport([(200, {"name": "t"}, {})])
    azure_client(ctx, api_version="2024-02-01", http_transport=fake).get_template("t")
    assert fake.requests[0].headers["Authorization"] == "Bearer token-for-other-tenant"
    assert profile.asked == [(("https://management.core.chinacloudapi.cn//.default",), "other-tenant")]


def test_not_logged_in_is_a_clear_error() -> None:
    with pytest.raises(ClientError, match="az login"):
        context_from_cli(None, cli_ctx=china_cli(), profile=FakeProfile(FakeCredential(), fail="Please run 'az login'"))


def test_no_resource_group_is_a_clear_error() -> None:
    ctx = context_from_cli(None, cli_ctx=china_cli(), profile=FakeProfile(FakeCredential()))
    client = azure_client(ctx, api_version="2024-02-01", http_transport=FakeTransport([]))
    with pytest.raises(ClientError, match="az configure --defaults group="):
        client.get_template("x")


def test_local_provider_and_compile_never_import_azure() -> None:
    code = ("import sys, tempfile, pathlib\n"
            "from aibtui.service.testing import local_service, sample_body\n"
            "from aibtui.arm.local import local_client\n"
            "import aibtui.cli.ops_cmd\n"
            "d = pathlib.Path(tempfile.mkdtemp())\n"
            "with local_service(d) as s:\n"
            "    c = local_client(d, api_version='2024-02-01', base_url=s.base_url)\n"
            "    c.create_template('t', sample_body()).result(5)\n"
            "bad = sorted(m for m in sys.modules if m.startswith(('azure', 'textual')))\n"
            "print(bad)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_location_only_lro_and_retry_after_forms() -> None:
    from email.utils import formatdate

    from aibtui.arm.client import retry_after_seconds
    from aibtui.arm.http import HttpResponse

    ctx = context_from_cli(None, cli_ctx=china_cli({("defaults", "group"): "g"}), profile=FakeProfile(FakeCredential()))
    loc = "https://management.chinacloudapi.cn/subscriptions/s/providers/x/operationresults/1?api-version=2024-02-01"
    fake = FakeTransport([(202, None, {"Location": loc, "Retry-After": "2"}), (202, None, {"Location": loc}),
                          (204, None, {}),
                          (202, None, {"Location": loc}),
                          (400, {"error": {"code": "DeleteFailed", "message": "no"}}, {})])
    sleeps: list[float] = []
    client = azure_client(ctx, api_version="2024-02-01", http_transport=fake, retry=RetryPolicy(poll_interval=9))
    client.sleep = sleeps.append
    assert client.delete_template("t").wait() == "Succeeded"
    assert sleeps == [2.0, 9.0]
    failing = client.delete_template("u")
    with pytest.raises(ArmError, match="DeleteFailed: no"):
        failing.result()
    assert retry_after_seconds(HttpResponse(429, {"retry-after-ms": "250"}, b"")) == 0.25
    assert retry_after_seconds(HttpResponse(429, {"retry-after": "nonsense"}, b"")) is None
    future = formatdate(timeval=__import__("time").time() + 30, usegmt=True)
    assert 25 < (retry_after_seconds(HttpResponse(429, {"retry-after": future}, b"")) or 0) <= 30
