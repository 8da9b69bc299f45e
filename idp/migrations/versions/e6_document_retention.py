"""Documents: when a stored document was deleted (superseded, cancelled or past retention),
and at most one pending submission per member, enforced by the database.

Revision ID: e6_document_retention
Revises: d4_staff
"""

from alembic import op
import sqlalchemy as sa

import idp.db

revision = "e6_document_retention"
down_revision = "d4_staff"
branch_labels = None
depends_on = None

PENDING = sa.text("status = 'pending_review'")


def upgrade():
    with op.batch_alter_table("staff_applications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("document_deleted_at", idp.db.UtcDateTime(timezone=True),
                                      nullable=True))
    # Rows from before this rule: only the newest pending submission of a member stays pending.
    op.execute("UPDATE staff_applications SET status = 'cancelled' WHERE status = 'pending_review' "
               "AND id NOT IN (SELECT MAX(id) FROM staff_applications "
               "WHERE status = 'pending_review' GROUP BY user_id)")
    op.create_index("uq_staff_applications_one_pending", "staff_applications", ["user_id"],
                    unique=True, sqlite_where=PENDING, postgresql_where=PENDING)


def downgrade():
    op.drop_index("uq_staff_applications_one_pending", table_name="staff_applications")
    with op.batch_alter_table("staff_applications", schema=None) as batch_op:
        batch_op.drop_column("document_deleted_at")
