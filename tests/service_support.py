"""Helpers for tests and benchmarks: an in-process service on a tmp state dir, a sample body.

Kept out of the installed package (it was ``aibtui/service/testing.py``): tests import it as
``service_support`` (pytest puts tests/ on sys.path), benchmarks add tests/ to sys.path first.
Everything binds 127.0.0.1 and stops in ``finally``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from aibtui.service.server import LocalService
from aibtui.service.settings import ServiceSettings

FAST = ServiceSettings(step_delay=0.005, provision_delay=0.002, delete_delay=0.002, retry_after_ms=2)


@contextmanager
def local_service(state: Path, settings: ServiceSettings | None = None) -> Iterator[LocalService]:
    svc = LocalService(state, settings or FAST)
    svc.start()
    try:
        yield svc
    finally:
        svc.stop()


def sample_body(*, steps: tuple[str, ...] = ("install", "harden"), outputs: tuple[str, ...] = ("img", "vhd"),
                location: str = "westus2", validations: tuple[str, ...] = ()) -> dict[str, Any]:
    """A valid PUT body: Ubuntu source, Shell steps, a ManagedImage and a VHD target."""
    dist: list[dict[str, Any]] = []
    for i, name in enumerate(outputs):
        if i % 2 == 0:
            dist.append({"type": "ManagedImage", "runOutputName": name, "location": location,
                         "imageId": f"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/"
                                    f"providers/Microsoft.Compute/images/{name}"})
        else:
            dist.append({"type": "VHD", "runOutputName": name})
    body: dict[str, Any] = {
        "location": location,
        "identity": {"type": "UserAssigned", "userAssignedIdentities": {
            "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/"
            "Microsoft.ManagedIdentity/userAssignedIdentities/aib": {}}},
        "properties": {
            "buildTimeoutInMinutes": 60,
            "vmProfile": {"vmSize": "Standard_D2s_v3"},
            "source": {"type": "PlatformImage", "publisher": "Canonical", "offer": "0001-com-ubuntu-server-jammy",
                       "sku": "22_04-lts-gen2", "version": "latest"},
            "customize": [{"type": "Shell", "name": s, "inline": [f"echo {s}"]} for s in steps],
            "distribute": dist,
        },
    }
    if validations:
        body["properties"]["validate"] = {"inVMValidations": [{"type": "Shell", "name": v, "inline": ["true"]}
                                                              for v in validations]}
    return body


def sample_json(**kw: Any) -> str:
    return json.dumps(sample_body(**kw), indent=2) + "\n"
