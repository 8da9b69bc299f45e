"""``moc-idp clients``: register and manage OAuth clients, on the services the console uses."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from idp.cli.common import client_or_fail, fail
from idp.db import db
from idp.oidc.clients import (
    DEFAULT_SCOPE,
    InvalidClientSettings,
    create_client,
    delete_client,
    disable_client,
    enable_client,
    list_clients,
    relying_party_config,
    rotate_secret,
    update_client,
)


@click.group("clients")
def clients_group():
    """Register and manage OAuth clients."""


@clients_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def clients_list(as_json):
    """List the registered clients (``--json`` for a machine-readable list)."""
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


@clients_group.command("rotate-secret")
@click.argument("client_id")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def clients_rotate_secret(client_id, as_json):
    """Issue a new secret (shown once); the old one stops working at once."""
    try:
        secret = rotate_secret(client_or_fail(client_id))
    except InvalidClientSettings as error:
        fail(error.problems)
    db.session.commit()
    click.echo(json.dumps({"client_id": client_id, "client_secret": secret}) if as_json
               else f"client_secret: {secret}")


@clients_group.command("disable")
@click.argument("client_id")
@with_appcontext
def clients_disable(client_id):
    """Disable a client and revoke every token it holds."""
    disable_client(client_or_fail(client_id))
    db.session.commit()
    click.echo(f"disabled {client_id}")


def _lifetime(name):
    return click.option(f"--{name}-token-lifetime", f"{name}_token_lifetime", type=click.IntRange(60),
                        help=f"{name.capitalize()} token lifetime in seconds (shorter than the server's).")


def _flag(name, help_text):
    """``--NAME/--no-NAME``; unset (None) leaves the setting as it is on update."""
    return click.option(f"--{name}/--no-{name}", name.replace("-", "_"), default=None, help=help_text)


def client_options(command):
    """Options shared by create and update; on update an option left out changes nothing, and a
    repeated option (redirect URIs, grant types) replaces the whole list."""
    options = [
        click.option("--name"),
        click.option("--description"),
        click.option("--logo-uri"),
        click.option("--client-uri", help="The service's home page."),
        click.option("--redirect-uri", "redirect_uris", multiple=True),
        click.option("--post-logout-redirect-uri", "post_logout_redirect_uris", multiple=True),
        click.option("--backchannel-logout-uri"),
        click.option("--auth-method", "token_endpoint_auth_method",
                     type=click.Choice(["client_secret_basic", "client_secret_post", "none"])),
        click.option("--scope", help="Allowed scopes, space-separated."),
        click.option("--grant-type", "grant_types", multiple=True,
                     type=click.Choice(["authorization_code", "refresh_token", "client_credentials"]),
                     help="Repeat for several; client_credentials makes a service client."),
        _flag("trusted", "First-party client: skip the consent page."),
        _flag("require-pkce", "Require PKCE of a confidential client (public ones always)."),
        _flag("staff-only", "Only verified MOC staff may sign in."),
        _flag("permanent-only", "Only permanent members may sign in."),
        _lifetime("access"), _lifetime("id"), _lifetime("refresh"),
        click.option("--json", "as_json", is_flag=True),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _given(settings: dict) -> dict:
    """The options that were given: None and empty repeated options are left out."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in settings.items()
            if v is not None and v != ()}


def _print_secret(client, secret, as_json, **extra):
    discovery = relying_party_config(client).discovery_url
    if as_json:
        click.echo(json.dumps({"client_id": client.client_id, "client_secret": secret,
                               "discovery_url": discovery, **extra}))
        return
    click.echo(f"client_id:     {client.client_id}")
    if secret:
        click.echo(f"client_secret: {secret}")
        click.echo("The secret is shown only now; it is stored hashed.")
    click.echo(f"discovery:     {discovery}")


@clients_group.command("create")
@client_options
@with_appcontext
def clients_create(as_json, **settings):
    """Register a client; prints its id and, once, its secret."""
    given = _given(settings)
    if "name" not in given:
        fail(["--name is required"])
    try:
        registered = create_client(
            given.pop("name"), given.pop("redirect_uris", []),
            auth_method=given.pop("token_endpoint_auth_method", "client_secret_basic"),
            scope=given.pop("scope", DEFAULT_SCOPE), grant_types=given.pop("grant_types", None),
            **given)
    except InvalidClientSettings as error:
        fail(error.problems)
    db.session.commit()
    _print_secret(registered.client, registered.client_secret, as_json)


@clients_group.command("update")
@click.argument("client_id")
@client_options
@with_appcontext
def clients_update(client_id, as_json, **settings):
    """Change the given settings of a client; the others stay as they are."""
    try:
        updated = update_client(client_or_fail(client_id), **_given(settings))
    except InvalidClientSettings as error:
        fail(error.problems)
    db.session.commit()
    if updated.client_secret or as_json:
        _print_secret(updated.client, updated.client_secret, as_json, changed=list(updated.changed))
    else:
        click.echo(f"updated {client_id}: {', '.join(updated.changed) or 'nothing changed'}")


@clients_group.command("show")
@click.argument("client_id")
@with_appcontext
def clients_show(client_id):
    """The client's settings, as its relying party needs them (never the secret)."""
    config = relying_party_config(client_or_fail(client_id))
    click.echo(json.dumps({"discovery_url": config.discovery_url, **config.settings}, indent=2,
                          ensure_ascii=False))


@clients_group.command("enable")
@click.argument("client_id")
@with_appcontext
def clients_enable(client_id):
    """Let a disabled client sign people in again."""
    enable_client(client_or_fail(client_id))
    db.session.commit()
    click.echo(f"enabled {client_id}")


@clients_group.command("delete")
@click.argument("client_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def clients_delete(client_id, yes):
    """Delete a client with its tokens, codes and consents (disable it to stop it for a while)."""
    client = client_or_fail(client_id)
    if not yes:
        click.confirm(f"Delete {client.name!r} ({client_id}) for good?", abort=True)
    delete_client(client)
    db.session.commit()
    click.echo(f"deleted {client_id}")
