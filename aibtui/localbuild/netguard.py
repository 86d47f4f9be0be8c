"""Downloads a local build makes on a step's behalf when steps have no network (``[local] network = false``).

The sandbox of such a step has no network at all, but a File step's ``sourceUri`` and a Shell
step's ``scriptUri`` are fetched by the service on the host, which can reach what the sandbox
cannot: ``127.0.0.1``, the metadata service at ``169.254.169.254``, the office LAN. Here every
download is checked first:

- the host is resolved (``getaddrinfo``, so every spelling of an address is read the way the C
  library reads it: ``127.1``, ``0``, ``2130706433``, ``0x7f.1``, ``017700000001``, ``localhost.``)
  and **every** address it resolves to must be public (:func:`allowed`): loopback, private,
  link-local, unspecified, shared (CGNAT), reserved and multicast addresses are refused, IPv4
  mapped into IPv6 (``::ffff:127.0.0.1``) and NAT64/6to4 forms are unwrapped first;
- the connection goes to the address that was checked (no second lookup that DNS could answer
  differently); HTTPS still verifies the certificate for the host name;
- redirects are followed by hand, at most :data:`MAX_REDIRECTS`, each new location checked again.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from urllib.parse import urljoin, urlsplit

from aibtui.compiler.errors import AibtuiError

MAX_REDIRECTS = 5
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class Refused(AibtuiError, OSError):
    """The download was refused (a non-public address, a bad scheme, too many redirects)."""


def _unwrap(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip in _NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if ip.sixtofour is not None:
            return ip.sixtofour
        if ip.teredo is not None:
            return ip.teredo[1]
    return ip


def allowed(host: str, address: str) -> bool:
    """True when ``address`` (one that ``host`` resolved to) is a public internet address."""
    try:
        ip = _unwrap(ipaddress.ip_address(address.split("%", 1)[0]))
    except ValueError:
        return False
    return ip.is_global and not ip.is_multicast and not ip.is_unspecified


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (the C library's reading of numeric spellings included)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _checked_address(host: str, port: int) -> str:
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError) as exc:
        raise Refused(f"cannot resolve {host!r}: {exc}") from exc
    if not addresses:
        raise Refused(f"{host!r} resolves to no address")
    bad = [a for a in addresses if not allowed(host, a)]
    if bad:
        raise Refused(f"{host!r} resolves to {', '.join(bad)}, not a public address (loopback, private, "
                      "link-local and unspecified addresses are refused: steps have no network)")
    return addresses[0]


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.address = address

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def get(url: str, timeout: float, max_bytes: int) -> bytes:
    """The body at ``url`` (at most ``max_bytes + 1`` bytes read), every hop checked. Raises OSError."""
    for _hop in range(MAX_REDIRECTS + 1):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise Refused(f"refusing {url!r}: only http:// and https:// URLs with a host can be fetched")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        address = _checked_address(parts.hostname, port)
        cls = _PinnedHTTPS if parts.scheme == "https" else _PinnedHTTP
        conn = cls(parts.hostname, port, address, timeout)
        try:
            path = parts.path or "/"
            if parts.query:
                path += "?" + parts.query
            conn.request("GET", path, headers={"User-Agent": "aibtui-local-build", "Accept-Encoding": "identity"})
            resp = conn.getresponse()
            if resp.status in (301, 302, 303, 307, 308):
                location = resp.getheader("Location")
                if not location:
                    raise Refused(f"{url}: redirect without a Location")
                url = urljoin(url, location)
                continue
            if resp.status != 200:
                raise OSError(f"HTTP {resp.status} {resp.reason}")
            return resp.read(max_bytes + 1)
        finally:
            conn.close()
    raise Refused(f"more than {MAX_REDIRECTS} redirects")
