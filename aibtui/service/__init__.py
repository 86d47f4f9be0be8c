"""The embedded local image-builder service.

It speaks the ARM REST protocol of ``Microsoft.VirtualMachineImages/imageTemplates`` (and the ARM
resources around it) on 127.0.0.1 over HTTPS and HTTP, served by uvicorn, keeps its state in SQLite
(WAL) and guards every request with a per-user bearer token. Linux builds run for real in a sandbox
when a root filesystem is at hand; other runs are simulated, and
``properties.lastRunStatus.aibtuiExecution`` says which (and why). See
``docs/local-service.md``.
"""

from ..localstate import (  # noqa: F401 - one definition, shared with clients
    LOCAL_LOCATION,
    LOCAL_RESOURCE_GROUP,
    LOCAL_SUBSCRIPTION,
    PROTOCOL_VERSION,
    SERVICE_NAME,
)
