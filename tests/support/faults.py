"""A loopback TCP server that misbehaves the way a struggling external system does, and
counts every connection made to it (one connection per attempt: the adapters under test open
a new connection for each try).

Modes:
- ``silent``: accepts and never answers (a black-holed host behind a firewall that accepts);
- ``slow``: reads the request and answers HTTP 200 only after ``delay`` seconds;
- ``error``: answers HTTP 503 at once;
- ``hang_up``: accepts, waits ``delay`` seconds, then closes without a word.
"""

from __future__ import annotations

import socket
import socketserver
import threading
import time

LOOPBACK = "127.0.0.1"
MODES = ("silent", "slow", "error", "hang_up")


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        fault: FaultServer = self.server.fault  # type: ignore[attr-defined]
        fault.count()
        getattr(self, f"_{fault.mode}")(fault)

    def _silent(self, fault) -> None:
        fault.stopping.wait()

    def _slow(self, fault) -> None:
        self._read_head()
        if not fault.stopping.wait(fault.delay):
            self._answer(200, b'{"slow": true}')

    def _error(self, _fault) -> None:
        self._read_head()
        self._answer(503, b"Service Unavailable")

    def _hang_up(self, fault) -> None:
        fault.stopping.wait(fault.delay)

    def _read_head(self) -> None:
        self.request.settimeout(5)
        data = b""
        try:
            while b"\r\n\r\n" not in data:
                chunk = self.request.recv(4096)
                if not chunk:
                    return
                data += chunk
        except OSError:
            return

    def _answer(self, status: int, body: bytes) -> None:
        head = (f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
        try:
            self.request.sendall(head + body)
        except OSError:
            pass


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class FaultServer:
    """A misbehaving server on a free loopback port; ``connections`` counts the attempts."""

    def __init__(self, mode: str, *, delay: float = 3.0):
        if mode not in MODES:
            raise ValueError(mode)
        self.mode, self.delay = mode, delay
        self.stopping = threading.Event()
        self._lock, self._count = threading.Lock(), 0
        self._server = _Server((LOOPBACK, 0), _Handler)
        self._server.fault = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def connections(self) -> int:
        with self._lock:
            return self._count

    def count(self) -> None:
        with self._lock:
            self._count += 1

    def stop(self) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()


def closed_port() -> int:
    """A loopback port nothing listens on (connections are refused)."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def wait_until(predicate, timeout: float = 10.0) -> bool:
    """Poll ``predicate`` until true or ``timeout``; for servers still counting in threads."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()
