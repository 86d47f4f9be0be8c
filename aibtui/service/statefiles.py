"""The state directory's files; they live in :mod:`aibtui.localstate` (shared with clients)."""

from ..localstate import (  # noqa: F401 - re-exported for the service and its tests
    CA_FILE,
    DB_FILE,
    DISCOVERY_FILE,
    LOCK_FILE,
    LOG_FILE,
    TLS_DIR,
    TOKEN_FILE,
    Discovery,
    ensure_state_dir,
    read_discovery,
    read_or_create_token,
    read_token,
    remove_discovery,
    write_discovery,
)
