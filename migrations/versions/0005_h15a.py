"""calendar snapshot: the calendar files deadlines were last planned from

Revision ID: 0005_h15a
Revises: 0004_i16a
Create Date: 2026-11-30 00:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005_h15a'
down_revision = '0004_i16a'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'calendar_snapshot',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('files', sa.JSON(), nullable=False),
        sa.Column('taken_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_snapshot')),
    )
    with op.batch_alter_table('calendar_snapshot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calendar_snapshot_digest'), ['digest'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('calendar_snapshot', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calendar_snapshot_digest'))
    op.drop_table('calendar_snapshot')
