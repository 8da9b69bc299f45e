"""``moc-idp clients create|update|show|enable|delete`` and ``moc-idp audit verify``: what the
admin console does to clients, from the command line, on the same services."""

from __future__ import annotations

import json
import sys

import click
from flask.cli import with_appcontext

from idp.cli import _client_or_fail, _fail, clients_group
from idp.db import db


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
    from idp.oidc.clients import relying_party_config

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
    from idp.oidc.clients import DEFAULT_SCOPE, InvalidClientSettings, create_client

    given = _given(settings)
    if "name" not in given:
        _fail(["--name is required"])
    try:
        registered = create_client(
            given.pop("name"), given.pop("redirect_uris", []),
            auth_method=given.pop("token_endpoint_auth_method", "client_secret_basic"),
            scope=given.pop("scope", DEFAULT_SCOPE), grant_types=given.pop("grant_types", None),
            **given)
    except InvalidClientSettings as error:
        _fail(error.problems)
    db.session.commit()
    _print_secret(registered.client, registered.client_secret, as_json)


@clients_group.command("update")
@click.argument("client_id")
@client_options
@with_appcontext
def clients_update(client_id, as_json, **settings):
    """Change the given settings of a client; the others stay as they are."""
    from idp.oidc.clients import InvalidClientSettings, update_client

    try:
        updated = update_client(_client_or_fail(client_id), **_given(settings))
    except InvalidClientSettings as error:
        _fail(error.problems)
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
    from idp.oidc.clients import relying_party_config

    config = relying_party_config(_client_or_fail(client_id))
    click.echo(json.dumps({"discovery_url": config.discovery_url, **config.settings}, indent=2,
                          ensure_ascii=False))


@clients_group.command("enable")
@click.argument("client_id")
@with_appcontext
def clients_enable(client_id):
    """Let a disabled client sign people in again."""
    from idp.oidc.clients import enable_client

    enable_client(_client_or_fail(client_id))
    db.session.commit()
    click.echo(f"enabled {client_id}")


@clients_group.command("delete")
@click.argument("client_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def clients_delete(client_id, yes):
    """Delete a client with its tokens, codes and consents (disable it to stop it for a while)."""
    from idp.oidc.clients import delete_client

    client = _client_or_fail(client_id)
    if not yes:
        click.confirm(f"Delete {client.name!r} ({client_id}) for good?", abort=True)
    delete_client(client)
    db.session.commit()
    click.echo(f"deleted {client_id}")


# --- audit --------------------------------------------------------------------------------

@click.group("audit", help="The audit log.")
def audit_group():
    pass


@audit_group.command("seal")
@with_appcontext
def audit_seal():
    """Link the events recorded since the last seal into the hash chain (a cron job may run
    this; each process also seals in the background unless [AUDIT] SEAL_IN_BACKGROUND = false)."""
    from flask import current_app

    from idp.audit_chain import seal

    sealed = seal(db.session, current_app.config["AUDIT"]["SEAL_BATCH_SIZE"])
    click.echo(f"sealed {sealed} events")


@audit_group.command("verify")
@with_appcontext
def audit_verify():
    """Seal what is waiting, walk the hash chain; exit 1 naming the first event that does not
    fit, else 0."""
    from idp.audit_chain import verify_chain

    report = verify_chain()
    if report.ok:
        click.echo(f"OK: {report.checked} events, chain head {report.head_hash}")
        return
    click.echo(f"BROKEN at event {report.broken_event_id}: {report.problem} "
               f"({report.checked} events before it are intact)", err=True)
    sys.exit(1)
