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

from aibtui.arm.client import RetryPolicy
from aibtui.arm.errors import ArmError
from aibtui.arm.local import local_client
from aibtui.service.statefiles import read_discovery
from aibtui.service.testing import local_service, sample_body


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
        assert c.base_url == info.base_url
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
        assert err.value.status == 400 and err.value.code == "InvalidParameter"
        codes = {d["code"] for d in err.value.details}
        assert any(code.startswith("AIB") for code in codes), err.value.details
        assert "960" in json.dumps(err.value.details)
