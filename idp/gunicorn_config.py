"""The production server's settings (gunicorn), from the ``[SERVER]`` table.

``moc-idp serve`` uses them (its options override HOST, PORT, WORKERS, THREADS); gunicorn can
read them itself too: ``gunicorn -c python:idp.gunicorn_config 'idp:create_app()'``.
Why gthread workers by default: see docs/performance.md (measured, CPU per request).
"""

from __future__ import annotations

from idp.config import load_config


def settings(host: str | None = None, port: int | None = None, workers: int | None = None,
             threads: int | None = None) -> dict:
    """gunicorn settings from ``[SERVER]``, with the given values in place of its own."""
    server = load_config()["SERVER"]
    threads = threads or server["THREADS"]
    return {
        "bind": f"{host or server['HOST']}:{port or server['PORT']}",
        "workers": workers or server["WORKERS"],
        "threads": threads,
        # gthread keeps connections alive (less CPU per request than sync, which closes each
        # one); threads=1 gives the sync worker.
        "worker_class": "gthread" if threads > 1 else "sync",
        # SIGTERM: stop accepting, let requests in flight finish for this long, then stop.
        "graceful_timeout": server["GRACEFUL_TIMEOUT_SECONDS"],
        "timeout": 30,  # a worker silent for longer is restarted
        "keepalive": 5,
        "proc_name": "moc-idp",
    }


# Read by `gunicorn -c python:idp.gunicorn_config`: one module-level name per setting.
globals().update(settings())
