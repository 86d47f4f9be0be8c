"""Files a local service publishes in its state directory, readable without importing the service.

Neutral ground between the service (``aibtui.service``, which writes these files) and its clients
(``aibtui.arm.local``, ``aibtui serve --status``, tests, other tools), so that neither side imports
the other's internals. Nothing here starts or talks to a service.

| file | what |
|---|---|
| ``token`` | the bearer token (0600, written atomically: never seen empty or half-written) |
| ``service.json`` | discovery: pid, HTTP and HTTPS ports, urls, CA file, token file, subscription |
| ``tls/ca.pem`` | the self-signed CA that signed the service's HTTPS certificate |
"""

from __future__ import annotations

import json
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

SERVICE_NAME = "aibtui-local"
LOCAL_SUBSCRIPTION = "00000000-0000-0000-0000-00000000a1b7"
LOCAL_RESOURCE_GROUP = "aibtui-local"
LOCAL_LOCATION = "local"
PROTOCOL_VERSION = "2"  # bump when the REST surface changes: a CLI replaces an idle older service

TOKEN_FILE = "token"
DISCOVERY_FILE = "service.json"
DB_FILE = "state.db"
LOCK_FILE = "service.lock"
LOG_FILE = "service.log"
TLS_DIR = "tls"
CA_FILE = "ca.pem"
LOOPBACK = "127.0.0.1"


def ensure_state_dir(path: Path) -> Path:
    """Create the state directory owner-only (0700), and tighten one that exists with a looser mode."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    st = path.stat()
    if stat.S_IMODE(st.st_mode) & 0o077 and st.st_uid == os.getuid():
        os.chmod(path, stat.S_IMODE(st.st_mode) & 0o700)
    return path


@dataclass(frozen=True)
class Discovery:
    port: int  # plain HTTP on 127.0.0.1 (what aibtui's own client uses)
    pid: int
    version: str = "1"  # the service's PROTOCOL_VERSION
    https_port: int | None = None
    ca_file: str | None = None
    token_file: str | None = None
    subscription_id: str = LOCAL_SUBSCRIPTION

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def https_url(self) -> str | None:
        return f"https://{LOOPBACK}:{self.https_port}" if self.https_port else None

    def to_json(self) -> dict[str, object]:
        return {"url": self.https_url or self.base_url, "httpUrl": self.base_url, "pid": self.pid,
                "caFile": self.ca_file, "tokenFile": self.token_file, "subscriptionId": self.subscription_id,
                "resourceGroup": LOCAL_RESOURCE_GROUP, "location": LOCAL_LOCATION,
                "port": self.port, "httpsPort": self.https_port, "version": self.version}


def _write_private(path: Path, data: bytes) -> Path:
    """Write a 0600 temporary file next to ``path`` and return it (the caller moves it into place)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def read_or_create_token(state: Path) -> str:
    """The per-user token: created once, atomically (a complete 0600 file linked into place, so a
    concurrent reader never sees it empty), never widened; re-read afterwards."""
    path = Path(state) / TOKEN_FILE
    if not path.exists():
        tmp = _write_private(path, (secrets.token_urlsafe(32) + "\n").encode("ascii"))
        try:
            os.link(tmp, path)  # fails if another process won the race: theirs is kept
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
    return read_token(state)


def read_token(state: Path) -> str:
    path = Path(state) / TOKEN_FILE
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise PermissionError(f"{path} is readable by others (mode {mode:o}); run: chmod 600 {path}")
    token = path.read_text(encoding="ascii").strip()
    if not token:
        raise PermissionError(f"{path} is empty; remove it and the service will make a new one")
    return token


def write_discovery(state: Path, info: Discovery) -> None:
    path = Path(state) / DISCOVERY_FILE
    tmp = _write_private(path, json.dumps(info.to_json(), indent=2).encode("utf-8"))
    os.replace(tmp, path)


def read_discovery(state: Path) -> Discovery | None:
    try:
        data = json.loads((Path(state) / DISCOVERY_FILE).read_text(encoding="utf-8"))
        return Discovery(port=int(data["port"]), pid=int(data["pid"]), version=str(data.get("version", "1")),
                         https_port=int(data["httpsPort"]) if data.get("httpsPort") else None,
                         ca_file=data.get("caFile"), token_file=data.get("tokenFile"),
                         subscription_id=str(data.get("subscriptionId") or LOCAL_SUBSCRIPTION))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def remove_discovery(state: Path, pid: int) -> None:
    """Remove the discovery file if it still names this process."""
    info = read_discovery(state)
    if info is not None and info.pid == pid:
        try:
            (Path(state) / DISCOVERY_FILE).unlink()
        except FileNotFoundError:
            pass


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists (one owned by another user counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
