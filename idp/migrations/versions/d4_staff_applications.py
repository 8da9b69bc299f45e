"""Staff verification: when staff status was granted, and document submissions; merges the
admin-console and documents branches.

Revision ID: d4_staff
Revises: b2_admin_console, c3_documents
"""

from alembic import op
import sqlalchemy as sa

import idp.db

revision = "d4_staff"
down_revision = ("b2_admin_console", "c3_documents")
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("staff_verified_at", idp.db.UtcDateTime(timezone=True), nullable=True))

    op.create_table(
        "staff_applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.String(length=43), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("department", sa.String(length=200), nullable=True),
        sa.Column("position", sa.String(length=200), nullable=True),
        sa.Column("submitted_at", idp.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", idp.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_staff_applications_user_id_users"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["decided_by"], ["users.id"],
                                name=op.f("fk_staff_applications_decided_by_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_applications")),
        sa.UniqueConstraint("document_id", name=op.f("uq_staff_applications_document_id")),
    )
    with op.batch_alter_table("staff_applications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_applications_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_staff_applications_status"), ["status"], unique=False)


def downgrade():
    with op.batch_alter_table("staff_applications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_applications_status"))
        batch_op.drop_index(batch_op.f("ix_staff_applications_user_id"))
    op.drop_table("staff_applications")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("staff_verified_at")
