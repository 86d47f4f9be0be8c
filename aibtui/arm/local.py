"""The local provider: find the local service (``service.json`` + token in the state dir), start it
detached when none answers, and hand back an :class:`ArmClient` aimed at it."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ..localstate import (
    LOCAL_LOCATION,
    LOCAL_RESOURCE_GROUP,
    LOCAL_SUBSCRIPTION,
    LOG_FILE,
    PROTOCOL_VERSION,
    Discovery,
    pid_alive,
    read_discovery,
    read_or_create_token,
)
from .client import ArmClient, Identity, open_arm_client
from .errors import ClientError
from .pipeline import ClientSettings, RetryPolicy, StaticToken

SPAWN_LOCK = "spawn.lock"
LOCAL_RETRY = RetryPolicy(attempts=6, backoff=0.2, max_backoff=2.0, timeout=15.0, poll_interval=0.1)
LOCAL_SCOPE = ("aibtui-local/.default",)


def _ca_file(info: Discovery) -> str | None:
    """The local service's CA certificate (HTTPS), when its discovery file names one."""
    return info.ca_file if info.https_url else None


def _url(info: Discovery) -> str:
    """HTTPS (verified against the service's own CA) when the service offers it."""
    return info.https_url or info.base_url


def _open(base_url: str, token: str, settings: ClientSettings, *, ca_file: str | None = None,
          debug: Callable[[str], None] | None = None, http_transport: Any = None) -> ArmClient:
    """The same ARM pipeline as Azure, with the service's token and CA. The service's plain-http
    listener (127.0.0.1 only; tests and tools) is accepted for its own token: it never leaves the
    loopback interface. Every other http:// URL is refused by the challenge-auth policy."""
    loopback_http = base_url.startswith("http://127.0.0.1:")
    return open_arm_client(base_url, StaticToken(token), LOCAL_SCOPE, subscription=LOCAL_SUBSCRIPTION,
                           resource_group=LOCAL_RESOURCE_GROUP, api_version="2024-02-01", settings=settings,
                           provider="local", location=LOCAL_LOCATION,
                           identity=Identity("local", "the local service's per-user token"), debug=debug,
                           ca_file=ca_file, http_transport=http_transport,
                           options={"enforce_https": False} if loopback_http else None)


def _health(info: Discovery, token: str, timeout: float = 2.0) -> dict | None:
    client = _open(_url(info), token, ClientSettings(attempts=1, timeout=timeout), ca_file=_ca_file(info))
    try:
        body = client.get_json(f"{_url(info)}/_aibtui/health")
    except ClientError:
        return None
    finally:
        client.close()
    return body if isinstance(body, dict) else None


def _healthy(info: Discovery, token: str, timeout: float = 2.0) -> bool:
    return _health(info, token, timeout) is not None


def _retire(state: Path, info: Discovery, token: str, timeout: float = 5.0) -> None:
    """Ask an idle service of another protocol version to stop, and wait until it has."""
    client = _open(_url(info), token, ClientSettings(attempts=1, timeout=timeout), ca_file=_ca_file(info))
    try:
        client.send("POST", f"{_url(info)}/_aibtui/shutdown", ok=(200, 202, 204))
    except ClientError:
        pass
    finally:
        client.close()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = read_discovery(state)
        if now is None or now.pid != info.pid or not pid_alive(info.pid):
            return
        time.sleep(0.02)


def running_service(state: Path) -> Discovery | None:
    """The service answering for this state directory, or None."""
    info = read_discovery(state)
    if info is None or not pid_alive(info.pid):
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
                 base_url: str | None = None, ca_file: str | None = None, http_transport: Any = None) -> ArmClient:
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
        base_url = _url(info)
        ca_file = ca_file or _ca_file(info)
    elif ca_file is None and base_url.startswith("https://"):
        found = read_discovery(state)
        ca_file = found.ca_file if found is not None else None
    token = read_or_create_token(state)
    client = _open(base_url, token, retry or LOCAL_RETRY, ca_file=ca_file, debug=debug, http_transport=http_transport)
    client.api_version = api_version
    return client
