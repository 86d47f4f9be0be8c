"""The Azure provider: who signs in (``--auth``), which cloud, which subscription, and the client.

``--auth`` (or ``AIBTUI_AUTH``, or ``auth =`` in the config file):

- ``cli`` (default): your ``az login`` through azure-cli-core's ``Profile`` (subscription from
  ``az account set``, defaults from ``az configure --defaults group=... location=...``, the cloud
  from ``az cloud set``);
- ``env``: azure-identity's ``EnvironmentCredential`` (a service principal: ``AZURE_TENANT_ID``,
  ``AZURE_CLIENT_ID`` and ``AZURE_CLIENT_SECRET`` or ``AZURE_CLIENT_CERTIFICATE_PATH``);
- ``identity``: ``WorkloadIdentityCredential`` when ``AZURE_FEDERATED_TOKEN_FILE`` is set (OIDC
  federation: GitHub Actions, AKS), else ``ManagedIdentityCredential`` (``AZURE_CLIENT_ID`` picks
  a user-assigned identity);
- ``default``: ``DefaultAzureCredential`` (the first of those that works).

For the azure-identity kinds the subscription comes from ``--subscription``, ``AZURE_SUBSCRIPTION_ID``
or ``subscription =`` in the config file, and the cloud from ``AZURE_CLOUD`` / ``AIBTUI_CLOUD``
(``AzureCloud``, ``AzureUSGovernment``, ``AzureChinaCloud``) or ``AZURE_AUTHORITY_HOST``.

Imported only when ``--provider azure`` is used; azure-* imports stay inside functions.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .client import ArmClient, ClientSettings, Identity, open_arm_client
from .errors import ClientError

AUTH_KINDS = ("cli", "env", "identity", "default")


@dataclass(frozen=True)
class Cloud:
    name: str
    arm_endpoint: str
    authority: str  # login host

    @property
    def scopes(self) -> tuple[str, ...]:
        return (self.arm_endpoint.rstrip("/") + "/.default",)


CLOUDS = {
    "azurecloud": Cloud("AzureCloud", "https://management.azure.com/", "login.microsoftonline.com"),
    "azureusgovernment": Cloud("AzureUSGovernment", "https://management.usgovcloudapi.net/",
                               "login.microsoftonline.us"),
    "azurechinacloud": Cloud("AzureChinaCloud", "https://management.chinacloudapi.cn/", "login.chinacloudapi.cn"),
}


def cloud_from_env(env: Mapping[str, str]) -> Cloud:
    name = env.get("AIBTUI_CLOUD") or env.get("AZURE_CLOUD")
    if name:
        cloud = CLOUDS.get(name.lower().replace(" ", ""))
        if cloud is None:
            raise ClientError(f"unknown Azure cloud {name!r}; use one of: "
                              f"{', '.join(c.name for c in CLOUDS.values())}")
        return cloud
    host = (env.get("AZURE_AUTHORITY_HOST") or "").lower().removeprefix("https://").rstrip("/")
    for cloud in CLOUDS.values():
        if host and host == cloud.authority:
            return cloud
    if host:
        raise ClientError(f"AZURE_AUTHORITY_HOST={host} is not a cloud aibtui knows; set AZURE_CLOUD too")
    return CLOUDS["azurecloud"]


@dataclass(frozen=True)
class AzureContext:
    credential: Any  # azure-core TokenCredential
    subscription: str
    tenant: str | None
    arm_endpoint: str  # e.g. https://management.azure.com/
    scopes: tuple[str, ...]
    cloud: str
    identity: Identity
    default_group: str | None = None
    default_location: str | None = None


class TenantCredential:
    """Tokens for another tenant than the subscription's (``--tenant``), via ``Profile.get_raw_token``."""

    def __init__(self, profile: Any, tenant: str) -> None:
        self.profile = profile
        self.tenant = tenant

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        (_kind, token, entry), _sub, _tenant = self.profile.get_raw_token(scopes=list(scopes), tenant=self.tenant)
        return AccessToken(token, int(entry.get("expires_on") or time.time() + 300))


def context_from_cli(subscription: str | None = None, *, tenant: str | None = None, cli_ctx: Any = None,
                     profile: Any = None) -> AzureContext:
    """Read the az CLI's login. ``cli_ctx`` / ``profile`` are injectable for tests (no network)."""
    account: dict[str, Any] = {}
    try:
        if cli_ctx is None:
            from azure.cli.core import get_default_cli

            cli_ctx = get_default_cli()
        if profile is None:
            # Profile exists only in azure.cli.core._profile: azure-cli-core has no public module that exports
            # it (the az command modules import it from here too). The one private import of another package;
            # tests/test_dependencies.py allows exactly this one.
            from azure.cli.core._profile import Profile

            profile = Profile(cli_ctx=cli_ctx)
        if tenant:
            sub = subscription or profile.get_subscription()["id"]
            credential: Any = TenantCredential(profile, tenant)
        else:
            credential, sub, tenant = profile.get_login_credentials(subscription_id=subscription)
        if hasattr(profile, "get_subscription"):
            try:
                account = dict(profile.get_subscription(subscription) or {})
            except Exception:  # noqa: BLE001 - naming the account is a courtesy
                account = {}
    except ImportError as exc:
        raise ClientError(f"--auth cli needs azure-cli-core: {exc}") from exc
    except Exception as exc:  # noqa: BLE001 - azure-cli raises CLIError and friends; say it plainly
        raise ClientError(f"cannot use your Azure login: {exc}\n  run `az login` (and `az account set "
                          "--subscription NAME` to pick a subscription), or pick CI credentials with "
                          "--auth env|identity|default") from exc
    endpoints = cli_ctx.cloud.endpoints
    resource = endpoints.active_directory_resource_id
    try:
        from azure.cli.core.auth.util import resource_to_scopes

        scopes = tuple(resource_to_scopes(resource))
    except ImportError:  # older azure-cli-core
        scopes = (resource.rstrip("/") + "//.default",)
    cfg = cli_ctx.config
    user = account.get("user") or {}
    kind = {"user": "user", "servicePrincipal": "service principal"}.get(str(user.get("type")), "account")
    identity = Identity("cli", str(user.get("name") or "the az login account"), tenant,
                        f"az login {kind}, subscription {account.get('name') or sub}",
                        assignee=str(user["name"]) if user.get("name") else None)
    return AzureContext(credential=credential, subscription=str(sub), tenant=tenant,
                        arm_endpoint=str(endpoints.resource_manager), scopes=scopes, cloud=str(cli_ctx.cloud.name),
                        identity=identity,
                        default_group=cfg.get("defaults", "group", fallback=None) or None,
                        default_location=cfg.get("defaults", "location", fallback=None) or None)


def context_from_identity(kind: str, subscription: str | None = None, *, tenant: str | None = None,
                          env: Mapping[str, str] | None = None, credential: Any = None) -> AzureContext:
    """azure-identity credentials for CI (``kind``: env, identity, default). ``credential``: tests."""
    env = os.environ if env is None else env
    cloud = cloud_from_env(env)
    sub = subscription or env.get("AZURE_SUBSCRIPTION_ID")
    if not sub:
        raise ClientError(f"--auth {kind} needs a subscription: pass --subscription, set AZURE_SUBSCRIPTION_ID, "
                          "or `subscription = \"...\"` in the config file")
    tenant = tenant or env.get("AZURE_TENANT_ID")
    client_id = env.get("AZURE_CLIENT_ID")
    if kind == "env":
        missing = [v for v in ("AZURE_TENANT_ID", "AZURE_CLIENT_ID") if not env.get(v)]
        if not (env.get("AZURE_CLIENT_SECRET") or env.get("AZURE_CLIENT_CERTIFICATE_PATH")):
            missing.append("AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH")
        if missing:
            raise ClientError(f"--auth env: set {', '.join(missing)} (a service principal)")
        identity = Identity("env", f"service principal {client_id}", tenant,
                            "secret" if env.get("AZURE_CLIENT_SECRET") else "certificate", assignee=client_id)
    elif kind == "identity":
        if env.get("AZURE_FEDERATED_TOKEN_FILE"):
            if not (client_id and tenant):
                raise ClientError("--auth identity with AZURE_FEDERATED_TOKEN_FILE (workload identity) needs "
                                  "AZURE_CLIENT_ID and AZURE_TENANT_ID")
            identity = Identity("identity", f"workload identity {client_id}", tenant, "OIDC federation",
                                assignee=client_id)
        else:
            identity = Identity("identity", f"managed identity {client_id or '(system-assigned)'}", tenant,
                                assignee=client_id)
    elif kind == "default":
        identity = Identity("default", "DefaultAzureCredential", tenant,
                            "the first of environment, workload identity, managed identity, az login that works")
    else:
        raise ClientError(f"unknown --auth {kind!r}; use one of: {', '.join(AUTH_KINDS)}")
    if credential is None:
        credential = _identity_credential(kind, env, cloud, tenant, client_id)
    return AzureContext(credential=credential, subscription=sub, tenant=tenant, arm_endpoint=cloud.arm_endpoint,
                        scopes=cloud.scopes, cloud=cloud.name, identity=identity,
                        default_group=env.get("AZURE_DEFAULTS_GROUP") or None,
                        default_location=env.get("AZURE_DEFAULTS_LOCATION") or None)


def _identity_credential(kind: str, env: Mapping[str, str], cloud: Cloud, tenant: str | None,
                         client_id: str | None) -> Any:
    try:
        import azure.identity as ai
    except ImportError as exc:
        raise ClientError(f"--auth {kind} needs azure-identity: {exc}") from exc
    authority = f"https://{cloud.authority}"
    if kind == "env":
        return ai.EnvironmentCredential(authority=authority)
    if kind == "identity":
        if env.get("AZURE_FEDERATED_TOKEN_FILE"):
            return ai.WorkloadIdentityCredential(tenant_id=tenant, client_id=client_id,
                                                 token_file_path=env["AZURE_FEDERATED_TOKEN_FILE"],
                                                 authority=authority)
        return ai.ManagedIdentityCredential(client_id=client_id) if client_id else ai.ManagedIdentityCredential()
    return ai.DefaultAzureCredential(authority=authority)


def open_context(auth: str, subscription: str | None = None, *, tenant: str | None = None,
                 config_subscription: str | None = None) -> AzureContext:
    if auth == "cli":
        return context_from_cli(subscription, tenant=tenant)
    return context_from_identity(auth, subscription or os.environ.get("AZURE_SUBSCRIPTION_ID") or config_subscription,
                                 tenant=tenant)


def azure_client(ctx: AzureContext, *, api_version: str, resource_group: str | None = None,
                 location: str | None = None, debug: Callable[[str], None] | None = None,
                 retry: ClientSettings | None = None, http_transport: Any = None,
                 endpoint: str | None = None, ca_file: str | None = None) -> ArmClient:
    """The ARM client for Azure. ``endpoint``/``ca_file``: tests aim it at the local service."""
    client = open_arm_client(endpoint or ctx.arm_endpoint, ctx.credential, ctx.scopes, subscription=ctx.subscription,
                           resource_group=resource_group or ctx.default_group, api_version=api_version,
                           settings=retry or ClientSettings(), provider="azure",
                           location=location or ctx.default_location, identity=ctx.identity, debug=debug,
                           ca_file=ca_file, http_transport=http_transport)
    return client
