"""``moc-idp keys import`` and ``moc-idp keys export``: the keys folder as an import/export
path for keys kept in the database (``[OIDC] KEY_STORE = "database"``)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from idp.cli import keys_group
from idp.oidc.keys import SigningKey


def _folder(given: str | None) -> Path:
    return Path(given or current_app.config["OIDC"]["KEYS_DIR"])


def _database_store():
    from idp.oidc.key_table import DatabaseKeyStore
    from idp.oidc.server import key_store

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
