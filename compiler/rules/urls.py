"""URL shapes for scripts and files the build VM downloads (C-04 and the AIB60x lints)."""

from __future__ import annotations

import re
from functools import lru_cache

_GITHUB_BLOB = re.compile(r"^https?://(?:www\.)?github\.com/([^/]+)/([^/]+)/(blob|raw)/(.+)$", re.IGNORECASE)
_GITHUB_TREE = re.compile(r"^https?://(?:www\.)?github\.com/[^/]+/[^/]+/tree/", re.IGNORECASE)
_SPACE = re.compile(r"\s")
_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):(//([^/?#]*))?")
_LOCAL_HOSTS = frozenset(("localhost", "127.0.0.1", "::1", "0.0.0.0"))


@lru_cache(maxsize=2048)
def fetchable(url: str) -> str | None:
    """None when ``url`` is an absolute http(s) URL with a host; else why not (for the message).
    A pure function of the text, memoised (the rules ask for every URL a template names)."""
    if _SPACE.search(url):
        return "it contains whitespace"
    m = _URL.match(url)
    scheme = m.group(1).lower() if m else ""
    if len(scheme) == 1 and url[1:3] in (":\\", ":/"):
        return "it is a local Windows path"
    if scheme not in ("http", "https"):
        if not scheme:
            return (
                "it is a local path, not a URL" if url.startswith("/") else "it is a relative path, not a URL"
            )
        return f"the {scheme}: scheme is not downloadable by the build VM"
    netloc = (m.group(3) or "") if m else ""
    host = netloc.rsplit("@", 1)[-1]
    host = host[1:].split("]", 1)[0] if host.startswith("[") else host.split(":", 1)[0]
    if not host:
        return "it has no host"
    if host.lower() in _LOCAL_HOSTS:
        return "localhost on the build VM is the build VM itself"
    return None


def github_raw(url: str) -> str | None:
    """The raw.githubusercontent.com form of a github.com/OWNER/REPO/blob/REF/PATH page URL."""
    m = _GITHUB_BLOB.match(url)
    if not m or m.group(3).lower() != "blob":
        return None
    path = m.group(4).split("?", 1)[0].split("#", 1)[0]
    return f"https://raw.githubusercontent.com/{m.group(1)}/{m.group(2)}/{path}"


def is_github_tree(url: str) -> bool:
    return bool(_GITHUB_TREE.match(url))


def is_plain_http(url: str) -> bool:
    return url[:7].lower() == "http://"
