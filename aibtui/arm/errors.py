"""ARM errors: both envelopes (2020-02-14's flat ``ApiError``, later ``{"error": {...}}``) -> one type."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aibtui.compiler.errors import AibtuiError


class ClientError(AibtuiError):
    """Anything the CLI reports as a clear one-line error (never a traceback)."""


class TransportError(ClientError):
    """The request got no answer: connection refused/reset, timeout."""


@dataclass
class ArmError(ClientError):
    status: int
    code: str
    message: str
    target: str | None = None
    details: list[dict[str, Any]] = field(default_factory=list)
    request_id: str | None = None

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        text = f"{self.code}: {self.message} (HTTP {self.status})"
        for d in self.details[:20]:
            where = f" at {d['target']}" if d.get("target") else ""
            text += f"\n  - {d.get('code', '?')}: {d.get('message', '')}{where}"
        return text


def parse_error(status: int, body: bytes, request_id: str | None = None) -> ArmError:
    data: Any = None
    try:
        data = json.loads(body) if body else None
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        data = data["error"]
    if isinstance(data, dict) and ("code" in data or "message" in data):
        details = [d for d in data.get("details") or [] if isinstance(d, dict)]
        return ArmError(status, str(data.get("code") or f"HTTP{status}"), str(data.get("message") or ""),
                        data.get("target"), details, request_id)
    text = body.decode("utf-8", "replace").strip()[:300] if body else ""
    return ArmError(status, f"HTTP{status}", text or _REASONS.get(status, "request failed"), None, [], request_id)


_REASONS = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 409: "Conflict",
            429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}
