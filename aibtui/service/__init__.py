"""The embedded local image-builder service.

It speaks the ARM REST protocol of ``Microsoft.VirtualMachineImages/imageTemplates`` on 127.0.0.1,
keeps its state in SQLite (WAL) and guards every request with a per-user bearer token. A Linux run
with a root filesystem and a sandbox executes its steps for real; any other run is simulated, and
``properties.lastRunStatus.aibtuiExecution`` says which (and why). See ``docs/local-service.md``.
"""

SERVICE_NAME = "aibtui-local"
LOCAL_SUBSCRIPTION = "00000000-0000-0000-0000-00000000a1b7"
LOCAL_RESOURCE_GROUP = "aibtui-local"
LOCAL_LOCATION = "local"
PROTOCOL_VERSION = "1"  # bump when the REST surface changes: a CLI replaces an idle older service
