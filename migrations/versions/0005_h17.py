"""submissions from phones, by the phone's id (offline tick-off, issue 17)

Revision ID: 0005_h17
Revises: 0004_i16a
Create Date: 2026-11-29 23:50:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005_h17'
down_revision = '0005_h14'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('submission',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('reply', sa.JSON(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], name=op.f('fk_submission_item_id_item')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_submission')),
    sa.UniqueConstraint('client_id', name=op.f('uq_submission_client_id'))
    )


def downgrade() -> None:
    op.drop_table('submission')
