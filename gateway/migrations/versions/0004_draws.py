"""draws, higher-level inspections, reassignments and task history

Revision ID: 0004_draws
Revises: 0003_audit_outbox
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

revision = '0004_draws'
down_revision = '0003_audit_outbox'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('higher_level_inspections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('record_key', sa.String(length=300), nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=False),
    sa.Column('authority', sa.String(length=200), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('department_code', sa.String(length=64), nullable=False),
    sa.Column('matter_code', sa.String(length=64), nullable=False),
    sa.Column('inspected_on', sa.Date(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=100), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_higher_level_inspections')),
    sa.UniqueConstraint('record_key', name=op.f('uq_higher_level_inspections_record_key'))
    )
    with op.batch_alter_table('higher_level_inspections', schema=None) as batch_op:
        batch_op.create_index('ix_higher_level_inspections_year_uscc', ['year', 'uscc'], unique=False)
    
    op.create_table('draws',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('active_plan_id', sa.Integer(), nullable=True),
    sa.Column('open_year', sa.Integer(), nullable=True),
    sa.Column('population_sha256', sa.String(length=64), nullable=False),
    sa.Column('strata', sa.JSON(), nullable=False),
    sa.Column('exclusions', sa.JSON(), nullable=False),
    sa.Column('stats', sa.JSON(), nullable=False),
    sa.Column('key_rule', sa.JSON(), nullable=False),
    sa.Column('frozen_at', sa.DateTime(), nullable=False),
    sa.Column('frozen_by', sa.String(length=200), nullable=False),
    sa.Column('commitments', sa.JSON(), nullable=True),
    sa.Column('committed_at', sa.DateTime(), nullable=True),
    sa.Column('committed_by', sa.String(length=200), nullable=False),
    sa.Column('contributions', sa.JSON(), nullable=True),
    sa.Column('participants', sa.JSON(), nullable=True),
    sa.Column('seed', sa.String(length=400), nullable=True),
    sa.Column('seeded_at', sa.DateTime(), nullable=True),
    sa.Column('seeded_by', sa.String(length=200), nullable=False),
    sa.Column('drawn_at', sa.DateTime(), nullable=True),
    sa.Column('drawn_by', sa.String(length=200), nullable=False),
    sa.Column('record', sa.Text(), nullable=True),
    sa.Column('record_sha256', sa.String(length=64), nullable=True),
    sa.Column('task_count', sa.Integer(), nullable=False),
    sa.Column('team_inputs', sa.JSON(), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(), nullable=True),
    sa.Column('cancelled_by', sa.String(length=200), nullable=False),
    sa.Column('cancel_reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_draws_plan_id_plans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_draws')),
    sa.UniqueConstraint('active_plan_id', name=op.f('uq_draws_active_plan_id')),
    sa.UniqueConstraint('open_year', name=op.f('uq_draws_open_year'))
    )
    with op.batch_alter_table('draws', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_draws_plan_id'), ['plan_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_draws_year'), ['year'], unique=False)
    
    op.create_table('task_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_task_events_task_id_tasks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_events'))
    )
    with op.batch_alter_table('task_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_events_task_id'), ['task_id'], unique=False)
    
    op.create_table('reassignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('inspector_id', sa.Integer(), nullable=False),
    sa.Column('department_code', sa.String(length=64), nullable=False),
    sa.Column('reason_code', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('requested_by', sa.String(length=200), nullable=False),
    sa.Column('requested_at', sa.DateTime(), nullable=False),
    sa.Column('decided_by', sa.String(length=200), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=False),
    sa.Column('replacement_inspector_id', sa.Integer(), nullable=True),
    sa.Column('replacement_member_id', sa.Integer(), nullable=True),
    sa.Column('replacement_inputs', sa.JSON(), nullable=True),
    sa.Column('filing_status', sa.String(length=16), nullable=True),
    sa.Column('filing_number', sa.String(length=100), nullable=True),
    sa.Column('filed_by', sa.String(length=200), nullable=False),
    sa.Column('filed_at', sa.DateTime(), nullable=True),
    sa.Column('filing_note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['department_code'], ['departments.code'], name=op.f('fk_reassignments_department_code_departments')),
    sa.ForeignKeyConstraint(['inspector_id'], ['inspectors.id'], name=op.f('fk_reassignments_inspector_id_inspectors')),
    sa.ForeignKeyConstraint(['member_id'], ['task_members.id'], name=op.f('fk_reassignments_member_id_task_members')),
    sa.ForeignKeyConstraint(['replacement_inspector_id'], ['inspectors.id'], name=op.f('fk_reassignments_replacement_inspector_id_inspectors')),
    sa.ForeignKeyConstraint(['replacement_member_id'], ['task_members.id'], name=op.f('fk_reassignments_replacement_member_id_task_members')),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_reassignments_task_id_tasks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reassignments')),
    sa.UniqueConstraint('filing_number', name=op.f('uq_reassignments_filing_number'))
    )
    with op.batch_alter_table('reassignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reassignments_department_code'), ['department_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_reassignments_task_id'), ['task_id'], unique=False)
    
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cooperating_departments', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('key_rule', sa.JSON(), nullable=False, server_default='{}'))
        batch_op.add_column(sa.Column('published_by', sa.String(length=200), nullable=False, server_default=''))
    
    with op.batch_alter_table('task_members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=16), nullable=False, server_default='draw'))
        batch_op.add_column(sa.Column('removed_at', sa.DateTime(), nullable=True))
    
    # ### end Alembic commands ###


def downgrade() -> None:
    with op.batch_alter_table('task_members', schema=None) as batch_op:
        batch_op.drop_column('removed_at')
        batch_op.drop_column('source')
    
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.drop_column('published_by')
        batch_op.drop_column('key_rule')
        batch_op.drop_column('cooperating_departments')
    
    with op.batch_alter_table('reassignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reassignments_task_id'))
        batch_op.drop_index(batch_op.f('ix_reassignments_department_code'))
    
    op.drop_table('reassignments')
    with op.batch_alter_table('task_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_events_task_id'))
    
    op.drop_table('task_events')
    with op.batch_alter_table('draws', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_draws_year'))
        batch_op.drop_index(batch_op.f('ix_draws_plan_id'))
    
    op.drop_table('draws')
    with op.batch_alter_table('higher_level_inspections', schema=None) as batch_op:
        batch_op.drop_index('ix_higher_level_inspections_year_uscc')
    
    op.drop_table('higher_level_inspections')
    # ### end Alembic commands ###
