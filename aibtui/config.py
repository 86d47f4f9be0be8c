"""User configuration: where state lives and which provider build operations use by default.

Precedence for the provider: ``--provider`` flag > ``AIBTUI_PROVIDER`` > the config file > ``local``.
The config file is ``$XDG_CONFIG_HOME/aibtui/config.toml`` (``~/.config/aibtui/config.toml``)::

    provider = "azure"          # or "local"
    resource_group = "rg-images"
    location = "westeurope"
    api_version = "2024-02-01"

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

PROVIDERS = ("local", "azure")


class ConfigError(Exception):
    """The config file or an environment variable holds a value we cannot use."""


@dataclass(frozen=True)
class UserConfig:
    provider: str = "local"
    resource_group: str | None = None
    location: str | None = None
    api_version: str | None = None
    source: str = "default"  # where `provider` came from: default, file, env


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
    """Create the state directory readable by its owner only."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


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

    return UserConfig(provider=str(provider), resource_group=_str("resource_group"), location=_str("location"),
                      api_version=_str("api_version"), source=source)
