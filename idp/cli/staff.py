"""``moc-idp staff``: re-checking and revoking MOC personnel status."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from idp.accounts.service import find_by_email
from idp.cli.common import fail
from idp.db import db
from idp.verification.notices import mail_staff_lost
from idp.verification.staff import reverify_all, revoke


@click.group("staff")
def staff_group():
    """MOC personnel status: re-checks and revocation."""


@staff_group.command("reverify")
@with_appcontext
def staff_reverify():
    """Re-check members verified by AD or DPIS (for cron); a source that is down changes nothing."""
    report = reverify_all()
    click.echo(f"checked {report.checked}: kept {report.kept}, revoked {report.revoked}, "
               f"unchanged because a source was down {report.unchanged_source_down}")


@staff_group.command("revoke")
@click.option("--email", required=True)
@click.option("--reason", required=True)
@with_appcontext
def staff_revoke(email, reason):
    """Take staff status away from a member, with a reason (audited, mailed)."""
    user = find_by_email(email)
    if user is None or not user.is_staff:
        fail([f"{email!r} is not verified MOC staff"])
    revoke(user, reason=reason)
    mail_staff_lost(user)
    db.session.commit()
    click.echo(f"revoked the staff status of {user.sub}")
