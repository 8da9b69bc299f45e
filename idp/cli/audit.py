"""``moc-idp audit seal|verify``: the audit log's hash chain."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from idp.audit_chain import seal, verify_chain
from idp.db import db


@click.group("audit")
def audit_group():
    """The audit log."""


@audit_group.command("seal")
@with_appcontext
def audit_seal():
    """Link the events recorded since the last seal into the hash chain (a cron job may run
    this; each process also seals in the background unless [AUDIT] SEAL_IN_BACKGROUND = false)."""

    sealed = seal(db.session, current_app.config["AUDIT"]["SEAL_BATCH_SIZE"])
    click.echo(f"sealed {sealed} events")


@audit_group.command("verify")
@with_appcontext
def audit_verify():
    """Seal what is waiting, walk the hash chain; exit 1 naming the first event that does not
    fit, else 0."""
    report = verify_chain()
    if report.ok:
        click.echo(f"OK: {report.checked} events, chain head {report.head_hash}")
        return
    click.echo(f"BROKEN at event {report.broken_event_id}: {report.problem} "
               f"({report.checked} events before it are intact)", err=True)
    sys.exit(1)
