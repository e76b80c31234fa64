"""delivery: kind and claim owner (delivery under faults, issue 13)

A message is ``reminders`` (composed from outbox lines just before it is sent) or ``message``
(ready-made, e.g. the weekly digest); ``claimed_by`` names the delivery run that holds its
claim, so only that run can start or record it.

Revision ID: 0004_i13
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa


revision = '0004_i13'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('kind', sa.String(length=16), nullable=False, server_default='reminders')
        )
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=36), nullable=True))
    # ready-made messages so far were the digests, queued with a key of their own
    op.execute("UPDATE delivery SET kind = 'message' WHERE key LIKE 'digest:%'")


def downgrade() -> None:
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.drop_column('claimed_by')
        batch_op.drop_column('kind')
