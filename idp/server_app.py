"""Granian run in process by ``moc-idp serve``: the supervising process is this one, so a
SIGTERM sent to it (by systemd, a container runtime, or the benchmark) reaches Granian directly.

Each worker process imports ``idp`` and calls ``create_app()`` (Granian's factory target); the
requests run in the worker's Python threads, the HTTP work in its Rust runtime.
"""

from __future__ import annotations

from granian.constants import Interfaces
from granian.server import Server

from idp.server_config import remove_own_metrics_folder

APP_FACTORY = "idp:create_app"
# Granian's own lines (start, workers, shutdown) on standard error, with the app's log lines;
# its access log stays off: the app writes one line per request itself (idp/logs.py).
LOG_HANDLERS = {"handlers": {
    "console": {"formatter": "generic", "class": "logging.StreamHandler", "stream": "ext://sys.stderr"},
    "access": {"formatter": "access", "class": "logging.StreamHandler", "stream": "ext://sys.stderr"},
}}


class ProductionServer:
    """Granian with the given settings (``server_config.settings``), serving ``create_app()``."""

    def __init__(self, options: dict):
        self.options = options

    def run(self) -> None:
        """Serve until SIGTERM or SIGINT, then stop gracefully and clean up."""
        server = Server(APP_FACTORY, interface=Interfaces.WSGI, factory=True,
                        log_dictconfig=LOG_HANDLERS, **self.options)
        try:
            server.serve()
        finally:
            remove_own_metrics_folder()
