"""``moc-idp keys``: the signing keys, listed and rotated."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from idp.clock import now
from idp.db import db
from idp.oidc.key_table import DatabaseKeyStore
from idp.oidc.keys import SigningKey
from idp.oidc.signing import key_store, rotate_keys


@click.group("keys")
def keys_group():
    """Signing keys: list, rotate, import and export."""


@keys_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def keys_list(as_json):
    """List the published signing keys and their state (``--json`` for a machine-readable list)."""
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


def _folder(given: str | None) -> Path:
    return Path(given or current_app.config["OIDC"]["KEYS_DIR"])


def _database_store():
    store = key_store()
    if not isinstance(store, DatabaseKeyStore):
        raise click.ClickException('[OIDC] KEY_STORE is not "database": the keys are in the folder')
    return store


@keys_group.command("import")
@click.option("--folder", help="Key files to import ([OIDC] KEYS_DIR by default).")
@with_appcontext
def keys_import(folder):
    """Store the folder's key files in the database (keys already stored are left alone)."""
    store, source = _database_store(), _folder(folder)
    imported = 0
    for path in sorted(source.glob("*.json")):
        key = SigningKey.from_file(json.loads(path.read_text()))
        if store.import_key(key):
            imported += 1
            click.echo(f"imported {key.kid} ({key.alg})")
    click.echo(f"imported {imported} key(s) from {source}")


@keys_group.command("export")
@click.option("--folder", help="Where to write the key files ([OIDC] KEYS_DIR by default).")
@with_appcontext
def keys_export(folder):
    """Write the database's keys as key files (private keys: readable by the owner only)."""
    store, target = _database_store(), _folder(folder)
    target.mkdir(parents=True, exist_ok=True, mode=0o700)
    for key in store.keys():
        path = target / f"{key.kid}.json"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(key.to_file(), handle, indent=2)
        click.echo(f"exported {key.kid} ({key.alg})")
