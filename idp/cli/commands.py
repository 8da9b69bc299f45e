"""Every ``moc-idp`` command group, added to an app's CLI by the factory."""

from __future__ import annotations

from flask import Flask

from idp.cli import accounts, audit, clients, documents, keys, mail, pdpa, staff, users, verification

GROUPS = (
    accounts.accounts_group, pdpa.pdpa_group, staff.staff_group, clients.clients_group,
    users.users_group, keys.keys_group, mail.mail_group, audit.audit_group,
    verification.verification_group, documents.documents_group,
)


def init_app(app: Flask) -> None:
    """Add every command group to ``app.cli``."""
    for group in GROUPS:
        app.cli.add_command(group)
