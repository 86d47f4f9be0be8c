"""Open the client for the chosen provider (flag > AIBTUI_PROVIDER > config file > local)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..config import UserConfig, ensure_state_dir, load_config, state_dir
from .client import ArmClient

DEFAULT_API_VERSION = "2024-02-01"


@dataclass(frozen=True)
class Target:
    provider: str | None = None  # None: from the environment / config file
    subscription: str | None = None
    tenant: str | None = None
    resource_group: str | None = None
    location: str | None = None
    api_version: str | None = None
    auth: str | None = None  # cli, env, identity, default (None: AIBTUI_AUTH / config file / cli)
    debug: Callable[[str], None] | None = None


def resolve_provider(target: Target, config: UserConfig | None = None) -> str:
    cfg = config or load_config()
    return target.provider or cfg.provider


def open_client(target: Target) -> ArmClient:
    cfg = load_config()
    provider = resolve_provider(target, cfg)
    api_version = target.api_version or cfg.api_version or DEFAULT_API_VERSION
    if provider == "local":
        from .local import local_client

        client = local_client(ensure_state_dir(state_dir()), api_version=api_version, debug=target.debug)
        if target.resource_group:
            client.resource_group = target.resource_group
        return client
    from .azure import azure_client, open_context

    ctx = open_context(target.auth or cfg.auth, target.subscription or cfg.subscription, tenant=target.tenant,
                       config_subscription=cfg.subscription)
    return azure_client(ctx, api_version=api_version, resource_group=target.resource_group or cfg.resource_group,
                        location=target.location or cfg.location, debug=target.debug)
