"""The mail outbox (mail written with what it announces, sent after the response), and the
password-reset generation that makes a newer reset link invalidate the older ones.

Revision ID: e8_mail_outbox
Revises: d4_staff
"""

from alembic import op
import sqlalchemy as sa

import idp.db

revision = "e8_mail_outbox"
down_revision = "d4_staff"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "mail_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("template", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", idp.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", idp.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", idp.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("sent_at", idp.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_outbox")),
    )
    with op.batch_alter_table("mail_outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mail_outbox_status"), ["status"], unique=False)
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("password_reset_generation", sa.Integer(), server_default="0",
                                      nullable=False))


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("password_reset_generation")
    with op.batch_alter_table("mail_outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mail_outbox_status"))
    op.drop_table("mail_outbox")
