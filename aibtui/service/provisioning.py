"""Provisioning checks: what the image builder verifies after it has accepted a template PUT.

Azure Image Builder answers the PUT ``201 Creating`` and then fetches what the template refers to;
a script it cannot download ends the template ``provisioningState: Failed`` with a
``provisioningError`` (``NoCustomizerScript``, ``NoValidatorScript``...). The local service does the
part it can do without downloading: every script/file URL's host must resolve. A host under the
``.invalid`` TLD (RFC 6761: never resolves) fails provisioning; so does a host the resolver says does
not exist (``EAI_NONAME``) *while it resolves example.com* (RFC 2606's name that always exists).
When the resolver cannot answer (no network, a sandbox without DNS, ``EAI_AGAIN``, a timeout), the
service cannot tell, and fails nothing.
"""

from __future__ import annotations

import socket
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any
from urllib.parse import urlsplit

RESOLVE_TIMEOUT = 5.0
NEVER_RESOLVES = (".invalid",)
KNOWN_NAME = "example.com"  # resolves wherever DNS works
_probe: tuple[float, bool] | None = None  # (when, whether the resolver answered for KNOWN_NAME)
_URL_KEYS = ("scriptUri", "sourceUri")
_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="aibtui-resolve")


def referenced_urls(body: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(url, step name, error code) of every script/file the template's steps download."""
    props = body.get("properties") or {}
    out: list[tuple[str, str, str]] = []
    groups = [(props.get("customize") or [], "NoCustomizerScript"),
              (((props.get("validate") or {}).get("inVMValidations")) or [], "NoValidatorScript")]
    for steps, code in groups:
        if not isinstance(steps, list):
            continue
        for i, step in enumerate(steps):
            if not isinstance(step, dict):
                continue
            for key in _URL_KEYS:
                url = step.get(key)
                if isinstance(url, str) and url.strip():
                    out.append((url.strip(), str(step.get("name") or f"#{i + 1}"), code))
    return out


def _resolve(host: str) -> int | None:
    """None when ``host`` resolves, else the gaierror number (-1: no answer in time, other errors)."""
    try:
        _POOL.submit(socket.getaddrinfo, host, 443, 0, socket.SOCK_STREAM).result(RESOLVE_TIMEOUT)
    except socket.gaierror as exc:
        return exc.errno
    except (FutureTimeout, OSError, UnicodeError):
        return -1
    return None


def _resolver_works() -> bool:
    """Does the resolver answer for a name that exists everywhere? (cached for five minutes)"""
    global _probe
    now = time.monotonic()
    if _probe is None or now - _probe[0] > 300:
        _probe = (now, _resolve(KNOWN_NAME) is None)
    return _probe[1]


def _host_missing(host: str) -> str | None:
    """Why ``host`` cannot be reached, or None when it resolves (or the service cannot tell)."""
    h = host.rstrip(".").lower()
    if h.endswith(NEVER_RESOLVES) or h == "invalid":
        return f"the host '{host}' is under the reserved domain .invalid, which never resolves"
    err = _resolve(h)
    if err in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)) and _resolver_works():
        return f"the host '{host}' cannot be resolved (no such name)"
    return None


def check(body: dict[str, Any]) -> dict[str, Any] | None:
    """The ``provisioningError`` of a template whose downloads cannot work, or None."""
    seen: dict[str, str | None] = {}
    for url, step, code in referenced_urls(body):
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            return {"provisioningErrorCode": code,
                    "message": f"Failed to download the script '{url}' of step '{step}': not an http(s) URL."}
        host = parts.hostname
        if host not in seen:
            seen[host] = _host_missing(host)
        why = seen[host]
        if why:
            return {"provisioningErrorCode": code,
                    "message": f"Failed to download the script '{url}' of step '{step}': {why}."}
    return None
