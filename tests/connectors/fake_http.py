"""What the fake provider APIs share: a threaded local HTTP server that answers JSON."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl


class JsonHandler(BaseHTTPRequestHandler):
    def read_form(self) -> list[tuple[str, str]]:
        length = int(self.headers.get("Content-Length", 0))
        return parse_qsl(self.rfile.read(length).decode())

    def send_json(self, status: int, document: object) -> None:
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


class LocalServer:
    """Serves `handler` on a free port of 127.0.0.1 for the length of a `with` block."""

    def __init__(self, handler: type[JsonHandler]) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self.server.server_port

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
