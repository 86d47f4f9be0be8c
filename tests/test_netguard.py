"""Issue 13, row 7 at unit level: downloads for steps without network reach public addresses only,
in every spelling of an address, and after every redirect (aibtui/localbuild/netguard.py)."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from aibtui.localbuild import netguard, steps
from aibtui.localbuild.model import StepFailed


class _Handler(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []
    port = 0

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return None

    def do_GET(self) -> None:  # noqa: N802
        type(self).hits.append(self.path)
        if self.path == "/to-loopback":
            self.send_response(302)
            self.send_header("Location", f"http://127.1:{type(self).port}/secret")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.path == "/to-metadata":
            self.send_response(307)
            self.send_header("Location", "http://169.254.169.254/metadata/identity")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.path == "/loop":
            self.send_response(301)
            self.send_header("Location", "/loop")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        data = b"payload\n" if self.path == "/public" else b"host-only secret\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def server() -> Iterator[int]:
    _Handler.hits = []
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    _Handler.port = srv.server_address[1]
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    try:
        yield srv.server_address[1]
    finally:
        srv.shutdown()
        srv.server_close()
        t.join(5)


@pytest.fixture
def public_mirror(monkeypatch: pytest.MonkeyPatch) -> None:
    """`mirror.test` stands for a public host: it resolves to the test server on 127.0.0.1 and is the
    only name whose address passes the check. Every other name is checked as usual."""
    real_resolve, real_allowed = netguard.resolve, netguard.allowed
    monkeypatch.setattr(netguard, "resolve",
                        lambda host, port: ["127.0.0.1"] if host == "mirror.test" else real_resolve(host, port))
    monkeypatch.setattr(netguard, "allowed",
                        lambda host, addr: host == "mirror.test" or real_allowed(host, addr))


SPELLINGS = ["127.1", "0", "2130706433", "[::ffff:127.0.0.1]", "localhost.", "localhost", "0x7f.1", "017700000001",
             "127.0.0.1", "[::1]", "[::]", "0.0.0.0"]


@pytest.mark.parametrize("host", SPELLINGS)
def test_every_spelling_of_loopback_is_refused(server: int, host: str) -> None:
    with pytest.raises(StepFailed) as info:
        steps.fetch(f"http://{host}:{server}/secret", None, "leak", "File", 5, network=False)
    assert "refused" in info.value.why
    assert _Handler.hits == []


@pytest.mark.parametrize("address", ["10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254", "100.64.0.1",
                                     "fe80::1", "fc00::1", "::ffff:10.0.0.1", "64:ff9b::7f00:1", "2002:7f00:1::1",
                                     "224.0.0.1", "240.0.0.1", "255.255.255.255"])
def test_private_link_local_and_reserved_addresses_are_not_public(address: str) -> None:
    assert not netguard.allowed("x", address)


def test_public_addresses_are(server: int) -> None:
    assert netguard.allowed("x", "93.184.216.34") and netguard.allowed("x", "2606:2800:220:1::1")


def test_a_public_host_is_fetched(server: int, public_mirror: None) -> None:
    assert steps.fetch(f"http://mirror.test:{server}/public", None, "ok", "File", 5, network=False) == b"payload\n"


def test_redirect_to_loopback_is_refused_after_the_first_hop(server: int, public_mirror: None) -> None:
    with pytest.raises(StepFailed) as info:
        steps.fetch(f"http://mirror.test:{server}/to-loopback", None, "leak", "File", 5, network=False)
    assert "127.1" in info.value.why and "not a public address" in info.value.why
    assert _Handler.hits == ["/to-loopback"]  # the secret was never requested
    with pytest.raises(StepFailed):
        steps.fetch(f"http://mirror.test:{server}/to-metadata", None, "leak", "File", 5, network=False)


def test_redirect_loops_end(server: int, public_mirror: None) -> None:
    with pytest.raises(StepFailed) as info:
        steps.fetch(f"http://mirror.test:{server}/loop", None, "loop", "File", 5, network=False)
    assert "redirects" in info.value.why


def test_with_network_the_guard_is_not_in_the_way(server: int) -> None:
    # network = true: the steps themselves can reach the network, the host fetch is not narrowed
    assert steps.fetch(f"http://127.0.0.1:{server}/public", None, "ok", "File", 5, network=True) == b"payload\n"
