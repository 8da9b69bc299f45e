"""``moc-idp accounts``: cron jobs on member accounts, sign-in unlock and identity unlink."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from idp import audit
from idp.accounts.reminders import remind_expiring
from idp.accounts.sign_in import unlock_sign_in
from idp.cli.common import account_or_fail, fail
from idp.db import db
from idp.verification.identity import NothingToUnlink, unlink_identity


@click.group("accounts")
def accounts_group():
    """Member accounts: jobs for cron, and sign-in unlock."""


@accounts_group.command("remind-expiring")
@with_appcontext
def accounts_remind_expiring():
    """Mail members whose temporary membership expires soon; safe to run as often as you like."""
    click.echo(f"sent {remind_expiring()} reminder(s)")


@accounts_group.command("unlock")
@click.argument("email")
@click.option("--reason", default="", help="Why (kept in the audit log).")
@with_appcontext
def accounts_unlock(email, reason):
    """Clear the sign-in throttles of the account with EMAIL (audited)."""
    user = account_or_fail(email)
    unlock_sign_in(user)
    audit.record("admin:account:sign_in_unlocked", subject=user,
                 details={"reason": reason.strip(), "via": "cli"})
    db.session.commit()
    click.echo(f"sign-in unlocked for {user.sub}")


@accounts_group.command("unlink-identity")
@click.argument("email")
@click.option("--reason", required=True, help="Why (audited).")
@with_appcontext
def accounts_unlink_identity(email, reason):
    """Unbind the verified person from an account: drops staff status, ends its sessions
    (back-channel logout), revokes its tokens; the account is temporary again."""
    user = account_or_fail(email)
    if len(reason.strip()) < 3:
        fail(["please give the reason"])
    try:
        report = unlink_identity(user, reason=reason.strip())
    except NothingToUnlink:
        fail([f"{email!r} has no verified identity to unlink"])
    db.session.commit()
    click.echo(f"unlinked the identity of {user.sub}: {report.sessions_ended} session(s) ended"
               + (", staff status revoked" if report.staff_revoked else ""))
