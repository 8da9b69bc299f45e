"""staff-verification documents kept in the database (the [DOCUMENTS] BACKEND = "database" store)

Revision ID: c3_documents
Revises: a1_signup
Create Date: 2026-12-02 14:10:00

"""
import sqlalchemy as sa
from alembic import op

import idp.db

# revision identifiers, used by Alembic.
revision = "c3_documents"
down_revision = "a1_signup"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "stored_documents",
        sa.Column("id", sa.String(length=43), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", idp.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stored_documents")),
    )


def downgrade():
    op.drop_table("stored_documents")
