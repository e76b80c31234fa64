"""account session version; index of audit events by action and time

Revision ID: 0004_i16a
Revises: 0004_i13
Create Date: 2026-11-24 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0004_i16a'
down_revision = '0004_i13'
branch_labels = None
depends_on = None


def upgrade() -> None:

    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), nullable=False, server_default=sa.text('0')))

    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index('ix_audit_event_action_at', ['action', 'at'], unique=False)


def downgrade() -> None:

    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_action_at')

    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.drop_column('session_version')
