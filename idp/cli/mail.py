"""``moc-idp mail send-pending``: the mail outbox, for cron."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from idp.outbox import send_pending


@click.group("mail")
def mail_group():
    """The mail outbox (for cron)."""


@mail_group.command("send-pending")
@with_appcontext
def mail_send_pending():
    """Send every mail whose time has come (after a restart, or retries); safe to run often."""
    click.echo(f"sent {send_pending()} mail(s)")
