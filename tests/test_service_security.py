"""The token guards every request, the service listens on loopback only, no secret reaches a log."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import pytest
from rawhttp import HttpRequest, StdlibTransport
from service_support import local_service, sample_body

from aibtui.arm.local import local_client
from aibtui.arm.redact import redact_headers, redact_text
from aibtui.service.server import AlreadyRunning, LocalService
from aibtui.service.statefiles import read_discovery, read_token

PATHS = ["/_aibtui/health",
         "/subscriptions/s/resourceGroups/r/providers/Microsoft.VirtualMachineImages/imageTemplates/t"
         "?api-version=2024-02-01"]


@pytest.mark.parametrize("auth", [None, "Bearer wrong", "Basic abc", "Bearer ", "bearer"])
@pytest.mark.parametrize("path", PATHS)
def test_requests_without_the_token_are_refused(tmp_path: Path, auth: str | None, path: str) -> None:
    with local_service(tmp_path) as svc:
        headers = {"Authorization": auth} if auth is not None else {}
        resp = StdlibTransport().send(HttpRequest("GET", svc.base_url + path, headers), 5)
        assert resp.status == 401
        assert resp.header("www-authenticate") == 'Bearer realm="aibtui-local"'
        assert b"AuthenticationFailed" in resp.body or b"InvalidAuthenticationToken" in resp.body
        ok = StdlibTransport().send(HttpRequest("GET", svc.base_url + path,
                                                {"Authorization": f"Bearer {svc.token}"}), 5)
        assert ok.status in (200, 404)


def test_token_file_is_private_and_stable(tmp_path: Path) -> None:
    with local_service(tmp_path) as svc:
        mode = stat.S_IMODE(os.stat(tmp_path / "token").st_mode)
        assert mode == 0o600
        svc.store.append_log("x", "make the WAL exist")  # type: ignore[union-attr]
        for name in ("state.db", "state.db-wal"):
            assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == 0o600, name
        assert read_token(tmp_path) == svc.token and len(svc.token) >= 40
    with local_service(tmp_path) as again:
        assert again.token == svc.token
    os.chmod(tmp_path / "token", 0o644)
    with pytest.raises(PermissionError, match="chmod 600"):
        read_token(tmp_path)


def test_listens_on_loopback_only_and_writes_discovery(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="127.0.0.1 only"):
        LocalService(tmp_path, host="0.0.0.0")
    with local_service(tmp_path) as svc:
        assert [host for host, _ in svc.addresses] == ["127.0.0.1", "127.0.0.1"]
        info = read_discovery(tmp_path)
        assert info is not None and info.port == svc.port and info.pid == os.getpid()
        with pytest.raises(AlreadyRunning):
            LocalService(tmp_path).start()
    assert read_discovery(tmp_path) is None


def test_no_token_or_authorization_header_in_any_log(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    debug: list[str] = []
    with local_service(tmp_path) as svc:
        c = local_client(tmp_path, api_version="2024-02-01", base_url=svc.base_url, debug=debug.append)
        c.create_template("t", sample_body()).result(timeout=5)
        c.run("t").wait(timeout=5)
        c.find_template("missing")
        token = svc.token
    service_log = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("aibtui"))
    assert "PUT /subscriptions/" in service_log and " 201 " in service_log
    client_log = "\n".join(debug)
    assert "'Authorization': 'REDACTED'" in client_log  # azure-core's HTTP logging policy
    for text in (service_log, client_log):
        assert token not in text
        assert "Bearer " + token[:8] not in text
    assert "Authorization" not in service_log


def test_redaction_helpers() -> None:
    assert redact_headers({"Authorization": "Bearer abc", "X": "1"}) == {"Authorization": "REDACTED", "X": "1"}
    assert redact_text("auth: Bearer eyJ0eXAi.abc-def") == "auth: Bearer REDACTED"
    assert redact_text("https://a/b?sig=secret&x=1") == "https://a/b?sig=REDACTED&x=1"


def test_an_idle_service_of_another_protocol_is_replaced(tmp_path: Path) -> None:
    from aibtui.arm.local import running_service

    with local_service(tmp_path) as svc:
        assert running_service(tmp_path) is not None
        svc.api.protocol = "0"
        assert running_service(tmp_path) is None
        assert svc.wait(5)  # it was asked to stop, and did
    assert read_discovery(tmp_path) is None
