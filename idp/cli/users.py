"""``moc-idp users create``: accounts from the command line."""

from __future__ import annotations

import json
import sys

import click
from flask.cli import with_appcontext

from idp.accounts.service import EmailTaken, create_user
from idp.cli.common import fail
from idp.db import db


@click.group("users")
def users_group():
    """Create accounts from the command line."""


@users_group.command("create")
@click.option("--email", required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--given-name")
@click.option("--family-name")
@click.option("--permanent", is_flag=True, help="No expiry (otherwise temporary, 60 days).")
@click.option("--admin", is_flag=True, help="Give the admin role.")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def users_create(email, password_stdin, given_name, family_name, permanent, admin, as_json):
    """Create an account (temporary unless ``--permanent`` or ``--admin``); prints its ``sub``."""
    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    if password_stdin and len(password) < 8:
        fail(["the password must have at least 8 characters"])
    try:
        user = create_user(email, password, permanent=permanent or admin,
                           given_name_th=given_name, family_name_th=family_name)
    except EmailTaken:
        fail([f"an account with the email {email!r} already exists"])
    if admin:
        user.roles = ["admin"]
    db.session.commit()
    click.echo(json.dumps({"sub": user.sub, "email": user.email}) if as_json else f"sub: {user.sub}")
