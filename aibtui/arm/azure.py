"""The Azure provider: credentials, subscription, tenant, cloud endpoints and defaults from
azure-cli-core (``az login``, ``az account set``, ``az configure --defaults group=... location=...``),
HTTP through an azure-core pipeline.

Imported only when ``--provider azure`` is used; everything azure-* is imported inside functions.
The pipeline has no retry policy of its own: :class:`ArmClient` retries, so that every attempt of a
POST carries the same ``x-ms-client-request-id`` and backoff honours ``Retry-After`` the same way
for both providers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .client import ArmClient, RetryPolicy
from .errors import ClientError, TransportError
from .http import HttpRequest, HttpResponse


@dataclass(frozen=True)
class AzureContext:
    credential: Any  # azure-core TokenCredential: get_token(*scopes) -> AccessToken
    subscription: str
    tenant: str | None
    arm_endpoint: str  # e.g. https://management.azure.com/
    scopes: tuple[str, ...]
    cloud: str
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
    except ImportError as exc:
        raise ClientError(f"the azure provider needs azure-cli-core: {exc}") from exc
    except Exception as exc:  # noqa: BLE001 - azure-cli raises CLIError and friends; say it plainly
        raise ClientError(f"cannot use your Azure login: {exc}\n  run `az login` (and `az account set "
                          "--subscription NAME` to pick a subscription)") from exc
    endpoints = cli_ctx.cloud.endpoints
    resource = endpoints.active_directory_resource_id
    try:
        from azure.cli.core.auth.util import resource_to_scopes

        scopes = tuple(resource_to_scopes(resource))
    except ImportError:  # older azure-cli-core
        scopes = (resource.rstrip("/") + "//.default",)
    cfg = cli_ctx.config
    return AzureContext(credential=credential, subscription=str(sub), tenant=tenant,
                        arm_endpoint=str(endpoints.resource_manager), scopes=scopes, cloud=str(cli_ctx.cloud.name),
                        default_group=cfg.get("defaults", "group", fallback=None) or None,
                        default_location=cfg.get("defaults", "location", fallback=None) or None)


class TokenCache:
    """Bearer header from the credential, refreshed five minutes before it expires."""

    def __init__(self, credential: Any, scopes: tuple[str, ...], clock: Callable[[], float] = time.time) -> None:
        self.credential = credential
        self.scopes = scopes
        self.clock = clock
        self._token: Any = None
        self._lock = threading.Lock()

    def __call__(self) -> dict[str, str]:
        with self._lock:
            if self._token is None or self._token.expires_on - 300 < self.clock():
                try:
                    self._token = self.credential.get_token(*self.scopes)
                except Exception as exc:  # noqa: BLE001
                    raise ClientError(f"cannot get an Azure access token: {exc}\n  run `az login`") from exc
            return {"Authorization": f"Bearer {self._token.token}"}


class AzureCoreTransport:
    """Our HttpRequest through an azure-core pipeline (proxy settings, requests transport)."""

    def __init__(self, http_transport: Any = None) -> None:
        from azure.core.pipeline import Pipeline
        from azure.core.pipeline.policies import ProxyPolicy

        if http_transport is None:
            from azure.core.pipeline.transport import RequestsTransport

            http_transport = RequestsTransport()
        self._pipeline = Pipeline(transport=http_transport, policies=[ProxyPolicy()])

    def send(self, request: HttpRequest, timeout: float) -> HttpResponse:
        from azure.core.exceptions import ServiceRequestError, ServiceResponseError
        from azure.core.pipeline.transport import HttpRequest as CoreRequest

        req = CoreRequest(request.method, request.url, headers=dict(request.headers))
        if request.body is not None:
            req.set_bytes_body(request.body)
        try:
            resp = self._pipeline.run(req, connection_timeout=timeout, read_timeout=timeout).http_response
            body = resp.body()
        except (ServiceRequestError, ServiceResponseError) as exc:
            raise TransportError(f"{type(exc).__name__}: {exc}") from exc
        return HttpResponse(resp.status_code, {k.lower(): v for k, v in resp.headers.items()}, body or b"")

    def close(self) -> None:
        self._pipeline.__exit__()


def azure_client(ctx: AzureContext, *, api_version: str, resource_group: str | None = None,
                 location: str | None = None, debug: Callable[[str], None] | None = None,
                 retry: RetryPolicy | None = None, http_transport: Any = None) -> ArmClient:
    return ArmClient(ctx.arm_endpoint, AzureCoreTransport(http_transport), TokenCache(ctx.credential, ctx.scopes),
                     subscription=ctx.subscription, resource_group=resource_group or ctx.default_group,
                     api_version=api_version, retry=retry or RetryPolicy(), debug=debug, provider="azure",
                     location=location or ctx.default_location)
