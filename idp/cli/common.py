"""What the command groups share: failing with a clear message, finding a named client."""

from __future__ import annotations

import sys

import click

from idp.oidc.clients import find_client


def fail(problems: list[str]):
    """Print each problem on stderr and exit with status 2 (a usage error)."""
    for problem in problems:
        click.echo(f"error: {problem}", err=True)
    sys.exit(2)


def client_or_fail(client_id):
    """The client named ``client_id``, or exit with an error."""
    client = find_client(client_id)
    if client is None:
        fail([f"no client {client_id!r}"])
    return client
