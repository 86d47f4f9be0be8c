"""The embedded local image-builder service.

It speaks the ARM REST protocol of ``Microsoft.VirtualMachineImages/imageTemplates`` on 127.0.0.1,
keeps its state in SQLite (WAL) and guards every request with a per-user bearer token. Runs are
*simulated* until local execution lands: every step is logged as not executed. See
``docs/local-service.md``.
"""

from ..localstate import (  # noqa: F401 - one definition, shared with clients
    LOCAL_LOCATION,
    LOCAL_RESOURCE_GROUP,
    LOCAL_SUBSCRIPTION,
    PROTOCOL_VERSION,
    SERVICE_NAME,
)
