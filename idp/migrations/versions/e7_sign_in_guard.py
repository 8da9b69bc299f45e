"""Sign-in guard: when an admin last cleared the account's sign-in throttles.

Revision ID: e7_sign_in_guard
Revises: d4_staff
"""

from alembic import op
import sqlalchemy as sa

import idp.db

revision = "e7_sign_in_guard"
down_revision = "d4_staff"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sign_in_unlocked_at", idp.db.UtcDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("sign_in_unlocked_at")
