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
from azure.core.utils import case_insensitive_dict

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
        self.headers = case_insensitive_dict({"Content-Type": "application/json", **(headers or {})})
        self._body = json.dumps(body).encode() if body is not None else b""

    def body(self) -> bytes:
        return self._body


class FakeTransport(HttpTransport):
    """The ARM boundary: canned answers in order; every request and every sleep recorded."""

    def __init__(self, answers: list[tuple[int, dict | None, dict[str, str]]]) -> None:
        self.answers, self.requests, self.sleeps = list(answers), [], []

    def sleep(self, duration: float) -> None:
        self.sleeps.append(float(duration))

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
        (201, {"name": "t", "properties": {"provisioningState": "Creating"}},
         {"Azure-AsyncOperation": op, "Retry-After": "3"}),
        (200, {"status": "InProgress"}, {"Retry-After": "5"}),
        (200, {"status": "Succeeded"}, {}),
        (200, {"name": "t", "properties": {"provisioningState": "Succeeded"}}, {}),
        (200, {"name": "t", "properties": {"provisioningState": "Succeeded"}}, {}),  # run: lastRunStatus first
        (202, None, {"Azure-AsyncOperation": op}),
        (200, {"status": "Succeeded"}, {}),
    ])
    client = azure_client(ctx, api_version="2022-07-01", resource_group="rg-flag", http_transport=fake,
                          retry=RetryPolicy(poll_interval=15))
    assert client.create_template("t", {"location": "chinanorth3"}).result()["properties"]["provisioningState"] \
        == "Succeeded"
    assert fake.sleeps == [5.0]  # ARMPolling: the operation's Retry-After, not the default 15 s
    put = fake.requests[0]
    assert put.method == "PUT" and "/resourceGroups/rg-flag/" in put.url and "/subscriptions/99999999-" in put.url
    assert put.headers["Content-Type"].startswith("application/json")
    assert json.loads(put.body) == {"location": "chinanorth3"}
    assert [r.url for r in fake.requests[1:3]] == [op, op]
    assert fake.requests[3].method == "GET" and fake.requests[3].url == put.url  # PUT: final GET of the resource
    run = client.run("t")
    assert run.wait() == "Succeeded" and run.async_url == op
    assert [r.method for r in fake.requests[4:]] == ["GET", "POST", "GET"]
    assert fake.requests[5].url.endswith("/imageTemplates/t/run?api-version=2022-07-01")


def test_put_answered_200_with_a_failed_provisioning_state_is_a_failure() -> None:
    ctx = context_from_cli(None, cli_ctx=china_cli({("defaults", "group"): "g"}), profile=FakeProfile(FakeCredential()))
    failed = {"name": "t", "properties": {"provisioningState": "Failed", "provisioningError": {
        "provisioningErrorCode": "BadSourceType", "message": "the source image does not exist"}}}
    client = azure_client(ctx, api_version="2024-02-01", http_transport=FakeTransport([(200, failed, {})]))
    op = client.create_template("t", {"location": "x"})
    assert op.wait() == "Failed"
    with pytest.raises(ArmError, match="BadSourceType: the source image does not exist"):
        op.result()


def test_put_answered_201_without_links_polls_the_provisioning_state() -> None:
    ctx = context_from_cli(None, cli_ctx=china_cli({("defaults", "group"): "g"}), profile=FakeProfile(FakeCredential()))
    fake = FakeTransport([(201, {"name": "t", "properties": {"provisioningState": "Creating"}}, {}),
                          (200, {"name": "t", "properties": {"provisioningState": "Creating"}}, {"Retry-After": "1"}),
                          (200, {"name": "t", "properties": {"provisioningState": "Succeeded"}}, {})])
    client = azure_client(ctx, api_version="2024-02-01", http_transport=fake)
    assert client.create_template("t", {}).result()["properties"]["provisioningState"] == "Succeeded"
    assert [r.method for r in fake.requests] == ["PUT", "GET", "GET"]


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


def test_compile_and_cli_import_never_import_azure() -> None:
    code = ("import sys\n"
            "from aibtui.compiler import CompileOptions, compile_file\n"
            "import aibtui.cli.ops_cmd, aibtui.arm.provider\n"
            "bad = sorted(m for m in sys.modules if m.startswith(('azure', 'textual')))\n"
            "print(bad)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_location_only_lro_with_retry_after() -> None:
    ctx = context_from_cli(None, cli_ctx=china_cli({("defaults", "group"): "g"}), profile=FakeProfile(FakeCredential()))
    loc = "https://management.chinacloudapi.cn/subscriptions/s/providers/x/operationresults/1?api-version=2024-02-01"
    fake = FakeTransport([(202, None, {"Location": loc, "Retry-After": "2"}), (202, None, {"Location": loc}),
                          (204, None, {}),
                          (202, None, {"Location": loc}),
                          (400, {"error": {"code": "DeleteFailed", "message": "no"}}, {})])
    client = azure_client(ctx, api_version="2024-02-01", http_transport=fake, retry=RetryPolicy(poll_interval=9))
    assert client.delete_template("t").wait() == "Succeeded"
    assert fake.sleeps == [9.0]  # the second 202 had no Retry-After: the configured interval
    failing = client.delete_template("u")
    with pytest.raises(ArmError, match="DeleteFailed: no"):
        failing.result()


def test_bearer_token_is_never_sent_over_http() -> None:
    """ARMChallengeAuthenticationPolicy refuses a non-https URL before asking for a token."""
    cred = FakeCredential()
    ctx = context_from_cli(None, cli_ctx=china_cli({("defaults", "group"): "g"}), profile=FakeProfile(cred))
    fake = FakeTransport([(200, {"name": "t"}, {})])
    client = azure_client(ctx, api_version="2024-02-01", http_transport=fake, endpoint="http://127.0.0.1:9/")
    with pytest.raises(ClientError, match="refusing to send the bearer token over plain http"):
        client.get_template("t")
    assert fake.requests == [] and cred.scopes == []


def test_links_to_http_or_another_host_are_not_followed() -> None:
    ctx = context_from_cli(None, cli_ctx=china_cli({("defaults", "group"): "g"}), profile=FakeProfile(FakeCredential()))
    fake = FakeTransport([(202, None, {"Azure-AsyncOperation": "http://management.chinacloudapi.cn/op/1"})])
    client = azure_client(ctx, api_version="2024-02-01", http_transport=fake)
    with pytest.raises(ClientError, match="another host"):
        client.delete_template("t")
    assert len(fake.requests) == 1


def test_missing_subscription_registration_registers_the_provider_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import azure.mgmt.core.policies._base as rp_policy

    waits: list[float] = []
    monkeypatch.setattr(rp_policy.time, "sleep", waits.append)  # the policy waits 10 s between checks
    ctx = context_from_cli(None, cli_ctx=china_cli({("defaults", "group"): "g"}), profile=FakeProfile(FakeCredential()))
    missing = {"error": {"code": "MissingSubscriptionRegistration",
                         "message": "The subscription is not registered to use namespace "
                                    "'Microsoft.VirtualMachineImages'."}}
    fake = FakeTransport([(409, missing, {}), (200, {"registrationState": "Registering"}, {}),
                          (200, {"registrationState": "Registered"}, {}), (200, {"name": "t"}, {})])
    client = azure_client(ctx, api_version="2024-02-01", http_transport=fake)
    assert client.get_template("t")["name"] == "t"
    calls = [(r.method, r.url.split("/subscriptions/11111111-2222-3333-4444-555555555555/")[1]) for r in fake.requests]
    assert calls == [
        ("GET", "resourceGroups/g/providers/Microsoft.VirtualMachineImages/imageTemplates/t?api-version=2024-02-01"),
        ("POST", "providers/Microsoft.VirtualMachineImages/register?api-version=2016-02-01"),
        ("GET", "providers/Microsoft.VirtualMachineImages?api-version=2016-02-01"),
        ("GET", "resourceGroups/g/providers/Microsoft.VirtualMachineImages/imageTemplates/t?api-version=2024-02-01"),
    ]
    assert all(r.headers["Authorization"] == "Bearer fake-token-123" for r in fake.requests)


def test_debug_names_the_identity_and_redacts_the_token() -> None:
    ctx = context_from_cli(None, cli_ctx=china_cli({("defaults", "group"): "g"}), profile=FakeProfile(FakeCredential()))
    lines: list[str] = []
    client = azure_client(ctx, api_version="2024-02-01", http_transport=FakeTransport([(200, {"name": "t"}, {})]),
                          debug=lines.append)
    client.get_template("t")
    assert lines[0].startswith("azure: https://management.chinacloudapi.cn/ as ") and "via --auth cli" in lines[0]
    text = "\n".join(lines)
    assert "'Authorization': 'REDACTED'" in text and "fake-token-123" not in text
    assert "Request URL: 'https://management.chinacloudapi.cn/subscriptions/" in text


SP_ENV = {"AZURE_TENANT_ID": "t-1", "AZURE_CLIENT_ID": "app-1", "AZURE_CLIENT_SECRET": "s3cret",
          "AZURE_SUBSCRIPTION_ID": "sub-1"}


@pytest.mark.parametrize("kind,env,who,cred_type", [
    ("env", SP_ENV, "service principal app-1 in tenant t-1 via --auth env (secret)", "EnvironmentCredential"),
    ("identity", {"AZURE_SUBSCRIPTION_ID": "sub-1", "AZURE_CLIENT_ID": "mi-1"},
     "managed identity mi-1 via --auth identity", "ManagedIdentityCredential"),
    ("identity", {"AZURE_SUBSCRIPTION_ID": "sub-1", "AZURE_CLIENT_ID": "wi-1", "AZURE_TENANT_ID": "t-2",
                  "AZURE_FEDERATED_TOKEN_FILE": "/var/run/secrets/token"},
     "workload identity wi-1 in tenant t-2 via --auth identity (OIDC federation)", "WorkloadIdentityCredential"),
    ("default", {"AZURE_SUBSCRIPTION_ID": "sub-1"}, "DefaultAzureCredential via --auth default",
     "DefaultAzureCredential"),
])
def test_ci_credentials_from_azure_identity(kind: str, env: dict[str, str], who: str, cred_type: str) -> None:
    from aibtui.arm.azure import context_from_identity

    ctx = context_from_identity(kind, env=env)
    assert type(ctx.credential).__name__ == cred_type
    assert ctx.identity.describe().startswith(who)
    assert ctx.subscription == "sub-1" and ctx.arm_endpoint == "https://management.azure.com/"
    assert ctx.scopes == ("https://management.azure.com/.default",)


def test_ci_credentials_follow_the_sovereign_cloud() -> None:
    from aibtui.arm.azure import context_from_identity

    ctx = context_from_identity("env", env={**SP_ENV, "AZURE_AUTHORITY_HOST": "https://login.chinacloudapi.cn"},
                                credential=FakeCredential())
    assert ctx.cloud == "AzureChinaCloud" and ctx.arm_endpoint == "https://management.chinacloudapi.cn/"
    ctx = context_from_identity("env", env={**SP_ENV, "AZURE_CLOUD": "AzureUSGovernment"}, credential=FakeCredential())
    assert ctx.scopes == ("https://management.usgovcloudapi.net/.default",)


@pytest.mark.parametrize("kind,env,message", [
    ("env", {"AZURE_SUBSCRIPTION_ID": "s"}, "set AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET or"),
    ("default", {}, "needs a subscription"),
    ("identity", {"AZURE_SUBSCRIPTION_ID": "s", "AZURE_FEDERATED_TOKEN_FILE": "/x"}, "needs AZURE_CLIENT_ID"),
    ("env", {**SP_ENV, "AZURE_CLOUD": "Mars"}, "unknown Azure cloud 'Mars'"),
])
def test_ci_credential_mistakes_are_clear(kind: str, env: dict[str, str], message: str) -> None:
    from aibtui.arm.azure import context_from_identity

    with pytest.raises(ClientError, match=message):
        context_from_identity(kind, env=env)


def test_auth_from_env_and_config_file(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from aibtui.config import ConfigError, load_config

    (tmp_path / "aibtui").mkdir()
    (tmp_path / "aibtui" / "config.toml").write_text('auth = "identity"\nsubscription = "sub-9"\n')
    env = {"XDG_CONFIG_HOME": str(tmp_path), "HOME": str(tmp_path)}
    cfg = load_config(env)
    assert cfg.auth == "identity" and cfg.subscription == "sub-9"
    assert load_config({**env, "AIBTUI_AUTH": "env"}).auth == "env"
    with pytest.raises(ConfigError, match="unknown auth 'password'"):
        load_config({**env, "AIBTUI_AUTH": "password"})
