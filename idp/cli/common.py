"""What the command groups share: failing with a clear message, finding a named account or
client."""

from __future__ import annotations

import sys

import click

from idp.accounts.models import User
from idp.accounts.service import find_by_email
from idp.oidc.clients import find_client


def fail(problems: list[str]):
    """Print each problem on stderr and exit with status 2 (a usage error)."""
    for problem in problems:
        click.echo(f"error: {problem}", err=True)
    sys.exit(2)


def account_or_fail(email: str) -> User:
    """The account with ``email``, or exit with an error."""
    user = find_by_email(email)
    if user is None:
        fail([f"no account has the email {email!r}"])
    return user


def client_or_fail(client_id):
    """The client named ``client_id``, or exit with an error."""
    client = find_client(client_id)
    if client is None:
        fail([f"no client {client_id!r}"])
    return client
