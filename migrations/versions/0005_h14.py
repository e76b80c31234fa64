"""per-item event markers: overdue and completion announced at most once, from the ledger

Revision ID: 0005_h14
Revises: 0004_i16a
Create Date: 2026-11-29 23:50:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005_h14'
down_revision = '0005_h15b'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('overdue_announced_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('completed_announced_at', sa.DateTime(timezone=True), nullable=True))
    # what the audit cursor already covered is not announced again: every item done so far
    op.execute("UPDATE item SET completed_announced_at = completed_at WHERE status = 'done'")
    op.execute(
        "UPDATE item SET overdue_announced_at = (SELECT MIN(created_at) FROM outbox "
        "WHERE outbox.item_id = item.id AND outbox.kind LIKE 'escalate:%')"
    )


def downgrade() -> None:
    with op.batch_alter_table('item', schema=None) as batch_op:
        batch_op.drop_column('completed_announced_at')
        batch_op.drop_column('overdue_announced_at')
