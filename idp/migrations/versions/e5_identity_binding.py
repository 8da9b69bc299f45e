"""Citizen-ID masks show at most the last 4 digits: rewrite the old six-digit masks.

The old mask (``1-1017-xxxxx-xx-8``) kept the first five digits and the last one. The full ID
is only in the ciphertext, which needs the PDPA keys a migration does not hold, so the old masks
are cut down to what they may show and already hold: the last digit (``x-xxxx-xxxxx-xx-8``).
``moc-idp pdpa remask`` (run with the keys) then rebuilds every mask with its last 4 digits;
a member who verifies again gets the full new mask as well. No schema change.

Revision ID: e5_identity_binding
Revises: d4_staff
"""

from alembic import op

revision = "e5_identity_binding"
down_revision = "d4_staff"
branch_labels = None
depends_on = None

OLD_MASK = "_-____-xxxxx-xx-_"  # LIKE pattern: digit, four digits, the masked middle, digit


def upgrade():
    op.execute(
        "UPDATE users SET citizen_id_masked = 'x-xxxx-xxxxx-xx-' || substr(citizen_id_masked, 17, 1) "
        f"WHERE citizen_id_masked LIKE '{OLD_MASK}' AND citizen_id_masked NOT LIKE 'x-%'"
    )


def downgrade():
    # The digits the old mask showed are not restored: showing them was the problem.
    pass
