"""school kind and facts; an item's shared task key; item_share (a shared item on another run)

Revision ID: 0005_h15b
Revises: 0005_h15a
Create Date: 2026-11-29 23:50:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005_h15b'
down_revision = '0005_h15a'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('school', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('facts', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))

    with op.batch_alter_table('item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shared', sa.String(length=64), nullable=True))

    op.create_table(
        'item_share',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('run_id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['item_id'], ['item.id'], name=op.f('fk_item_share_item_id_item')),
        sa.ForeignKeyConstraint(['run_id'], ['plan_run.id'], name=op.f('fk_item_share_run_id_plan_run')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_item_share')),
        sa.UniqueConstraint('run_id', 'key', name=op.f('uq_item_share_run_id')),
    )


def downgrade() -> None:
    op.drop_table('item_share')
    with op.batch_alter_table('item', schema=None) as batch_op:
        batch_op.drop_column('shared')
    with op.batch_alter_table('school', schema=None) as batch_op:
        batch_op.drop_column('facts')
        batch_op.drop_column('kind')
