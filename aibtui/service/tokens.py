"""Access tokens for clients that insist on a JWT (``az login --identity`` reads the tenant from it).

The local service's managed-identity endpoint (``/_aibtui/msi/token``, App Service protocol:
``IDENTITY_ENDPOINT`` + ``IDENTITY_HEADER``) hands out short-lived HS256 JWTs signed with the
state directory's token; the service accepts such a JWT, or the token itself, as a bearer token.
Whoever can read the token file can mint these; nobody else can.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

from .armmeta import TENANT_ID

LIFETIME = 3600
OBJECT_ID = "00000000-0000-0000-0000-0000000a1b71"  # the local pseudo-identity


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue(secret: str, audience: str, now: float | None = None) -> tuple[str, int]:
    """A JWT for ``audience`` and its expiry (epoch seconds)."""
    iat = int(now if now is not None else time.time())
    exp = iat + LIFETIME
    claims: dict[str, Any] = {"aud": audience, "iss": f"https://sts.aibtui.local/{TENANT_ID}/", "iat": iat,
                              "nbf": iat, "exp": exp, "tid": TENANT_ID, "oid": OBJECT_ID, "sub": OBJECT_ID,
                              "appid": OBJECT_ID, "idtyp": "app", "jti": str(uuid.uuid4())}
    head = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    body = _b64(json.dumps(claims, separators=(",", ":")).encode())
    sig = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(sig)}", exp


def valid(secret: str, token: str, now: float | None = None) -> bool:
    """True for an unexpired JWT this service issued with ``secret``."""
    parts = token.split(".")
    if len(parts) != 3:
        return False
    expected = hmac.new(secret.encode(), f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
    try:
        if not hmac.compare_digest(_unb64(parts[2]), expected):
            return False
        claims = json.loads(_unb64(parts[1]))
    except (ValueError, TypeError):
        return False
    t = now if now is not None else time.time()
    return isinstance(claims, dict) and isinstance(claims.get("exp"), int) and claims["exp"] > t
