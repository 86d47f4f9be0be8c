"""The ASGI face of the local service: HTTP plumbing around the pure :class:`~.api.Api`.

Reads the body (over ``MAX_BODY`` -> 413, JSON nested deeper than ``MAX_DEPTH`` -> 400 instead of a
recursion error), checks the bearer token, applies test-only faults, runs the synchronous handler on
the service's bounded thread pool, and writes the answer with the ARM headers every answer carries:
``x-ms-request-id``, ``x-ms-correlation-request-id`` (echoed, or new) and ``x-ms-client-request-id``
(echoed). Links in answers are built from the request's ``Host`` and ``X-Forwarded-Proto``.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import re
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any

from .api import Reply, Request, error_reply

if TYPE_CHECKING:
    from .server import LocalService

LOG = logging.getLogger("aibtui.service")
MAX_BODY = 4 * 1024 * 1024
MAX_DEPTH = 64  # JSON nesting accepted in a body; a real image template nests about 8 deep
MAX_IN_FLIGHT = 512  # requests queued for the thread pool at once; beyond: 503 ServerBusy + Retry-After
_HOST = re.compile(r"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::\d{1,5})?$")
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')

# the connection's transport, set by the server's protocol so a test fault can drop the connection
CURRENT_TRANSPORT: contextvars.ContextVar[Any] = contextvars.ContextVar("aibtui_transport", default=None)


def json_depth_exceeds(body: bytes, limit: int = MAX_DEPTH) -> bool:
    """True when ``body`` nests arrays/objects deeper than ``limit`` (strings are skipped)."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    depth = 0
    for m in _TOKENS.finditer(body):
        tok = m.group()
        if tok in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        elif tok in (b"]", b"}"):
            depth -= 1
    return False


def base_url_of(scope: dict[str, Any], headers: dict[str, str]) -> str:
    """``scheme://host[:port]`` as the client sees the service (behind a proxy too)."""
    scheme = scope.get("scheme", "http")
    proto = headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    if proto in ("http", "https"):
        scheme = proto
    host = headers.get("x-forwarded-host", "").split(",")[0].strip() or headers.get("host", "").strip()
    if not host or not _HOST.match(host):
        addr = scope.get("server") or ("127.0.0.1", 0)
        host = f"{addr[0]}:{addr[1]}"
    return f"{scheme}://{host}"


class AsgiApp:
    def __init__(self, service: LocalService) -> None:
        self.service = service
        self._in_flight = 0
        self._count_lock = threading.Lock()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                msg = await receive()
                if msg["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif msg["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        started = time.monotonic()
        svc = self.service
        svc.touch()
        method = scope["method"]
        path_only = scope.get("raw_path", b"").decode("latin-1") or scope["path"]
        status = 0
        try:
            status = await self._handle(scope, receive, send)
        finally:
            LOG.info("%s %s %s %.1fms", method, path_only, status or "dropped", (time.monotonic() - started) * 1000)
            svc.touch()

    async def _handle(self, scope: dict[str, Any], receive: Any, send: Any) -> int:
        svc = self.service
        headers: dict[str, str] = {}
        for k, v in scope["headers"]:
            name = k.decode("latin-1").lower()
            headers[name] = f"{headers[name]}, {v.decode('latin-1')}" if name in headers else v.decode("latin-1")
        ids = _ids(headers)
        try:
            length = int(headers.get("content-length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            return await _send(send, error_reply(400, "InvalidRequest", "bad Content-Length", None), ids, close=True)
        if length > MAX_BODY:
            return await _send(send, error_reply(413, "RequestTooLarge", "The request body is over 4 MiB.", None),
                               ids, close=True)
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                return 0
            chunk = msg.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY:
                return await _send(send, error_reply(413, "RequestTooLarge", "The request body is over 4 MiB.",
                                                     None), ids, close=True)
            chunks.append(chunk)
            more = msg.get("more_body", False)
        body = b"".join(chunks)
        target = scope.get("raw_path", b"").decode("latin-1") or scope["path"]
        qs = scope.get("query_string", b"").decode("latin-1")
        req = Request.parse(scope["method"], target + (f"?{qs}" if qs else ""), headers, body,
                            base_url_of(scope, headers))
        if req.path == "/metadata/endpoints" and req.method == "GET":  # public in ARM too
            return await _send(send, svc.metadata_endpoints(req), ids)
        if req.path == "/_aibtui/msi/token" and req.method == "GET":  # its own secret header
            return await _send(send, svc.msi_token(req), ids)
        if not svc.authorized(headers.get("authorization", "")):
            missing = not headers.get("authorization")
            return await _send(send, error_reply(
                401, "AuthenticationFailed" if missing else "InvalidAuthenticationToken",
                "Authentication failed. The 'Authorization' header is missing." if missing else
                "The access token is invalid: it is neither the local service's token nor a token its "
                "managed-identity endpoint issued (or it has expired).", req.api_version,
                headers={"WWW-Authenticate": 'Bearer realm="aibtui-local"'}), ids)
        if body and json_depth_exceeds(body):
            return await _send(send, error_reply(
                400, "InvalidRequestContent", f"The request content is nested deeper than {MAX_DEPTH} levels.",
                req.api_version), ids)
        if req.path == "/_aibtui/faults":
            return await _send(send, svc.faults_endpoint(req), ids)
        if req.path == "/_aibtui/shutdown" and req.method == "POST":
            threading.Thread(target=svc.stop, daemon=True).start()
            return await _send(send, Reply(202, {"stopping": True}), ids, close=True)
        rule = svc.faults.take(req.method, req.path) if svc.settings.fault_mode else None
        if rule is not None and rule.action == "unregistered":
            return await _send(send, error_reply(
                409, "MissingSubscriptionRegistration", "The subscription is not registered to use namespace "
                "'Microsoft.VirtualMachineImages'. See https://aka.ms/rps-not-found for how to register "
                "subscriptions.", req.api_version), ids)
        if rule is not None:
            if rule.action == "drop-before":
                return _drop()
            if rule.action == "stall":
                await asyncio.sleep(rule.seconds)
            elif rule.action in ("429", "500", "503"):
                code = int(rule.action)
                hdrs = {"Retry-After": str(rule.retry_after)} if code == 429 else {}
                return await _send(send, error_reply(code, "TooManyRequests" if code == 429 else
                                                     "InternalServerError", f"fault injected: {code}",
                                                     req.api_version, headers=hdrs), ids)
        with self._count_lock:
            busy = self._in_flight >= MAX_IN_FLIGHT
            if not busy:
                self._in_flight += 1
        if busy:
            return await _send(send, error_reply(503, "ServerBusy", "The local service is busy; retry shortly.",
                                                 req.api_version, headers={"Retry-After": "1"}), ids)
        try:
            reply = await asyncio.get_running_loop().run_in_executor(svc.pool, svc.handle, req)
        finally:
            with self._count_lock:
                self._in_flight -= 1
        if rule is not None and rule.action == "drop-after":
            return _drop()
        return await _send(send, reply, ids)


def _ids(headers: dict[str, str]) -> dict[str, str]:
    out = {"x-ms-request-id": str(uuid.uuid4())}
    corr = headers.get("x-ms-correlation-request-id", "").strip()
    out["x-ms-correlation-request-id"] = corr[:100] if corr else out["x-ms-request-id"]
    client = headers.get("x-ms-client-request-id", "").strip()
    if client:
        out["x-ms-client-request-id"] = client[:100]
    return out


def _drop() -> int:
    transport = CURRENT_TRANSPORT.get()
    if transport is not None:
        transport.abort()
    return 0


async def _send(send: Any, reply: Reply, ids: dict[str, str], close: bool = False) -> int:
    data = b"" if reply.body is None else (json.dumps(reply.body) + "\n").encode("utf-8")
    hdrs: list[tuple[bytes, bytes]] = []
    if reply.body is not None:
        hdrs.append((b"content-type", b"application/json; charset=utf-8"))
    hdrs.append((b"content-length", str(len(data)).encode()))
    for k, v in ids.items():
        hdrs.append((k.encode(), v.encode("latin-1", "replace")))
    for k, v in reply.headers.items():
        hdrs.append((k.encode("latin-1"), v.encode("latin-1", "replace")))
    if close:
        hdrs.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": reply.status, "headers": hdrs})
    await send({"type": "http.response.body", "body": data})
    return reply.status
