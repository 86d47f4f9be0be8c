"""The local service's server: uvicorn (ASGI, h11) on 127.0.0.1, HTTP and HTTPS, bearer token.

``LocalService(state_dir, settings).start()`` takes the state directory's lock, recovers runs a
killed service left behind, makes the TLS files on first start, binds two loopback listeners
(plain HTTP for aibtui's own client, HTTPS for Azure clients that refuse to send a token in clear),
writes ``service.json`` and serves until ``stop()``, a ``POST /_aibtui/shutdown``, or
``idle_timeout`` seconds with no request and no run.

Why uvicorn: one event loop holds thousands of idle keep-alive connections without a thread each;
``limit_concurrency`` bounds connections, a bounded thread pool bounds the synchronous SQLite
handlers; ``timeout_keep_alive`` closes idle keep-alive connections, and our h11 protocol subclass
adds a deadline for reading a whole request (headers and body), which uvicorn lacks; sockets get
``TCP_NODELAY`` (no Nagle delay on keep-alive answers) and a listen backlog of 2048 (bursts).
Request logs name method, path and status; never a header, so never the token.
"""

from __future__ import annotations

import asyncio
import fcntl
import hmac
import json
import logging
import os
import resource
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from . import LOCAL_SUBSCRIPTION, PROTOCOL_VERSION, tokens
from .api import Api, Reply, Request, error_reply
from .asgi import CURRENT_TRANSPORT, MAX_BODY, AsgiApp
from .catalog import Catalog
from .faults import FaultPlan
from .runner import Runner
from .settings import ServiceSettings
from .statefiles import (
    DB_FILE,
    LOCK_FILE,
    TOKEN_FILE,
    Discovery,
    ensure_state_dir,
    read_or_create_token,
    remove_discovery,
    write_discovery,
)
from .store import Store
from .tls import TlsFiles, ensure_tls

LOG = logging.getLogger("aibtui.service")
LOOPBACK = "127.0.0.1"
BACKLOG = 2048
__all__ = ["MAX_BODY", "AlreadyRunning", "LocalService"]


class AlreadyRunning(Exception):
    """Another local service holds this state directory."""


def raise_nofile_limit() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard limit (idle connections each hold a descriptor)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass
    return soft if soft != resource.RLIM_INFINITY else 1 << 20


class _Protocol(H11Protocol):
    """uvicorn's h11 protocol plus a deadline for reading each request and TCP_NODELAY.

    uvicorn closes a keep-alive connection idle after an answer, but a fresh connection, or one that
    trickles its headers a byte at a time, would be held forever: here the whole request (from the
    connection or the previous answer until the end of the body) must arrive within
    ``request_read_timeout`` seconds, else the connection is closed.
    """

    read_timeout: float = 30.0
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass
        self._arm()

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.read_timeout, self._read_timed_out)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _read_timed_out(self) -> None:
        self._deadline = None
        if self.conn.their_state in (h11.IDLE, h11.SEND_BODY) and not self.transport.is_closing():
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        CURRENT_TRANSPORT.set(self.transport)
        super().data_received(data)
        if self.conn.their_state not in (h11.IDLE, h11.SEND_BODY):
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self._arm()

    def shutdown(self) -> None:
        """The service stops: an idle connection goes at once (closing TLS politely would wait for a
        close_notify that an idle pooled client never sends), a busy one after its answer."""
        if self.cycle is None or self.cycle.response_complete:
            self.transport.abort()
        else:
            super().shutdown()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


def _listen(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((LOOPBACK, port))
        sock.listen(BACKLOG)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


class LocalService:
    def __init__(self, state: Path, settings: ServiceSettings | None = None, *, port: int = 0,
                 host: str = LOOPBACK, https_port: int = 0) -> None:
        if host != LOOPBACK:
            raise ValueError("the local service listens on 127.0.0.1 only")
        self.state = ensure_state_dir(Path(state))
        self.settings = settings or ServiceSettings()
        self._port_wanted = port
        self._https_port_wanted = https_port
        self.faults = FaultPlan()
        self._last = time.monotonic()
        self._stopped = threading.Event()  # set when stop() has finished
        self._stopping = threading.Lock()
        self._stop_begun = False
        self._lock_fh: Any = None
        self._servers: list[uvicorn.Server] = []
        self._sockets: list[socket.socket] = []
        self._loop_thread: threading.Thread | None = None
        self._threads: list[threading.Thread] = []
        self.token = ""
        self.tls: TlsFiles | None = None
        self.store: Store | None = None
        self.runner: Runner | None = None
        self.pool = ThreadPoolExecutor(max_workers=max(2, self.settings.workers), thread_name_prefix="aibtui-req")
        self.api: Api

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> int:
        self._lock_fh = open(self.state / LOCK_FILE, "a+")  # noqa: SIM115 - held for the service's life
        try:
            fcntl.flock(self._lock_fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            self._lock_fh.close()
            raise AlreadyRunning(f"another local service is running with state in {self.state}") from exc
        try:
            self._start()
        except BaseException:
            self._release()
            raise
        return self.port

    def _start(self) -> None:
        self.token = read_or_create_token(self.state)
        self.tls = ensure_tls(self.state)
        self.store = Store(self.state / DB_FILE)
        recovered = self.store.recover()
        if recovered:
            LOG.warning("marked %d interrupted run(s) Failed", len(recovered))
        self.runner = Runner(self.store, self.settings.step_delay, lambda: self.faults.fail_step,
                             self.settings.local_options(self.state), hold=self.settings.hold_runs)
        self.api = Api(self.store, self.runner, self.settings, Catalog())
        nofile = raise_nofile_limit()
        self._sockets = [_listen(self._port_wanted), _listen(self._https_port_wanted)]
        app = AsgiApp(self)
        _Protocol.read_timeout = self.settings.request_read_timeout
        common: dict[str, Any] = dict(
            http=_Protocol, lifespan="off", log_config=None, access_log=False, server_header=False,
            timeout_keep_alive=self.settings.keep_alive_timeout, backlog=BACKLOG, timeout_graceful_shutdown=3,
            limit_concurrency=max(64, nofile - 256), h11_max_incomplete_event_size=64 * 1024, proxy_headers=False)
        self._servers = [uvicorn.Server(uvicorn.Config(app, **common)),
                         uvicorn.Server(uvicorn.Config(app, ssl_certfile=str(self.tls.cert_file),
                                                       ssl_keyfile=str(self.tls.key_file), **common))]
        for srv in self._servers:
            srv.install_signal_handlers = lambda: None  # type: ignore[method-assign]  # the owner handles signals
        self._loop_thread = threading.Thread(target=self._serve, name="aibtui-asgi", daemon=True)
        self._loop_thread.start()
        deadline = time.monotonic() + 15
        while not all(s.started for s in self._servers):
            if not self._loop_thread.is_alive() or time.monotonic() > deadline:
                raise OSError("the HTTP server did not start")
            time.sleep(0.005)
        if self.settings.idle_timeout:
            w = threading.Thread(target=self._watch_idle, name="aibtui-idle", daemon=True)
            w.start()
            self._threads.append(w)
        write_discovery(self.state, Discovery(port=self.port, pid=os.getpid(), version=PROTOCOL_VERSION,
                                              https_port=self.https_port, ca_file=str(self.tls.ca_file),
                                              token_file=str(self.state / TOKEN_FILE),
                                              subscription_id=LOCAL_SUBSCRIPTION))
        LOG.info("listening on %s and %s (state %s)", self.base_url, self.https_url, self.state)

    def _serve(self) -> None:
        async def main() -> None:
            await asyncio.gather(*(srv.serve(sockets=[sock]) for srv, sock in zip(self._servers, self._sockets,
                                                                                   strict=True)))
        try:
            asyncio.run(main())
        except Exception:  # noqa: BLE001 - logged; start() sees the thread die
            LOG.exception("the HTTP server failed")

    @property
    def port(self) -> int:
        return int(self._sockets[0].getsockname()[1])

    @property
    def https_port(self) -> int:
        return int(self._sockets[1].getsockname()[1])

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def https_url(self) -> str:
        return f"https://{LOOPBACK}:{self.https_port}"

    @property
    def addresses(self) -> list[tuple[str, int]]:
        return [s.getsockname()[:2] for s in self._sockets]

    def wait(self, timeout: float | None = None) -> bool:
        return self._stopped.wait(timeout)

    def stop(self) -> None:
        with self._stopping:
            if self._stop_begun:
                return
            self._stop_begun = True
        for srv in self._servers:
            srv.should_exit = True
        if self._loop_thread is not None and self._loop_thread is not threading.current_thread():
            self._loop_thread.join(10)
        for sock in self._sockets:
            sock.close()
        if self.runner is not None:
            self.runner.stop()
        self.pool.shutdown(wait=False, cancel_futures=True)
        remove_discovery(self.state, os.getpid())
        self._release()
        LOG.info("stopped")
        self._stopped.set()

    def _release(self) -> None:
        if self._lock_fh is not None:
            self._lock_fh.close()
            self._lock_fh = None

    def __enter__(self) -> LocalService:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- requests ----------------------------------------------------------------------------
    def handle(self, req: Request) -> Reply:
        """The synchronous part of a request (on the thread pool)."""
        try:
            return self.api.handle(req)
        except Exception as exc:  # noqa: BLE001 - answer like ARM does, keep serving
            LOG.exception("internal error")
            return error_reply(500, "InternalServerError", f"{type(exc).__name__}: {exc}", req.api_version)

    def touch(self) -> None:
        self._last = time.monotonic()

    def authorized(self, header: str) -> bool:
        """``Bearer <the token>``, or ``Bearer <a JWT from /_aibtui/msi/token>``."""
        scheme, _, value = header.partition(" ")
        value = value.strip()
        if scheme.lower() != "bearer" or not value:
            return False
        return hmac.compare_digest(value.encode(), self.token.encode()) or tokens.valid(self.token, value)

    def msi_token(self, req: Request) -> Reply:
        """The managed-identity endpoint (App Service protocol) that ``az login --identity`` and
        azure-identity's ManagedIdentityCredential call, given ``IDENTITY_ENDPOINT`` and
        ``IDENTITY_HEADER`` (= the token)."""
        secret = req.headers.get("x-identity-header", "")
        if not secret or not hmac.compare_digest(secret.encode(), self.token.encode()):
            return Reply(401, {"statusCode": 401, "message": "X-IDENTITY-HEADER is missing or wrong: use the "
                               "contents of the local service's token file."})
        resource = req.query.get("resource") or req.query.get("scope") or "https://management.azure.com/"
        token, exp = tokens.issue(self.token, resource)
        return Reply(200, {"access_token": token, "expires_on": str(exp), "resource": resource,
                           "token_type": "Bearer", "client_id": tokens.OBJECT_ID})

    def metadata_endpoints(self, req: Request) -> Reply:
        """ARM's cloud metadata, so ``az cloud register --endpoint-resource-manager URL`` finds the rest."""
        base = req.base_url + "/"
        return Reply(200, {"name": "aibtui-local", "resourceManager": base, "portal": base, "gallery": base,
                           "graph": base, "graphAudience": base, "microsoftGraphResourceId": base,
                           "sqlManagement": base, "batch": base, "media": base, "activeDirectoryDataLake": base,
                           "authentication": {"loginEndpoint": base, "audiences": [base], "tenant": "common",
                                              "identityProvider": "AAD"},
                           "suffixes": {"storage": "aibtui.local", "keyVaultDns": "vault.aibtui.local",
                                        "acrLoginServer": "azurecr.aibtui.local",
                                        "sqlServerHostname": "database.aibtui.local"}})

    def faults_endpoint(self, req: Request) -> Reply:
        if not self.settings.fault_mode:
            return error_reply(404, "NotFound", "fault mode is off (start the service with --fault-mode)", None)
        if req.method == "GET":
            return Reply(200, self.faults.snapshot())
        if req.method in ("PUT", "POST"):
            try:
                self.faults.configure(json.loads(req.body or b"{}"))
            except (ValueError, TypeError) as exc:
                return error_reply(400, "InvalidParameter", str(exc), None)
            return Reply(200, self.faults.snapshot())
        return error_reply(405, "MethodNotAllowed", "use GET or PUT", None)

    def _watch_idle(self) -> None:
        limit = float(self.settings.idle_timeout or 0)
        while not self._stop_begun and not self._stopped.wait(min(1.0, max(0.05, limit / 4))):
            busy = self.runner is not None and self.runner.busy()
            if not busy and time.monotonic() - self._last > limit:
                LOG.info("idle for %.0fs with no run: exiting", limit)
                self.stop()
                return
