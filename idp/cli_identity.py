"""``moc-idp accounts unlink-identity``, ``moc-idp verification reset-attempts`` and
``moc-idp pdpa remask``: the bound identity and the citizen ID, from the command line.

A citizen ID is never an argument: argv shows in every process list, so it is read from a
prompt (or standard input) instead.
"""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from idp.cli import _fail, accounts_group, pdpa_group
from idp.db import db


@accounts_group.command("unlink-identity")
@click.argument("email")
@click.option("--reason", required=True, help="Why (audited).")
@with_appcontext
def accounts_unlink_identity(email, reason):
    """Unbind the verified person from an account: drops staff status, ends its sessions
    (back-channel logout), revokes its tokens; the account is temporary again."""
    from idp.accounts.service import find_by_email
    from idp.verification.binding import NothingToUnlink, unlink_identity

    user = find_by_email(email)
    if user is None or len(reason.strip()) < 3:
        _fail([f"no account {email!r}" if user is None else "please give the reason"])
    try:
        report = unlink_identity(user, reason=reason.strip())
    except NothingToUnlink:
        _fail([f"{email!r} has no verified identity to unlink"])
    db.session.commit()
    click.echo(f"unlinked the identity of {user.sub}: {report.sessions_ended} session(s) ended"
               + (", staff status revoked" if report.staff_revoked else ""))


@pdpa_group.command("remask")
@with_appcontext
def pdpa_remask():
    """Rebuild every stored citizen-ID mask from the ciphertext (last 4 digits only)."""
    from idp.accounts.models import User
    from idp.accounts.pdpa import vault
    from idp.verification.citizen_id import mask_citizen_id

    users = db.session.execute(db.select(User).where(User.citizen_id_encrypted.is_not(None))).scalars()
    changed = 0
    for user in users:
        mask = mask_citizen_id(vault().decrypt(user.citizen_id_encrypted))
        changed += user.citizen_id_masked != mask
        user.citizen_id_masked = mask
    db.session.commit()
    click.echo(f"rebuilt {changed} mask(s)")


@click.group("verification", help="Identity checks with DOPA.")
def verification_group():
    pass


@verification_group.command("reset-attempts")
@with_appcontext
def verification_reset_attempts():
    """Give a citizen ID its attempt budget back; the ID is read from a prompt or standard input."""
    from idp.verification.citizen_id import is_valid_citizen_id, normalize_citizen_id
    from idp.verification.service import reset_attempts

    citizen_id = normalize_citizen_id(click.prompt("Citizen ID", hide_input=True, err=True))
    if not is_valid_citizen_id(citizen_id):
        _fail(["that is not a valid 13-digit citizen ID"])
    reset_attempts(citizen_id)
    click.echo("the attempt budget of that citizen ID is reset")
