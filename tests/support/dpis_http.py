"""A DPIS-like JSON web service on loopback, with the misbehaviours a real one can have.

``GET /people/{citizen_id}`` answers the person's JSON object (or 404) to the right bearer
token (else 401). A leading path segment picks a misbehaviour, so one server serves every test:

    /500/...            HTTP 500          /503/...        HTTP 503
    /malformed/...      200, not JSON     /list/...       200, a JSON list
    /oversized/...      200, 1 MiB with Content-Length
    /oversized-chunked/ 200, 1 MiB chunked (no length announced)
    /slow/...           waits ``slow_seconds`` before answering
    /drip/...           headers at once, then one byte every 0.1 s for ``slow_seconds``
    /close/...          reads the request and hangs up without an answer
    /redirect/...       302 to the normal path

``hits`` counts requests per misbehaviour ("" for normal); ``paths`` records every path asked.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODES = {"500", "503", "malformed", "list", "oversized", "oversized-chunked", "slow", "drip",
         "close", "redirect"}
BIG = 1024 * 1024


@dataclass
class DpisHttpServer:
    """The running server; ``url`` is its base URL."""

    people: dict[str, dict]
    token: str
    slow_seconds: float = 1.0
    hits: Counter = field(default_factory=Counter)
    paths: list[str] = field(default_factory=list)
    url: str = ""
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    def start(self) -> DpisHttpServer:
        handler = type("Handler", (_Handler,), {"service": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class _Handler(BaseHTTPRequestHandler):
    service: DpisHttpServer

    def log_message(self, *_args) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        self.service.paths.append(self.path)
        parts = self.path.strip("/").split("/")
        mode = parts[0] if parts and parts[0] in MODES else ""
        self.service.hits[mode] += 1
        if mode:
            parts = parts[1:]
        if self.headers.get("Authorization") != f"Bearer {self.service.token}":
            return self._send(401, b'{"error": "invalid_token"}')
        if mode == "close":
            self.close_connection = True
            return None
        if mode == "redirect":
            return self._send(302, b"", location="/" + "/".join(parts))
        return getattr(self, "_" + mode.replace("-", "_"), self._normal)(parts)

    def _normal(self, parts) -> None:
        person = self.service.people.get(parts[-1]) if len(parts) == 2 and parts[0] == "people" else None
        if person is None:
            return self._send(404, b'{"error": "not_found"}')
        return self._send(200, json.dumps(person, ensure_ascii=False).encode())

    def _500(self, _parts) -> None:
        self._send(500, b"<html>Internal Server Error</html>", content_type="text/html")

    def _503(self, _parts) -> None:
        self._send(503, b"")

    def _malformed(self, _parts) -> None:
        self._send(200, b'{"PER_NAME": "\xe0\xb8\xaa', content_type="application/json")

    def _list(self, _parts) -> None:
        self._send(200, json.dumps(list(self.service.people.values())).encode())

    def _oversized(self, _parts) -> None:
        self._send(200, b'{"PER_NAME": "' + b"x" * BIG + b'"}')

    def _oversized_chunked(self, _parts) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            for _ in range(BIG // 4096):
                self.wfile.write(b"1000\r\n" + b"x" * 4096 + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        except OSError:  # the client stopped reading, as it should
            pass

    def _slow(self, parts) -> None:
        time.sleep(self.service.slow_seconds)
        self._normal(parts)

    def _drip(self, _parts) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "100000")
        self.end_headers()
        deadline = time.monotonic() + self.service.slow_seconds
        try:
            while time.monotonic() < deadline:
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(0.1)
        except OSError:
            pass

    def _send(self, status: int, body: bytes, *, content_type="application/json", location=None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if location:
            self.send_header("Location", location)
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:
            pass
