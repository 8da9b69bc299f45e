"""gunicorn run in process by ``moc-idp serve``: the master is this process, so a SIGTERM sent
to it (by systemd, a container runtime, or the benchmark) reaches gunicorn directly."""

from __future__ import annotations

from gunicorn.app.base import BaseApplication

from idp import create_app


class ProductionServer(BaseApplication):
    """gunicorn with the given settings, serving ``create_app()`` in each worker."""

    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        """Hand gunicorn the settings ``moc-idp serve`` chose."""
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        """The app each worker serves."""
        return create_app()
