"""The local service's HTTP server: loopback only, bearer token on every request, optional faults.

``LocalService(state_dir, settings).start()`` binds 127.0.0.1 on a free port, recovers runs a
killed service left behind, writes ``service.json`` (port, pid) and serves in threads until
``stop()``, a ``POST /_aibtui/shutdown``, or ``idle_timeout`` seconds with no request and no run.
Request logs name method, path and status; never a header, so never the token.
"""

from __future__ import annotations

import fcntl
import hmac
import json
import logging
import os
import socket
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, BinaryIO

from ..config import ensure_state_dir
from . import PROTOCOL_VERSION
from .api import Api, Reply, Request, error_reply
from .catalog import Catalog
from .faults import FaultPlan
from .runner import Runner
from .settings import ServiceSettings
from .statefiles import DB_FILE, LOCK_FILE, Discovery, read_or_create_token, remove_discovery, write_discovery
from .store import Store

LOG = logging.getLogger("aibtui.service")
MAX_BODY = 4 * 1024 * 1024
LOOPBACK = "127.0.0.1"


class AlreadyRunning(Exception):
    """Another local service holds this state directory."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    service: LocalService


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # keep-alive clients (azure-core's requests session): no 40 ms delayed-ACK stall
    server: _Server
    server_version = "aibtui-local"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        return None  # we log our own line per request, without headers

    def _dispatch(self) -> None:
        svc = self.server.service
        started = time.monotonic()
        svc.touch()
        path_only = self.path.split("?", 1)[0]
        status = 0
        try:
            status = self._handle(svc)
        finally:
            LOG.info("%s %s %s %.1fms", self.command, path_only, status or "dropped",
                     (time.monotonic() - started) * 1000)
            svc.touch()

    do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = _dispatch  # noqa: N815

    def finish(self) -> None:  # the connection is over: release this thread's database connection
        try:
            super().finish()
        finally:
            store = self.server.service.store
            if store is not None:
                store.close_thread()

    def _handle(self, svc: LocalService) -> int:
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            length = int(headers.get("content-length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            return self._send(Reply(400, {"error": {"code": "InvalidRequest", "message": "bad Content-Length"}}),
                              close=True)
        if length > MAX_BODY:
            return self._send(Reply(413, {"error": {"code": "RequestTooLarge", "message": "body over 4 MiB"}}),
                              close=True)
        body = self.rfile.read(length) if length else b""
        req = Request.parse(self.command, self.path, headers, body, svc.base_url)
        if not svc.authorized(headers.get("authorization", "")):
            return self._send(error_reply(401, "AuthenticationFailed",
                                          "Missing or wrong bearer token: the local service accepts only requests "
                                          "carrying the token from its state directory.", req.api_version,
                                          headers={"WWW-Authenticate": 'Bearer realm="aibtui-local"'}))
        if req.path == "/_aibtui/faults":
            return self._send(svc.faults_endpoint(req))
        if req.path == "/_aibtui/shutdown" and req.method == "POST":
            threading.Thread(target=svc.stop, daemon=True).start()
            return self._send(Reply(202, {"stopping": True}), close=True)
        rule = svc.faults.take(req.method, req.path) if svc.settings.fault_mode else None
        if rule is not None:
            if rule.action == "drop-before":
                return self._drop()
            if rule.action == "stall":
                time.sleep(rule.seconds)
            elif rule.action in ("429", "500", "503"):
                code = int(rule.action)
                hdrs = {"Retry-After": str(rule.retry_after)} if code == 429 else {}
                return self._send(error_reply(code, "TooManyRequests" if code == 429 else "InternalServerError",
                                              f"fault injected: {code}", req.api_version, headers=hdrs))
        try:
            reply = svc.api.handle(req)
        except Exception as exc:  # noqa: BLE001 - answer like ARM does, keep serving
            LOG.exception("internal error")
            reply = error_reply(500, "InternalServerError", f"{type(exc).__name__}: {exc}", req.api_version)
        if rule is not None and rule.action == "drop-after":
            return self._drop()
        return self._send(reply)

    def _drop(self) -> int:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        return 0

    def _send(self, reply: Reply, close: bool = False) -> int:
        data = b"" if reply.body is None else (json.dumps(reply.body, indent=None) + "\n").encode("utf-8")
        self.send_response(reply.status)
        if reply.body is not None:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-ms-request-id", str(uuid.uuid4()))
        rid = self.headers.get("x-ms-client-request-id")
        if rid:
            self.send_header("x-ms-client-request-id", rid[:100])
        for k, v in reply.headers.items():
            self.send_header(k, v)
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        out: BinaryIO = self.wfile  # type: ignore[assignment]
        out.write(data)
        return reply.status


class LocalService:
    def __init__(self, state: Path, settings: ServiceSettings | None = None, *, port: int = 0,
                 host: str = LOOPBACK) -> None:
        if host != LOOPBACK:
            raise ValueError("the local service listens on 127.0.0.1 only")
        self.state = ensure_state_dir(Path(state))
        self.settings = settings or ServiceSettings()
        self._port_wanted = port
        self.faults = FaultPlan()
        self._last = time.monotonic()
        self._stopped = threading.Event()  # set when stop() has finished
        self._stopping = threading.Lock()
        self._stop_begun = False
        self._lock_fh: Any = None
        self._httpd: _Server | None = None
        self._threads: list[threading.Thread] = []
        self.token = ""
        self.store: Store | None = None
        self.runner: Runner | None = None
        self.api: Api

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> int:
        self._lock_fh = open(self.state / LOCK_FILE, "a+")  # noqa: SIM115 - held for the service's life
        try:
            fcntl.flock(self._lock_fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            self._lock_fh.close()
            raise AlreadyRunning(f"another local service is running with state in {self.state}") from exc
        self.token = read_or_create_token(self.state)
        self.store = Store(self.state / DB_FILE)
        recovered = self.store.recover()
        if recovered:
            LOG.warning("marked %d interrupted run(s) Failed", len(recovered))
        self.runner = Runner(self.store, self.settings.step_delay, lambda: self.faults.fail_step,
                             self.settings.local_options(self.state))
        self.api = Api(self.store, self.runner, self.settings, Catalog())
        self._httpd = _Server((LOOPBACK, self._port_wanted), _Handler)
        self._httpd.service = self
        t = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1},
                             name="aibtui-http", daemon=True)
        t.start()
        self._threads.append(t)
        if self.settings.idle_timeout:
            w = threading.Thread(target=self._watch_idle, name="aibtui-idle", daemon=True)
            w.start()
            self._threads.append(w)
        write_discovery(self.state, Discovery(port=self.port, pid=os.getpid(), version=PROTOCOL_VERSION))
        LOG.info("listening on %s (state %s)", self.base_url, self.state)
        return self.port

    @property
    def port(self) -> int:
        assert self._httpd is not None
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def wait(self, timeout: float | None = None) -> bool:
        return self._stopped.wait(timeout)

    def stop(self) -> None:
        with self._stopping:
            if self._stop_begun:
                return
            self._stop_begun = True
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self.runner is not None:
            self.runner.stop()
        remove_discovery(self.state, os.getpid())
        if self._lock_fh is not None:
            self._lock_fh.close()
        LOG.info("stopped")
        self._stopped.set()

    def __enter__(self) -> LocalService:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- requests ----------------------------------------------------------------------------
    def touch(self) -> None:
        self._last = time.monotonic()

    def authorized(self, header: str) -> bool:
        scheme, _, value = header.partition(" ")
        return scheme.lower() == "bearer" and bool(value) and hmac.compare_digest(value.strip().encode(),
                                                                                  self.token.encode())

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
