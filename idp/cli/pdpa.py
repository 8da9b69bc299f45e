"""``moc-idp pdpa``: the keys that protect citizen IDs, and the stored masks."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from idp.accounts.models import User
from idp.accounts.pdpa import generate_key, vault
from idp.db import db
from idp.verification.citizen_id import mask_citizen_id


@click.group("pdpa", help="Keys that protect citizen IDs.")
def pdpa_group():
    pass


@pdpa_group.command("generate-key")
def pdpa_generate_key():
    """Print a new random key for [PDPA] ENCRYPTION_KEYS or HMAC_KEY."""
    click.echo(generate_key())


@pdpa_group.command("remask")
@with_appcontext
def pdpa_remask():
    """Rebuild every stored citizen-ID mask from the ciphertext (last 4 digits only)."""
    users = db.session.execute(db.select(User).where(User.citizen_id_encrypted.is_not(None))).scalars()
    changed = 0
    for user in users:
        mask = mask_citizen_id(vault().decrypt(user.citizen_id_encrypted))
        changed += user.citizen_id_masked != mask
        user.citizen_id_masked = mask
    db.session.commit()
    click.echo(f"rebuilt {changed} mask(s)")
