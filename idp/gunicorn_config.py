"""The production server's settings (gunicorn), from the ``[SERVER]`` table.

``moc-idp serve`` uses them (its options override HOST, PORT, WORKERS, THREADS); gunicorn can
read them itself too: ``gunicorn -c python:idp.gunicorn_config 'idp:create_app()'``.
Why gthread workers by default: see docs/performance.md (measured, CPU per request).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from gunicorn.config import Config

from idp.config import load_config

MULTIPROC = "PROMETHEUS_MULTIPROC_DIR"


def settings(host: str | None = None, port: int | None = None, workers: int | None = None,
             threads: int | None = None) -> dict:
    """gunicorn settings from ``[SERVER]``, with the given values in place of its own."""
    server = load_config()["SERVER"]
    threads = threads or server["THREADS"]
    host, port = host or server["HOST"], port or server["PORT"]
    return {
        "bind": f"{host}:{port}",
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
        "on_starting": on_starting,
        "child_exit": child_exit,
        "on_exit": on_exit,
        **own_control_socket(server["CONTROL_SOCKET"], host, port),
    }


# Not named ``control_socket``: the settings below become module globals of the same names.
def own_control_socket(configured: str, host: str, port: int) -> dict:
    """gunicorn's control socket (``gunicornc``), one per bind address.

    gunicorn 25.1 and later open it at ``$XDG_RUNTIME_DIR/gunicorn.ctl`` (else
    ``~/.gunicorn/gunicorn.ctl``) whatever the port: a second instance on the machine unlinks the
    first one's socket and takes the name, and whichever stops first removes the other's. Each
    instance therefore gets its own name in that folder, from its bind address, unless
    ``[SERVER] CONTROL_SOCKET`` names a path. Older gunicorn has no such setting: nothing to set.
    """
    if "control_socket" not in Config().settings:
        return {}
    if configured:
        return {"control_socket": configured}
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    folder = runtime if runtime and os.path.isdir(runtime) else os.path.expanduser("~/.gunicorn")
    return {"control_socket": os.path.join(folder, f"moc-idp-{host}-{port}.ctl")}


def on_starting(server) -> None:
    """Master, before any worker: the workers' shared metrics folder."""
    prepare_metrics_folder()


def prepare_metrics_folder() -> None:
    """The workers' shared metrics folder (prometheus-client multiprocess mode), emptied of a
    previous run's files; a private temporary one when PROMETHEUS_MULTIPROC_DIR is not set."""
    folder = os.environ.get(MULTIPROC)
    if not folder:
        folder = os.environ[MULTIPROC] = tempfile.mkdtemp(prefix="moc-idp-metrics-")
        os.environ["MOC_IDP_OWN_METRICS_DIR"] = folder
    Path(folder).mkdir(parents=True, exist_ok=True)
    for stale in Path(folder).glob("*.db"):
        stale.unlink()


def child_exit(server, worker) -> None:
    """A worker ended: its live gauges no longer count."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server) -> None:
    """Remove the metrics folder this master made for itself."""
    own = os.environ.get("MOC_IDP_OWN_METRICS_DIR")
    if own:
        shutil.rmtree(own, ignore_errors=True)


# Read by `gunicorn -c python:idp.gunicorn_config`: one module-level name per setting.
globals().update(settings())
