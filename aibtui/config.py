"""User configuration: where state lives and which provider build operations use by default.

Precedence for the provider: ``--provider`` flag > ``AIBTUI_PROVIDER`` > the config file > ``local``.
The config file is ``$XDG_CONFIG_HOME/aibtui/config.toml`` (``~/.config/aibtui/config.toml``)::

    provider = "azure"          # or "local"
    resource_group = "rg-images"
    location = "westeurope"
    api_version = "2024-02-01"
    auth = "cli"                # azure credentials: cli (az login), env, identity, default
    subscription = "..."        # for --auth env|identity|default (else AZURE_SUBSCRIPTION_ID)

Local builds (the local provider executes Linux templates in a sandbox; docs/local-service.md)::

    [local]
    download = false            # true: fetch the official cloud rootfs of known Ubuntu images once
    sandbox = "bwrap"           # or "unshare" (root only); default: bwrap when it works
    network = true              # false: steps run without network
    pids = 1024                 # per step: processes; memory_mb = 4096, cpu_seconds = 3600
    log_bytes = 8388608         # stored log per run: beyond it the middle is dropped (head and tail kept)

    [local.rootfs]              # source (marketplace URN or image id) -> folder, tarball or https URL
    "Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2" = "~/rootfs/jammy"

State (the local service's database, token and discovery file) lives in ``AIBTUI_STATE_DIR`` when
set, else ``$XDG_STATE_HOME/aibtui`` (``~/.local/state/aibtui``). Tests point ``AIBTUI_STATE_DIR``
at a temporary directory.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from aibtui.compiler.errors import AibtuiError

PROVIDERS = ("local", "azure")
AUTH_KINDS = ("cli", "env", "identity", "default")


class ConfigError(AibtuiError):
    """The config file or an environment variable holds a value we cannot use."""


@dataclass(frozen=True)
class UserConfig:
    provider: str = "local"
    resource_group: str | None = None
    location: str | None = None
    api_version: str | None = None
    source: str = "default"  # where `provider` came from: default, file, env
    auth: str = "cli"  # Azure credentials (--auth > AIBTUI_AUTH > the file > cli)
    subscription: str | None = None


@dataclass(frozen=True)
class LocalBuildConfig:
    """The ``[local]`` table: how the local service builds for real."""

    rootfs: tuple[tuple[str, str], ...] = ()  # (lower-cased source key, folder | tarball | URL)
    download: bool = False
    sandbox: str | None = None
    network: bool = True
    pids: int = 1024  # processes of one step
    memory_mb: int = 4096  # memory of one step
    cpu_seconds: int = 3600  # CPU time of one step
    log_bytes: int = 8 * 1024 * 1024  # stored log of one run (head and tail kept)


def _home(env: Mapping[str, str]) -> Path:
    return Path(env.get("HOME") or Path.home())


def config_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME") or str(_home(env) / ".config")
    return Path(base) / "aibtui" / "config.toml"


def state_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    explicit = env.get("AIBTUI_STATE_DIR")
    if explicit:
        return Path(explicit)
    base = env.get("XDG_STATE_HOME") or str(_home(env) / ".local" / "state")
    return Path(base) / "aibtui"


def ensure_state_dir(path: Path) -> Path:
    """Create the state directory readable by its owner only (tightened to 0700 if it exists looser)."""
    from .localstate import ensure_state_dir as ensure

    return ensure(path)


def load_config(env: Mapping[str, str] | None = None) -> UserConfig:
    env = os.environ if env is None else env
    values: dict[str, object] = {}
    source = "default"
    path = config_path(env)
    if path.is_file():
        try:
            values = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read the config file: {exc}") from exc
        if "provider" in values:
            source = "file"
    provider = values.get("provider", "local")
    if env.get("AIBTUI_PROVIDER"):
        provider, source = env["AIBTUI_PROVIDER"], "env"
    if provider not in PROVIDERS:
        where = "AIBTUI_PROVIDER" if source == "env" else str(path)
        raise ConfigError(f"{where}: unknown provider {provider!r}; use one of: {', '.join(PROVIDERS)}")

    def _str(key: str) -> str | None:
        v = values.get(key)
        if v is not None and not isinstance(v, str):
            raise ConfigError(f"{path}: {key} must be a string")
        return v

    auth = env.get("AIBTUI_AUTH") or _str("auth") or "cli"
    if auth not in AUTH_KINDS:
        where = "AIBTUI_AUTH" if env.get("AIBTUI_AUTH") else str(path)
        raise ConfigError(f"{where}: unknown auth {auth!r}; use one of: {', '.join(AUTH_KINDS)}")
    return UserConfig(provider=str(provider), resource_group=_str("resource_group"), location=_str("location"),
                      api_version=_str("api_version"), source=source, auth=auth, subscription=_str("subscription"))


def load_local_config(env: Mapping[str, str] | None = None) -> LocalBuildConfig:
    """The ``[local]`` table of the config file (and ``AIBTUI_SANDBOX``). Raises ConfigError."""
    env = os.environ if env is None else env
    path = config_path(env)
    values: dict[str, object] = {}
    if path.is_file():
        try:
            values = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read the config file: {exc}") from exc
    local = values.get("local", {})
    if not isinstance(local, dict):
        raise ConfigError(f"{path}: [local] must be a table")
    rootfs = local.get("rootfs", {})
    if not isinstance(rootfs, dict) or not all(isinstance(v, str) for v in rootfs.values()):
        raise ConfigError(f"{path}: [local.rootfs] maps a source (publisher:offer:sku or an image id) to a path "
                          "or URL string")
    for key in ("download", "network"):
        if key in local and not isinstance(local[key], bool):
            raise ConfigError(f"{path}: local.{key} must be true or false")
    sandbox = env.get("AIBTUI_SANDBOX") or local.get("sandbox")
    if sandbox is not None and sandbox not in ("bwrap", "unshare"):
        raise ConfigError(f"{path}: local.sandbox (or AIBTUI_SANDBOX) must be \"bwrap\" or \"unshare\"")
    limits: dict[str, int] = {}
    for key in ("pids", "memory_mb", "cpu_seconds", "log_bytes"):
        if key in local:
            value = local[key]
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ConfigError(f"{path}: local.{key} must be a positive whole number")
            limits[key] = value
    return LocalBuildConfig(rootfs=tuple(sorted((str(k).lower(), str(v)) for k, v in rootfs.items())),
                            download=bool(local.get("download", False)), sandbox=sandbox,
                            network=bool(local.get("network", True)), **limits)
