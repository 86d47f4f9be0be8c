"""Raw HTTP for tests: one request, no retry, no auth policy (to poke the local service directly:
fault plans, the health and shutdown endpoints, requests without a token).

The product talks through azure-mgmt-core (aibtui/arm/pipeline.py); this is test plumbing only."""

from __future__ import annotations

import http.client
import ssl
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlsplit

from aibtui.arm.errors import TransportError


@dataclass
class HttpRequest:
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None


@dataclass
class HttpResponse:
    status: int
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class Transport(Protocol):
    def send(self, request: HttpRequest, timeout: float) -> HttpResponse: ...

    def close(self) -> None: ...


class StdlibTransport:
    """http.client, one connection per request: simple and robust against dropped connections.

    ``ca_file``: verify HTTPS servers against this CA (the local service's self-signed one) instead
    of the system's; certificate and host name are checked either way."""

    def __init__(self, ca_file: str | None = None) -> None:
        self._context = ssl.create_default_context(cafile=ca_file) if ca_file else None

    def send(self, request: HttpRequest, timeout: float) -> HttpResponse:
        parts = urlsplit(request.url)
        conn: http.client.HTTPConnection
        if parts.scheme == "https":
            conn = http.client.HTTPSConnection(parts.hostname or "", parts.port, timeout=timeout,
                                               context=self._context)
        else:
            conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        try:
            conn.request(request.method, target, body=request.body, headers=request.headers)
            resp = conn.getresponse()
            body = resp.read()
            return HttpResponse(resp.status, {k.lower(): v for k, v in resp.getheaders()}, body)
        except TimeoutError as exc:
            raise TransportError(f"no answer within {timeout:g}s from {parts.netloc}") from exc
        except (ConnectionError, http.client.HTTPException, OSError) as exc:
            raise TransportError(f"connection to {parts.netloc} failed: {type(exc).__name__}: {exc}") from exc
        finally:
            conn.close()

    def close(self) -> None:
        return None
