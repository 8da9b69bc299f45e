"""Signing keys in the database ([OIDC] KEY_STORE = "database"): the private JWK encrypted with
a key-encryption key from the configuration. Existing key files are imported with
`moc-idp keys import` (a migration has no key-encryption key to seal them with).

Revision ID: f1_signing_keys
Revises: f0_merge_hardening
"""

from alembic import op
import sqlalchemy as sa

import idp.db

revision = "f1_signing_keys"
down_revision = "f0_merge_hardening"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "signing_keys",
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("alg", sa.String(length=10), nullable=False),
        sa.Column("created_at", idp.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("activates_at", idp.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("retires_at", idp.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("private_jwk_encrypted", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("kid", name=op.f("pk_signing_keys")),
    )


def downgrade():
    op.drop_table("signing_keys")
