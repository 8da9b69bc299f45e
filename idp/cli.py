"""``moc-idp``: the Flask CLI of the app, with the commands admins automate with."""

from __future__ import annotations

import json
import sys
from datetime import timedelta

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from idp.db import db


def _create_app(*_args, **_kwargs):
    from idp import create_app

    # The CLI must start without keys so that `moc-idp keys rotate` can create the first ones;
    # every other production check still applies.
    return create_app({"REQUIRE_KEYS": False})


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False)
def main():
    """MOC Account identity provider."""


def init_app(app: Flask) -> None:
    app.cli.add_command(clients_group)
    app.cli.add_command(users_group)
    app.cli.add_command(keys_group)


def _fail(problems: list[str]):
    for problem in problems:
        click.echo(f"error: {problem}", err=True)
    sys.exit(2)


# --- clients ------------------------------------------------------------------------------

@click.group("clients", help="Register and manage OAuth clients.")
def clients_group():
    pass


@clients_group.command("create")
@click.option("--name", required=True)
@click.option("--redirect-uri", "redirect_uris", multiple=True, required=True)
@click.option("--post-logout-redirect-uri", "post_logout", multiple=True)
@click.option("--backchannel-logout-uri")
@click.option("--auth-method", default="client_secret_basic",
              type=click.Choice(["client_secret_basic", "client_secret_post", "none"]))
@click.option("--scope", default="openid profile email moc offline_access", show_default=True)
@click.option("--trusted", is_flag=True, help="First-party client: skip the consent page.")
@click.option("--require-pkce", is_flag=True)
@click.option("--staff-only", is_flag=True)
@click.option("--permanent-only", is_flag=True)
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def clients_create(name, redirect_uris, post_logout, backchannel_logout_uri, auth_method, scope,
                   trusted, require_pkce, staff_only, permanent_only, as_json):
    """Register a client; prints its id and, once, its secret."""
    from idp.oidc.clients import InvalidClientSettings, create_client

    try:
        registered = create_client(
            name, list(redirect_uris), post_logout_redirect_uris=list(post_logout),
            backchannel_logout_uri=backchannel_logout_uri, auth_method=auth_method, scope=scope,
            trusted=trusted, require_pkce=require_pkce, staff_only=staff_only,
            permanent_only=permanent_only,
        )
    except InvalidClientSettings as error:
        _fail(error.problems)
    db.session.commit()
    client, secret = registered.client, registered.client_secret
    if as_json:
        click.echo(json.dumps({"client_id": client.client_id, "client_secret": secret}))
        return
    click.echo(f"client_id:     {client.client_id}")
    if secret:
        click.echo(f"client_secret: {secret}")
        click.echo("The secret is shown only now; it is stored hashed.")
    click.echo(f"discovery:     {current_app.config['ISSUER'].rstrip('/')}/.well-known/openid-configuration")


@clients_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def clients_list(as_json):
    from idp.oidc.clients import list_clients

    rows = [
        {"client_id": c.client_id, "name": c.name, "auth_method": c.token_endpoint_auth_method,
         "redirect_uris": c.redirect_uris, "trusted": c.trusted,
         "disabled": c.disabled_at is not None}
        for c in list_clients()
    ]
    if as_json:
        click.echo(json.dumps(rows))
        return
    for row in rows:
        state = "disabled" if row["disabled"] else "active"
        click.echo(f"{row['client_id']}  {state:8}  {row['auth_method']:19}  {row['name']}")


def _client_or_fail(client_id):
    from idp.oidc.clients import find_client

    client = find_client(client_id)
    if client is None:
        _fail([f"no client {client_id!r}"])
    return client


@clients_group.command("rotate-secret")
@click.argument("client_id")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def clients_rotate_secret(client_id, as_json):
    """Issue a new secret (shown once); the old one stops working at once."""
    from idp.oidc.clients import InvalidClientSettings, rotate_secret

    try:
        secret = rotate_secret(_client_or_fail(client_id))
    except InvalidClientSettings as error:
        _fail(error.problems)
    db.session.commit()
    click.echo(json.dumps({"client_id": client_id, "client_secret": secret}) if as_json
               else f"client_secret: {secret}")


@clients_group.command("disable")
@click.argument("client_id")
@with_appcontext
def clients_disable(client_id):
    """Disable a client and revoke every token it holds."""
    from idp.oidc.clients import disable_client

    disable_client(_client_or_fail(client_id))
    db.session.commit()
    click.echo(f"disabled {client_id}")


# --- users --------------------------------------------------------------------------------

@click.group("users", help="Create accounts from the command line.")
def users_group():
    pass


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
    from idp.accounts.service import EmailTaken, create_user

    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    if password_stdin and len(password) < 8:
        _fail(["the password must have at least 8 characters"])
    try:
        user = create_user(email, password, permanent=permanent or admin,
                           given_name_th=given_name, family_name_th=family_name)
    except EmailTaken:
        _fail([f"an account with the email {email!r} already exists"])
    if admin:
        user.roles = ["admin"]
    db.session.commit()
    click.echo(json.dumps({"sub": user.sub, "email": user.email}) if as_json else f"sub: {user.sub}")


# --- keys ---------------------------------------------------------------------------------

@click.group("keys", help="Signing keys: list and rotate.")
def keys_group():
    pass


@keys_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def keys_list(as_json):
    from idp.clock import now
    from idp.oidc.server import key_store

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
    from idp.clock import now
    from idp.oidc.keys import SUPPORTED_ALGS
    from idp.oidc.server import key_store

    settings = current_app.config["OIDC"]
    delay = timedelta(seconds=0 if immediately else settings["KEY_ACTIVATION_DELAY_SECONDS"])
    lifetime = timedelta(seconds=max(settings["ID_TOKEN_LIFETIME_SECONDS"],
                                     settings["ACCESS_TOKEN_LIFETIME_SECONDS"]))
    for name in SUPPORTED_ALGS if alg == "all" else (alg,):
        key = key_store().rotate(name, now(), delay, lifetime)
        click.echo(f"published {key.kid} ({name}); signs from {key.activates_at.isoformat()}")
