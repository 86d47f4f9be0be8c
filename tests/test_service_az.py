"""The official ``az`` CLI against the local service, by the recipe of docs/local-service.md:
a custom cloud whose Resource Manager is the service (over HTTPS, trusting its CA), ``az login
--identity`` against the service's managed-identity endpoint, then ``az image builder``
create/show/run/show-runs/cancel/delete. Skipped when az is not installed (.ci/run installs it
into /opt/az)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from service_support import FAST, local_service

from aibtui.localstate import LOCAL_RESOURCE_GROUP
from aibtui.service.runner import HOLD_TAG
from aibtui.service.server import LocalService

AZ = shutil.which("az") or ("/opt/az/bin/az" if os.access("/opt/az/bin/az", os.X_OK) else None)
pytestmark = pytest.mark.skipif(AZ is None, reason="needs az (the Azure CLI; .ci/run installs it into /opt/az)")
IDENTITY = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/"
            "Microsoft.ManagedIdentity/userAssignedIdentities/aib")
SOURCE = "Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2:latest"


class Az:
    def __init__(self, svc: LocalService, config_dir: Path) -> None:
        assert svc.tls is not None
        self.env = {k: v for k, v in os.environ.items()
                    if not k.upper().endswith("_PROXY") and not k.startswith(("AZURE_", "IDENTITY_", "MSI_"))}
        self.env.update({
            "AZURE_CONFIG_DIR": str(config_dir),  # never the user's ~/.azure
            "REQUESTS_CA_BUNDLE": str(svc.tls.ca_file),  # az verifies the service's certificate against its CA
            "IDENTITY_ENDPOINT": f"{svc.https_url}/_aibtui/msi/token",  # az login --identity asks here ...
            "IDENTITY_HEADER": svc.token,  # ... proving it may, with the token file's contents
            "AZURE_CORE_COLLECT_TELEMETRY": "no", "AZURE_CORE_NO_COLOR": "yes", "AZURE_CORE_SURVEY_MESSAGE": "no",
            "NO_PROXY": "127.0.0.1,localhost",
        })

    def __call__(self, *args: str, check: bool = True) -> Any:
        assert AZ is not None
        proc = subprocess.run([AZ, *args, "--only-show-errors", "-o", "json"], env=self.env, capture_output=True,
                              text=True, timeout=120)
        if check:
            assert proc.returncode == 0, f"az {' '.join(args)}: {proc.stderr}"
        if proc.returncode != 0:
            return proc
        return json.loads(proc.stdout) if proc.stdout.strip() else None


@pytest.fixture
def az(tmp_path: Path) -> Iterator[tuple[Az, LocalService]]:
    with local_service(tmp_path / "state", replace(FAST, hold_runs=True)) as svc:
        cli = Az(svc, tmp_path / "azure-config")
        cli("cloud", "register", "--name", "aibtui-local", "--endpoint-resource-manager", svc.https_url)
        cli("cloud", "set", "--name", "aibtui-local")
        accounts = cli("login", "--identity")
        assert [a["id"] for a in accounts] == ["00000000-0000-0000-0000-00000000a1b7"]
        yield cli, svc


def test_az_image_builder_lifecycle(az: tuple[Az, LocalService]) -> None:
    cli, _ = az
    rg = LOCAL_RESOURCE_GROUP
    made = cli("image", "builder", "create", "-g", rg, "-n", "web", "--location", "westus2", "--image-source", SOURCE,
               "--identity", IDENTITY, "--managed-image-destinations", "webimg=westus2", "--tags", "team=web")
    assert made["provisioningState"] == "Succeeded" and made["tags"] == {"team": "web"}
    shown = cli("image", "builder", "show", "-g", rg, "-n", "web")
    assert shown["name"] == "web" and shown["source"]["publisher"] == "Canonical"
    cli("image", "builder", "run", "-g", rg, "-n", "web")
    status = cli("image", "builder", "show", "-g", rg, "-n", "web")["lastRunStatus"]
    assert status["runState"] == "Succeeded"
    runs = cli("image", "builder", "show-runs", "-g", rg, "-n", "web")
    assert [r["name"] for r in runs] == ["webimg"] and runs[0]["artifactId"].endswith("/images/webimg")
    again = cli("image", "builder", "create", "-g", rg, "-n", "web", "--location", "westus2", "--image-source",
                SOURCE, "--identity", IDENTITY, "--managed-image-destinations", "other=westus2", check=False)
    assert again.returncode != 0 and "Conflict" in again.stderr  # ARM's code, through az's error printer
    cli("image", "builder", "delete", "-g", rg, "-n", "web")
    assert cli("image", "builder", "list", "-g", rg) == []


def test_az_cancels_a_run_in_progress(az: tuple[Az, LocalService]) -> None:
    cli, _ = az
    rg = LOCAL_RESOURCE_GROUP
    cli("image", "builder", "create", "-g", rg, "-n", "held", "--location", "westus2", "--image-source", SOURCE,
        "--identity", IDENTITY, "--managed-image-destinations", "heldimg=westus2", "--tags", f"{HOLD_TAG}=true")
    cli("image", "builder", "run", "-g", rg, "-n", "held", "--no-wait")
    deadline = time.monotonic() + 60
    while (cli("image", "builder", "show", "-g", rg, "-n", "held")["lastRunStatus"] or {}).get("runSubState") \
            != "Building":
        assert time.monotonic() < deadline, "the run never reached Building"
    cli("image", "builder", "cancel", "-g", rg, "-n", "held")
    while (status := cli("image", "builder", "show", "-g", rg, "-n", "held")["lastRunStatus"])["runState"] \
            == "Canceling":
        assert time.monotonic() < deadline, "the cancel never finished"
    assert status["runState"] == "Canceled"
    assert cli("image", "builder", "show-runs", "-g", rg, "-n", "held") == []
    cli("image", "builder", "delete", "-g", rg, "-n", "held")
