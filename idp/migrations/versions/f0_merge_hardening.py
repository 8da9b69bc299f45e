"""Merges the hardening revisions: identity binding, document retention, sign-in guard, mail
outbox, pending authorization requests and the audit sealer. No schema change of its own.

Revision ID: f0_merge_hardening
Revises: e5_identity_binding, e6_document_retention, e7_sign_in_guard, e8_mail_outbox,
         ea_pending_authorization, eb_speed
"""

revision = "f0_merge_hardening"
down_revision = ("e5_identity_binding", "e6_document_retention", "e7_sign_in_guard",
                 "e8_mail_outbox", "ea_pending_authorization", "eb_speed")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
