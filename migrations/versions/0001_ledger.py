"""ledger

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 15:49:21.758348
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    
    op.create_table('plan_template',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('version', sa.String(length=32), nullable=False),
    sa.Column('title_zh', sa.String(length=200), nullable=False),
    sa.Column('title_en', sa.String(length=200), nullable=True),
    sa.Column('source_path', sa.String(length=500), nullable=False),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_template')),
    sa.UniqueConstraint('key', 'version', name=op.f('uq_plan_template_key'))
    )
    op.create_table('school',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('district', sa.String(length=200), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('quiet_start', sa.String(length=5), nullable=False),
    sa.Column('quiet_end', sa.String(length=5), nullable=False),
    sa.Column('channels', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_school')),
    sa.UniqueConstraint('code', name=op.f('uq_school_code'))
    )
    op.create_table('person',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('supervisor_id', sa.Integer(), nullable=True),
    sa.Column('addresses', sa.JSON(), nullable=False),
    sa.Column('lang', sa.String(length=8), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], name=op.f('fk_person_school_id_school')),
    sa.ForeignKeyConstraint(['supervisor_id'], ['person.id'], name=op.f('fk_person_supervisor_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person')),
    sa.UniqueConstraint('school_id', 'code', name=op.f('uq_person_school_id'))
    )
    op.create_table('plan_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('template_id', sa.Integer(), nullable=False),
    sa.Column('template_key', sa.String(length=64), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('launched_by', sa.String(length=100), nullable=False),
    sa.Column('launched_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('flow_run_id', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], name=op.f('fk_plan_run_school_id_school')),
    sa.ForeignKeyConstraint(['template_id'], ['plan_template.id'], name=op.f('fk_plan_run_template_id_plan_template')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_run')),
    sa.UniqueConstraint('template_key', 'school_id', 'period', name=op.f('uq_plan_run_template_key'))
    )
    op.create_table('item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('phase_key', sa.String(length=64), nullable=False),
    sa.Column('phase_zh', sa.String(length=200), nullable=False),
    sa.Column('phase_en', sa.String(length=200), nullable=True),
    sa.Column('title_zh', sa.String(length=300), nullable=False),
    sa.Column('title_en', sa.String(length=300), nullable=True),
    sa.Column('role_key', sa.String(length=64), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_provisional', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('steps', sa.JSON(), nullable=False),
    sa.Column('evidence_kind', sa.String(length=16), nullable=False),
    sa.Column('headcount', sa.Integer(), nullable=True),
    sa.Column('depends_on', sa.JSON(), nullable=False),
    sa.Column('remind', sa.JSON(), nullable=False),
    sa.Column('escalate', sa.JSON(), nullable=False),
    sa.Column('completed_by_id', sa.Integer(), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('late', sa.Boolean(), nullable=True),
    sa.Column('waive_reason', sa.Text(), nullable=True),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['completed_by_id'], ['person.id'], name=op.f('fk_item_completed_by_id_person')),
    sa.ForeignKeyConstraint(['owner_id'], ['person.id'], name=op.f('fk_item_owner_id_person')),
    sa.ForeignKeyConstraint(['run_id'], ['plan_run.id'], name=op.f('fk_item_run_id_plan_run')),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], name=op.f('fk_item_school_id_school')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_item')),
    sa.UniqueConstraint('run_id', 'key', name=op.f('uq_item_run_id'))
    )
    with op.batch_alter_table('item', schema=None) as batch_op:
        batch_op.create_index('ix_item_owner_status', ['owner_id', 'status'], unique=False)
        batch_op.create_index('ix_item_school_status_due', ['school_id', 'status', 'due_at'], unique=False)

    op.create_table('role_binding',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('role_key', sa.String(length=64), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_role_binding_person_id_person')),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], name=op.f('fk_role_binding_school_id_school')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_role_binding')),
    sa.UniqueConstraint('school_id', 'role_key', name=op.f('uq_role_binding_school_id'))
    )
    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=True),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], name=op.f('fk_audit_event_item_id_item')),
    sa.ForeignKeyConstraint(['run_id'], ['plan_run.id'], name=op.f('fk_audit_event_run_id_plan_run')),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], name=op.f('fk_audit_event_school_id_school')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event'))
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index('ix_audit_event_item_id', ['item_id'], unique=False)

    op.create_table('evidence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('number', sa.Float(), nullable=True),
    sa.Column('path', sa.String(length=500), nullable=True),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], name=op.f('fk_evidence_item_id_item')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence'))
    )
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_item_id'), ['item_id'], unique=False)

    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dedup_key', sa.String(length=200), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('channel', sa.String(length=32), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], name=op.f('fk_outbox_item_id_item')),
    sa.ForeignKeyConstraint(['recipient_id'], ['person.id'], name=op.f('fk_outbox_recipient_id_person')),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], name=op.f('fk_outbox_school_id_school')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
    sa.UniqueConstraint('dedup_key', name=op.f('uq_outbox_dedup_key'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_status_next', ['status', 'next_attempt_at'], unique=False)




def downgrade() -> None:
    
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_status_next')

    op.drop_table('outbox')
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_item_id'))

    op.drop_table('evidence')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_item_id')

    op.drop_table('audit_event')
    op.drop_table('role_binding')
    with op.batch_alter_table('item', schema=None) as batch_op:
        batch_op.drop_index('ix_item_school_status_due')
        batch_op.drop_index('ix_item_owner_status')

    op.drop_table('item')
    op.drop_table('plan_run')
    op.drop_table('person')
    op.drop_table('school')
    op.drop_table('plan_template')

