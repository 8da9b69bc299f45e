"""``moc-idp keys``: the signing keys, listed and rotated."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from idp.clock import now
from idp.db import db
from idp.oidc.signing import key_store, rotate_keys


@click.group("keys", help="Signing keys: list and rotate.")
def keys_group():
    pass


@keys_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def keys_list(as_json):
    store, moment = key_store(), now()
    rows = [{"kid": k.kid, "alg": k.alg, "created_at": k.created_at.isoformat(),
             "activates_at": k.activates_at.isoformat(), "state": store.state(k, moment)}
            for k in store.published(moment)]
    if as_json:
        click.echo(json.dumps(rows))
        return
    for row in rows:
        click.echo(f"{row['kid']}  {row['alg']}  {row['state']:8}  created {row['created_at']}")


@keys_group.command("rotate")
@click.option("--alg", type=click.Choice(["RS256", "ES256", "all"]), default="all")
@click.option("--now", "immediately", is_flag=True,
              help="Sign with the new key at once (for a key that may have leaked).")
@with_appcontext
def keys_rotate(alg, immediately):
    """Publish a new key now; it signs after the configured delay; old keys retire later."""
    for key in rotate_keys(alg, immediately=immediately):
        click.echo(f"published {key.kid} ({key.alg}); signs from {key.activates_at.isoformat()}")
    db.session.commit()  # the audit event
