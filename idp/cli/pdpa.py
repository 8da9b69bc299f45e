"""``moc-idp pdpa``: the keys that protect citizen IDs, and the stored masks."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from idp.accounts.pdpa import generate_key
from idp.verification import identity


@click.group("pdpa")
def pdpa_group():
    """Keys that protect citizen IDs."""


@pdpa_group.command("generate-key")
def pdpa_generate_key():
    """Print a new random key for [PDPA] ENCRYPTION_KEYS or HMAC_KEY."""
    click.echo(generate_key())


@pdpa_group.command("remask")
@with_appcontext
def pdpa_remask():
    """Rebuild every stored citizen-ID mask from the ciphertext (last 4 digits only)."""
    changed = identity.rebuild_masks()
    click.echo(f"rebuilt {changed} mask(s)")
