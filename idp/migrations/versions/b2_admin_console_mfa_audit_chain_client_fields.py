"""admin console: MFA credentials and recovery codes, step-up state on sessions, the audit hash
chain (with its head row), client description fields

Revision ID: b2_admin_console
Revises: 90c57f7be69e
Create Date: 2026-12-02 13:36:22.141223

"""
import hashlib
import json
from datetime import UTC

import sqlalchemy as sa
from alembic import op

import idp.db

# revision identifiers, used by Alembic.
revision = 'b2_admin_console'
down_revision = '90c57f7be69e'
branch_labels = None
depends_on = None

GENESIS = "0" * 64
HASHED_FIELDS = ("tag", "at", "actor_id", "subject_id", "client_id", "ip", "user_agent", "details")


def _link_hash(prev_hash, row):
    """A frozen copy of idp.audit_chain.link_hash: the chain's format never changes."""
    fields = {name: getattr(row, name) for name in HASHED_FIELDS}
    fields["at"] = fields["at"].astimezone(UTC).isoformat(timespec="microseconds")
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(prev_hash.encode() + b"\n" + canonical.encode()).hexdigest()


def _chain_existing_events():
    """Chain the events recorded before this revision, oldest first, and write the head."""
    events = sa.table(
        "audit_events", sa.column("id", sa.Integer), sa.column("tag", sa.String),
        sa.column("at", idp.db.UtcDateTime()), sa.column("actor_id", sa.Integer),
        sa.column("subject_id", sa.Integer), sa.column("client_id", sa.String),
        sa.column("ip", sa.String), sa.column("user_agent", sa.String),
        sa.column("details", sa.JSON), sa.column("prev_hash", sa.String), sa.column("hash", sa.String),
    )
    head = sa.table("audit_chain_head", sa.column("id", sa.Integer),
                    sa.column("last_hash", sa.String), sa.column("last_event_id", sa.Integer))
    connection = op.get_bind()
    previous, last_id = GENESIS, None
    for row in connection.execute(sa.select(events).order_by(events.c.id)).all():
        link = _link_hash(previous, row)
        connection.execute(events.update().where(events.c.id == row.id)
                           .values(prev_hash=previous, hash=link))
        previous, last_id = link, row.id
    connection.execute(head.insert().values(id=1, last_hash=previous, last_event_id=last_id))


def upgrade():
    op.create_table('audit_chain_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.Column('last_event_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_chain_head'))
    )
    op.create_table('mfa_recovery_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', idp.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('used_at', idp.db.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_mfa_recovery_codes_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mfa_recovery_codes')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_mfa_recovery_codes_code_hash'))
    )
    with op.batch_alter_table('mfa_recovery_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mfa_recovery_codes_user_id'), ['user_id'], unique=False)

    op.create_table('mfa_totp_credentials',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('secret_encrypted', sa.String(length=200), nullable=False),
    sa.Column('created_at', idp.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('confirmed_at', idp.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('last_used_step', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_mfa_totp_credentials_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mfa_totp_credentials')),
    sa.UniqueConstraint('user_id', name=op.f('uq_mfa_totp_credentials_user_id'))
    )
    # Nullable first, filled for the events already there, then required.
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('hash', sa.String(length=64), nullable=True))
    _chain_existing_events()
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('hash', existing_type=sa.String(length=64), nullable=False)

    with op.batch_alter_table('login_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mfa_at', idp.db.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('admin_seen_at', idp.db.UtcDateTime(timezone=True), nullable=True))

    with op.batch_alter_table('oauth_clients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('logo_uri', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('client_uri', sa.String(length=500), nullable=True))


def downgrade():
    with op.batch_alter_table('oauth_clients', schema=None) as batch_op:
        batch_op.drop_column('client_uri')
        batch_op.drop_column('logo_uri')

    with op.batch_alter_table('login_sessions', schema=None) as batch_op:
        batch_op.drop_column('admin_seen_at')
        batch_op.drop_column('mfa_at')

    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')

    op.drop_table('mfa_totp_credentials')
    with op.batch_alter_table('mfa_recovery_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mfa_recovery_codes_user_id'))

    op.drop_table('mfa_recovery_codes')
    op.drop_table('audit_chain_head')
