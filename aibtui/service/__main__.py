"""``python -m aibtui.service``: run the local service (what the CLI starts on demand, detached)."""

from __future__ import annotations

import sys

from .control import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
