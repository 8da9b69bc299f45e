"""The production server's settings (Granian, WSGI interface), from the ``[SERVER]`` table.

``moc-idp serve`` uses them; its options override HOST, PORT, WORKERS and THREADS.
Why Granian: see docs/performance.md (measured side by side with gunicorn's workers).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from idp.config import load_config

MULTIPROC = "PROMETHEUS_MULTIPROC_DIR"
OWN_METRICS_FOLDER = "MOC_IDP_OWN_METRICS_DIR"


def settings(host: str | None = None, port: int | None = None, workers: int | None = None,
             threads: int | None = None) -> dict:
    """Granian's keyword arguments from ``[SERVER]``, with the given values in place of its own."""
    server = load_config()["SERVER"]
    return {
        "address": host or server["HOST"],
        "port": port or server["PORT"],
        "workers": workers or server["WORKERS"],
        # Python threads per worker that run requests: more than one lets a request that waits
        # on DOPA or DPIS not hold the whole worker; the work itself is bound by one GIL.
        "blocking_threads": threads or server["THREADS"],
        # SIGTERM: stop accepting, let requests in flight finish for this long, then stop.
        "workers_kill_timeout": server["GRACEFUL_TIMEOUT_SECONDS"],
        "respawn_failed_workers": True,  # a worker that dies is replaced, as gunicorn would
    }


def prepare_metrics_folder() -> None:
    """The workers' shared metrics folder (prometheus-client multiprocess mode), emptied of a
    previous run's files; a private temporary one when PROMETHEUS_MULTIPROC_DIR is not set."""
    folder = os.environ.get(MULTIPROC)
    if not folder:
        folder = os.environ[MULTIPROC] = tempfile.mkdtemp(prefix="moc-idp-metrics-")
        os.environ[OWN_METRICS_FOLDER] = folder
    Path(folder).mkdir(parents=True, exist_ok=True)
    for stale in Path(folder).glob("*.db"):
        stale.unlink()


def remove_own_metrics_folder() -> None:
    """Remove the metrics folder this server made for itself, when it stops."""
    own = os.environ.get(OWN_METRICS_FOLDER)
    if own:
        shutil.rmtree(own, ignore_errors=True)
