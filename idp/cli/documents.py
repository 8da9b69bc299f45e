"""``moc-idp documents purge``: the retention rule for staff-verification documents."""

from __future__ import annotations

import json
import sys

import click
from flask.cli import with_appcontext

from idp.verification.documents.retention import purge


@click.group("documents")
def documents_group():
    """Staff-verification documents: the retention rule."""


@documents_group.command("purge")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def documents_purge(as_json):
    """Delete decided documents past [DOCUMENTS] RETENTION_DAYS (idempotent; for cron)."""
    report = purge()
    if as_json:
        click.echo(json.dumps({"purged": report.purged, "failed": report.failed,
                               "retention_days": report.retention_days}))
    else:
        click.echo(f"{report.purged} document(s) deleted, {report.failed} failed "
                   f"(retention {report.retention_days} days)")
    if report.failed:
        sys.exit(1)
