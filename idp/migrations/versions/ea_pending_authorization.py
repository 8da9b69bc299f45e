"""Pending authorization requests kept server-side; room for a nonce of up to 2048 characters.

Revision ID: ea_pending_authorization
Revises: d4_staff
"""

from alembic import op
import sqlalchemy as sa

import idp.db

revision = "ea_pending_authorization"
down_revision = "d4_staff"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "oidc_pending_authorizations",
        sa.Column("id", sa.String(length=43), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("started_at", idp.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", idp.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oidc_pending_authorizations")),
    )
    with op.batch_alter_table("oidc_pending_authorizations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oidc_pending_authorizations_expires_at"), ["expires_at"],
                              unique=False)
    with op.batch_alter_table("oauth_authorization_codes", schema=None) as batch_op:
        batch_op.alter_column("nonce", existing_type=sa.String(length=500),
                              type_=sa.String(length=2048), existing_nullable=True)


def downgrade():
    with op.batch_alter_table("oauth_authorization_codes", schema=None) as batch_op:
        batch_op.alter_column("nonce", existing_type=sa.String(length=2048),
                              type_=sa.String(length=500), existing_nullable=True)
    with op.batch_alter_table("oidc_pending_authorizations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oidc_pending_authorizations_expires_at"))
    op.drop_table("oidc_pending_authorizations")
