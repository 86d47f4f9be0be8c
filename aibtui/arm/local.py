"""The local provider: find the local service (``service.json`` + token in the state dir), start it
detached when none answers, and hand back an :class:`ArmClient` aimed at it."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from ..localstate import (
    LOCAL_LOCATION,
    LOCAL_RESOURCE_GROUP,
    LOCAL_SUBSCRIPTION,
    LOG_FILE,
    PROTOCOL_VERSION,
    Discovery,
    read_discovery,
    read_or_create_token,
)
from .client import ArmClient, RetryPolicy
from .errors import ClientError, TransportError
from .http import HttpRequest, StdlibTransport

SPAWN_LOCK = "spawn.lock"
LOCAL_RETRY = RetryPolicy(attempts=6, backoff=0.2, max_backoff=2.0, max_retry_after=10.0, timeout=15.0,
                          poll_interval=0.1)


def _health(info: Discovery, token: str, timeout: float = 2.0) -> dict | None:
    req = HttpRequest("GET", f"{info.base_url}/_aibtui/health", {"Authorization": f"Bearer {token}"})
    try:
        resp = StdlibTransport().send(req, timeout)
    except TransportError:
        return None
    if resp.status != 200:
        return None
    try:
        body = json.loads(resp.body)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _healthy(info: Discovery, token: str, timeout: float = 2.0) -> bool:
    return _health(info, token, timeout) is not None


def _retire(state: Path, info: Discovery, token: str, timeout: float = 5.0) -> None:
    """Ask an idle service of another protocol version to stop, and wait until it has."""
    req = HttpRequest("POST", f"{info.base_url}/_aibtui/shutdown", {"Authorization": f"Bearer {token}"})
    try:
        StdlibTransport().send(req, timeout)
    except TransportError:
        pass
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = read_discovery(state)
        if now is None or now.pid != info.pid or not _pid_alive(info.pid):
            return
        time.sleep(0.02)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def running_service(state: Path) -> Discovery | None:
    """The service answering for this state directory, or None."""
    info = read_discovery(state)
    if info is None or not _pid_alive(info.pid):
        return None
    token = read_or_create_token(state)
    health = _health(info, token)
    if health is None:
        return None
    if health.get("protocol") != PROTOCOL_VERSION and not health.get("activeRuns"):
        _retire(state, info, token)  # an older (or newer) service left running: replace it while idle
        return None
    return info


def ensure_service(state: Path, *, env: Mapping[str, str] | None = None, timeout: float = 20.0) -> Discovery:
    """The running service, started detached (``python -m aibtui.service``) if needed."""
    state.mkdir(parents=True, exist_ok=True, mode=0o700)
    info = running_service(state)
    if info is not None:
        return info
    env = dict(os.environ if env is None else env)
    idle = env.get("AIBTUI_SERVICE_IDLE_MINUTES", "15")
    with open(state / SPAWN_LOCK, "a+") as lock:  # one CLI starts it; the others wait and reuse it
        fcntl.flock(lock, fcntl.LOCK_EX)
        info = running_service(state)
        if info is not None:
            return info
        env["AIBTUI_STATE_DIR"] = str(state)
        log_fd = os.open(state / LOG_FILE, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(log_fd, "ab") as log:
            proc = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
                [sys.executable, "-m", "aibtui.service", "--state-dir", str(state), "--idle-minutes", idle,
                 "--log-file", str(state / LOG_FILE)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env, start_new_session=True, close_fds=True)
        deadline = time.monotonic() + timeout
        token = read_or_create_token(state)
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                tail = (state / LOG_FILE).read_text(encoding="utf-8", errors="replace")[-600:]
                raise ClientError(f"the local service exited at start (code {proc.returncode}); its log "
                                  f"({state / LOG_FILE}) ends with:\n{tail}")
            info = read_discovery(state)
            if info is not None and info.pid == proc.pid and _healthy(info, token, 1.0):
                return info
            time.sleep(0.02)
        raise ClientError(f"the local service did not answer within {timeout:g}s; see {state / LOG_FILE}")


def local_client(state: Path, *, api_version: str, debug: Callable[[str], None] | None = None,
                 retry: RetryPolicy | None = None, start: bool = True,
                 base_url: str | None = None) -> ArmClient:
    """A client for the local service. ``base_url`` skips discovery (tests with an in-process service);
    an HTTPS one is verified against the CA file the service publishes."""
    if base_url is None:
        if start:
            info = ensure_service(state)
        else:
            found = running_service(state)
            if found is None:
                raise ClientError(f"no local service is running for {state}")
            info = found
        # plain HTTP on loopback: the stdlib transport opens a connection per request, and a TLS
        # handshake each time would slow every poll; an https base_url is verified against the CA
        base_url = info.base_url
        ca_file = info.ca_file
    else:
        found = read_discovery(state)
        ca_file = found.ca_file if found is not None else None
    token = read_or_create_token(state)
    return ArmClient(base_url, StdlibTransport(ca_file), lambda: {"Authorization": f"Bearer {token}"},
                     subscription=LOCAL_SUBSCRIPTION, resource_group=LOCAL_RESOURCE_GROUP, api_version=api_version,
                     retry=retry or LOCAL_RETRY, debug=debug, provider="local", location=LOCAL_LOCATION)
