"""Files in the state directory: the token (0600), the discovery file and the database path."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

TOKEN_FILE = "token"
DISCOVERY_FILE = "service.json"
DB_FILE = "state.db"
LOCK_FILE = "service.lock"
LOG_FILE = "service.log"


@dataclass(frozen=True)
class Discovery:
    port: int
    pid: int
    version: str = "1"  # the service's PROTOCOL_VERSION

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def read_or_create_token(state: Path) -> str:
    """The per-user token; created once with mode 0600 (never widened), re-read afterwards."""
    path = state / TOKEN_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return read_token(state)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(secrets.token_urlsafe(32) + "\n")
    return read_token(state)


def read_token(state: Path) -> str:
    path = state / TOKEN_FILE
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise PermissionError(f"{path} is readable by others (mode {mode:o}); run: chmod 600 {path}")
    return path.read_text(encoding="ascii").strip()


def write_discovery(state: Path, info: Discovery) -> None:
    tmp = state / (DISCOVERY_FILE + f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"port": info.port, "pid": info.pid, "version": info.version}, fh)
    os.replace(tmp, state / DISCOVERY_FILE)


def read_discovery(state: Path) -> Discovery | None:
    try:
        data = json.loads((state / DISCOVERY_FILE).read_text(encoding="utf-8"))
        return Discovery(port=int(data["port"]), pid=int(data["pid"]), version=str(data.get("version", "1")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def remove_discovery(state: Path, pid: int) -> None:
    """Remove the discovery file if it still names this process."""
    info = read_discovery(state)
    if info is not None and info.pid == pid:
        try:
            (state / DISCOVERY_FILE).unlink()
        except FileNotFoundError:
            pass
