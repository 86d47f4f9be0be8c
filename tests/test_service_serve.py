"""`aibtui serve` in the foreground, and the compiler's checker behind a PUT."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from service_support import local_service, sample_body

from aibtui.arm.client import RetryPolicy
from aibtui.arm.errors import ArmError
from aibtui.arm.local import local_client
from aibtui.service.statefiles import read_discovery


def test_serve_runs_in_the_foreground_and_refuses_a_second_one(tmp_path: Path) -> None:
    env = {**os.environ, "AIBTUI_STATE_DIR": str(tmp_path)}
    cmd = [sys.executable, "-m", "aibtui.cli.main", "serve", "--quiet"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 15
        while (info := read_discovery(tmp_path)) is None or info.pid != proc.pid:
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        c = local_client(tmp_path, api_version="2024-02-01", start=False,
                         retry=RetryPolicy(attempts=2, backoff=0.01, timeout=5, poll_interval=0.01))
        assert c.base_url == info.https_url  # the local provider speaks HTTPS, verified with the CA file
        assert list(c.list_templates()) == []
        second = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=30)
        assert second.returncode == 1 and "another local service is running" in second.stderr
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    assert read_discovery(tmp_path) is None


def test_compiler_diagnostics_come_back_in_the_400(tmp_path: Path) -> None:
    with local_service(tmp_path) as svc:
        c = local_client(tmp_path, api_version="2024-02-01", base_url=svc.base_url)
        body = sample_body()
        body["properties"]["buildTimeoutInMinutes"] = 5000
        with pytest.raises(ArmError) as err:
            c.create_template("t", body)
        assert err.value.status == 400 and err.value.code == "InvalidTemplate"  # ARM code; ours in details
        codes = {d["code"] for d in err.value.details}
        assert any(code.startswith("AIB") for code in codes), err.value.details
        assert "960" in json.dumps(err.value.details)


def _serve(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AIBTUI_STATE_DIR": str(tmp_path)}
    return subprocess.run([sys.executable, "-m", "aibtui.cli.main", "serve", *args], env=env, capture_output=True,
                          text=True, timeout=60)


def test_serve_start_status_stop_in_the_background_over_https(tmp_path: Path) -> None:
    import ssl
    import urllib.request

    state = tmp_path / "state"
    state.mkdir(mode=0o755)  # looser than it should be: the service tightens it
    first = _serve(state, "--start", "--output", "json")
    try:
        assert first.returncode == 0, first.stderr
        info = json.loads(first.stdout)
        assert info["url"].startswith("https://127.0.0.1:") and info["pid"] > 0
        assert info["subscriptionId"] == "00000000-0000-0000-0000-00000000a1b7"
        assert (state.stat().st_mode & 0o777) == 0o700
        assert (Path(info["tokenFile"]).stat().st_mode & 0o777) == 0o600
        assert ((state / "tls" / "server.key").stat().st_mode & 0o777) == 0o600
        again = _serve(state, "--start", "--output", "json")  # idempotent: the same service
        assert again.returncode == 0 and json.loads(again.stdout)["pid"] == info["pid"]
        status = _serve(state, "--status", "--output", "json")
        assert status.returncode == 0 and json.loads(status.stdout)["url"] == info["url"]
        # an ordinary TLS client, verifying against the published CA only, sends the token over HTTPS
        ctx = ssl.create_default_context(cafile=info["caFile"])
        token = Path(info["tokenFile"]).read_text().strip()
        req = urllib.request.Request(f"{info['url']}/subscriptions/{info['subscriptionId']}/providers/"
                                     "Microsoft.VirtualMachineImages/imageTemplates?api-version=2024-02-01",
                                     headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(req, context=ctx, timeout=10) as resp:
            assert resp.status == 200
        with pytest.raises(urllib.error.URLError):  # and without that CA the certificate is refused
            urllib.request.urlopen(req, context=ssl.create_default_context(), timeout=10)
    finally:
        stopped = _serve(state, "--stop", "--output", "json")
    assert stopped.returncode == 0 and json.loads(stopped.stdout)["stopped"] is True, stopped.stderr
    assert read_discovery(state) is None
    none = _serve(state, "--status")
    assert none.returncode == 1 and "no local service is running" in none.stdout
    assert _serve(state, "--stop").returncode == 0  # stopping nothing is not an error


def test_token_is_created_atomically_and_never_empty(tmp_path: Path) -> None:
    from aibtui.localstate import read_or_create_token

    tokens = {read_or_create_token(tmp_path) for _ in range(3)}
    assert len(tokens) == 1 and len(tokens.pop()) >= 40
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    (tmp_path / "token").write_text("")
    os.chmod(tmp_path / "token", 0o600)
    with pytest.raises(PermissionError, match="empty"):
        read_or_create_token(tmp_path)


def test_aibtui_client_over_https_verifies_the_published_ca(tmp_path: Path) -> None:
    with local_service(tmp_path) as svc:
        c = local_client(tmp_path, api_version="2024-02-01", base_url=svc.https_url)
        c.create_template("t", sample_body()).result(timeout=10)
        assert [t["name"] for t in c.list_templates()] == ["t"]
        (tmp_path / "service.json").unlink()  # no published CA: the self-signed certificate is refused
        blind = local_client(tmp_path, api_version="2024-02-01", base_url=svc.https_url,
                             retry=RetryPolicy(attempts=1, backoff=0.01, timeout=5, poll_interval=0.01))
        with pytest.raises(Exception, match="(?i)certificate"):
            list(blind.list_templates())


def test_tls_files_are_made_once_and_reused(tmp_path: Path) -> None:
    from cryptography import x509

    from aibtui.service.tls import ensure_tls

    first = ensure_tls(tmp_path)
    pem = first.cert_file.read_bytes()
    cert = x509.load_pem_x509_certificate(pem)
    ca = x509.load_pem_x509_certificate(first.ca_file.read_bytes())
    assert cert.issuer == ca.subject and not (tmp_path / "tls" / "ca.key").exists()
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert (first.key_file.stat().st_mode & 0o777) == 0o600
    assert ((tmp_path / "tls").stat().st_mode & 0o777) == 0o700
    assert ensure_tls(tmp_path).cert_file.read_bytes() == pem  # reused while valid
    first.cert_file.write_text("broken")
    assert ensure_tls(tmp_path).cert_file.read_bytes() != pem  # remade when unreadable
