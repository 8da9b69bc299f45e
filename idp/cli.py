"""``moc-idp``: the Flask CLI of the app, with the commands admins automate with."""

from __future__ import annotations

import json
import sys

import click
from flask import Flask
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
    app.cli.add_command(accounts_group)
    app.cli.add_command(pdpa_group)
    app.cli.add_command(staff_group)
    app.cli.add_command(clients_group)
    app.cli.add_command(users_group)
    app.cli.add_command(keys_group)
    app.cli.add_command(mail_group)
    from idp import cli_admin  # adds its commands to clients_group

    app.cli.add_command(cli_admin.audit_group)
    from idp import cli_identity  # adds to accounts_group and pdpa_group

    app.cli.add_command(cli_identity.verification_group)
    from idp.cli_documents import documents_group

    app.cli.add_command(documents_group)
    from idp import cli_keys  # noqa: F401 (adds keys import and export to keys_group)


def _fail(problems: list[str]):
    for problem in problems:
        click.echo(f"error: {problem}", err=True)
    sys.exit(2)


# --- clients ------------------------------------------------------------------------------

@click.group("clients", help="Register and manage OAuth clients.")
def clients_group():
    pass


# `clients create`, `update`, `show`, `enable`, `delete` are in idp/cli_admin.py.


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
    from idp.oidc.signing import rotate_keys

    for key in rotate_keys(alg, immediately=immediately):
        click.echo(f"published {key.kid} ({key.alg}); signs from {key.activates_at.isoformat()}")
    db.session.commit()  # the audit event


# --- mail ---------------------------------------------------------------------------------

@click.group("mail", help="The mail outbox (for cron).")
def mail_group():
    pass


@mail_group.command("send-pending")
@with_appcontext
def mail_send_pending():
    """Send every mail whose time has come (after a restart, or retries); safe to run often."""
    from idp.outbox import send_pending

    click.echo(f"sent {send_pending()} mail(s)")


# --- accounts and personal data -----------------------------------------------------------

@click.group("accounts", help="Member accounts: jobs for cron, and sign-in unlock.")
def accounts_group():
    pass


@accounts_group.command("remind-expiring")
@with_appcontext
def accounts_remind_expiring():
    """Mail members whose temporary membership expires soon; safe to run as often as you like."""
    from idp.accounts.reminders import remind_expiring

    click.echo(f"sent {remind_expiring()} reminder(s)")


@accounts_group.command("unlock")
@click.argument("email")
@click.option("--reason", default="", help="Why (kept in the audit log).")
@with_appcontext
def accounts_unlock(email, reason):
    """Clear the sign-in throttles of the account with EMAIL (audited)."""
    from idp import audit
    from idp.accounts.service import find_by_email
    from idp.accounts.sign_in import unlock_sign_in

    user = find_by_email(email)
    if user is None:
        _fail([f"no account has the email {email!r}"])
    unlock_sign_in(user)
    audit.record("admin:account:sign_in_unlocked", subject=user,
                 details={"reason": reason.strip(), "via": "cli"})
    db.session.commit()
    click.echo(f"sign-in unlocked for {user.sub}")


@click.group("pdpa", help="Keys that protect citizen IDs.")
def pdpa_group():
    pass


@pdpa_group.command("generate-key")
def pdpa_generate_key():
    """Print a new random key for [PDPA] ENCRYPTION_KEYS or HMAC_KEY."""
    from idp.accounts.pdpa import generate_key

    click.echo(generate_key())


# --- staff status ---------------------------------------------------------------------------

@click.group("staff", help="MOC personnel status: re-checks and revocation.")
def staff_group():
    pass


@staff_group.command("reverify")
@with_appcontext
def staff_reverify():
    """Re-check members verified by AD or DPIS (for cron); a source that is down changes nothing."""
    from idp.verification.staff import reverify_all

    report = reverify_all()
    click.echo(f"checked {report.checked}: kept {report.kept}, revoked {report.revoked}, "
               f"unchanged because a source was down {report.unchanged_source_down}")


@staff_group.command("revoke")
@click.option("--email", required=True)
@click.option("--reason", required=True)
@with_appcontext
def staff_revoke(email, reason):
    """Take staff status away from a member, with a reason (audited, mailed)."""
    from idp.accounts.service import find_by_email
    from idp.verification.notices import mail_staff_lost
    from idp.verification.staff import revoke

    user = find_by_email(email)
    if user is None or not user.is_staff:
        _fail([f"{email!r} is not verified MOC staff"])
    revoke(user, reason=reason)
    mail_staff_lost(user)
    db.session.commit()
    click.echo(f"revoked the staff status of {user.sub}")


# --- the production server ----------------------------------------------------------------

@main.command("serve", with_appcontext=False)
@click.option("--host", help="Address to listen on ([SERVER] HOST).")
@click.option("--port", type=int, help="Port to listen on ([SERVER] PORT).")
@click.option("--workers", type=int, help="Worker processes, about one per core ([SERVER] WORKERS).")
@click.option("--threads", type=int, help="Threads per worker; more than 1 uses gthread ([SERVER] THREADS).")
def serve(host, port, workers, threads):
    """Run the IdP under its production server (gunicorn); SIGTERM stops it gracefully."""
    from idp.gunicorn_config import prepare_metrics_folder, settings
    from idp.server_app import ProductionServer

    prepare_metrics_folder()  # before the app (and prometheus-client) is first imported
    _create_app()  # an unsafe configuration is refused here, before any worker starts
    ProductionServer(settings(host, port, workers, threads)).run()
