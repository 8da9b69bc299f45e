"""``moc-idp``: the Flask CLI of the app, with the commands admins automate with.

One module per command group (``clients.py``, ``accounts.py``, ...), the shared helpers in
``common.py``; ``commands.init_app`` adds them all to an app, and the factory calls it.
"""

from __future__ import annotations

import os
import sys

import click
from flask.cli import FlaskGroup

from idp import create_app
from idp.server_app import ProductionServer
from idp.server_config import MULTIPROC, prepare_metrics_folder, settings


def _create_app(*_args, **_kwargs):
    # The CLI must start without keys so that `moc-idp keys rotate` can create the first ones;
    # every other production check still applies.
    return create_app({"REQUIRE_KEYS": False})


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False)
def main():
    """MOC Account identity provider."""


@main.command("serve", with_appcontext=False)
@click.option("--host", help="Address to listen on ([SERVER] HOST).")
@click.option("--port", type=int, help="Port to listen on ([SERVER] PORT).")
@click.option("--workers", type=int, help="Worker processes, about one per core ([SERVER] WORKERS).")
@click.option("--threads", type=int, help="Python threads per worker that run requests ([SERVER] THREADS).")
def serve(host, port, workers, threads):
    """Run the IdP under its production server (Granian); SIGTERM stops it gracefully."""
    if MULTIPROC not in os.environ:
        # prometheus-client chooses its multiprocess mode when first imported, which loading
        # this command has already done: start again with the workers' shared folder named.
        prepare_metrics_folder()
        os.execv(sys.executable, [sys.executable, "-c", "from idp.cli import main; main()",
                                  *sys.argv[1:]])
    prepare_metrics_folder()  # empties the folder of a previous run's files
    _create_app()  # an unsafe configuration is refused here, before any worker starts
    ProductionServer(settings(host, port, workers, threads)).run()
