"""Redaction for --debug output and logs: no token or Authorization header is ever printed."""

from __future__ import annotations

import re

SECRET_HEADERS = {"authorization", "x-ms-authorization-auxiliary", "cookie", "set-cookie", "proxy-authorization"}
_QUERY_SECRET = re.compile(r"(?i)([?&](?:sig|code|token|access_token|client_secret)=)[^&]+")
_BEARER = re.compile(r"(?i)bearer\s+[A-Za-z0-9._~+/=-]+")


def redact_headers(headers: dict[str, str]) -> dict[str, str]:
    return {k: ("REDACTED" if k.lower() in SECRET_HEADERS else v) for k, v in headers.items()}


def redact_text(text: str) -> str:
    return _BEARER.sub("Bearer REDACTED", _QUERY_SECRET.sub(r"\1REDACTED", text))
