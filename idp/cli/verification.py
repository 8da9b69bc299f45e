"""``moc-idp verification reset-attempts``: a citizen ID's identity-check budget.

A citizen ID is never an argument: argv shows in every process list, so it is read from a
prompt (or standard input) instead.
"""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from idp.cli.common import fail
from idp.verification.citizen_id import is_valid_citizen_id, normalize_citizen_id
from idp.verification.identity import reset_attempts


@click.group("verification")
def verification_group():
    """Identity checks with DOPA."""


@verification_group.command("reset-attempts")
@with_appcontext
def verification_reset_attempts():
    """Give a citizen ID its attempt budget back; the ID is read from a prompt or standard input."""
    citizen_id = normalize_citizen_id(click.prompt("Citizen ID", hide_input=True, err=True))
    if not is_valid_citizen_id(citizen_id):
        fail(["that is not a valid 13-digit citizen ID"])
    reset_attempts(citizen_id)
    click.echo("the attempt budget of that citizen ID is reset")
