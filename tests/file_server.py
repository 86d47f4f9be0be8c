"""A loopback HTTP server of in-memory files, for the tests that download (never the network).

``serve_files()`` yields the server and its base URL; put bytes in ``srv.files[path]``; every GET's
path is recorded in ``srv.hits``. Unknown paths answer 404. Bound to 127.0.0.1, stopped on exit.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class FileServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    files: dict[str, bytes]
    hits: list[str]


class _Handler(http.server.BaseHTTPRequestHandler):
    server: FileServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return None

    def do_GET(self) -> None:  # noqa: N802
        self.server.hits.append(self.path)
        data = self.server.files.get(self.path)
        self.send_response(200 if data is not None else 404)
        self.send_header("Content-Length", str(len(data or b"")))
        self.end_headers()
        self.wfile.write(data or b"")


@contextmanager
def serve_files() -> Iterator[tuple[FileServer, str]]:
    srv = FileServer(("127.0.0.1", 0), _Handler)
    srv.files, srv.hits = {}, []
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    try:
        yield srv, f"http://127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.shutdown()
        srv.server_close()
        t.join(5)
