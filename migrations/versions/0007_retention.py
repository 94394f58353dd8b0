"""Children's data and retention (issue 9, parts 5-6).

- audit_personal: the personal values (a volunteer's date of birth, welfare notes, a parent's name...) of audit
  entries, held apart so the retention job can erase them while the append-only log keeps that a change happened.
  Existing entries are rewritten once here (fields declared in each model's `__audit_personal__`).
- personal_data_view: who viewed a volunteer's personal details, for supervisors.
- retention_run: each run of the retention schedule and what it removed.

Downgrading drops the held-apart values: the log keeps only that the fields changed.

Revision ID: 0007_retention
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa

import retail.timeutil


revision = '0007_retention'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('retention_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('started_at', retail.timeutil.UTCDateTime(timezone=True), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('dry_run', sa.Boolean(), nullable=False),
    sa.Column('actor', sa.String(length=254), nullable=False),
    sa.Column('report', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_retention_run'))
    )
    op.create_table('audit_personal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('audit_entry_id', sa.Integer(), nullable=True),
    sa.Column('authority_id', sa.Integer(), nullable=True),
    sa.Column('record_type', sa.String(length=64), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['authority_id'], ['authority.id'], name=op.f('fk_audit_personal_authority_id_authority')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_personal'))
    )
    with op.batch_alter_table('audit_personal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_personal_audit_entry_id'), ['audit_entry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_personal_authority_id'), ['authority_id'], unique=False)
        batch_op.create_index('ix_audit_personal_record', ['record_type', 'record_id'], unique=False)

    op.create_table('personal_data_view',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', retail.timeutil.UTCDateTime(timezone=True), nullable=False),
    sa.Column('authority_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=254), nullable=False),
    sa.Column('volunteer_id', sa.Integer(), nullable=False),
    sa.Column('code_name', sa.String(length=40), nullable=False),
    sa.Column('page', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['authority_id'], ['authority.id'], name=op.f('fk_personal_data_view_authority_id_authority')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_personal_data_view'))
    )
    with op.batch_alter_table('personal_data_view', schema=None) as batch_op:
        batch_op.create_index('ix_personal_data_view_authority_at', ['authority_id', 'at'], unique=False)
        batch_op.create_index(batch_op.f('ix_personal_data_view_volunteer_id'), ['volunteer_id'], unique=False)

    from retail.retention.audit_log import move_personal_values
    from retail.scoping import install_row_level_security

    move_personal_values(op.get_bind())
    install_row_level_security(op.get_bind())


def downgrade():
    with op.batch_alter_table('personal_data_view', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_personal_data_view_volunteer_id'))
        batch_op.drop_index('ix_personal_data_view_authority_at')

    op.drop_table('personal_data_view')
    with op.batch_alter_table('audit_personal', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_personal_record')
        batch_op.drop_index(batch_op.f('ix_audit_personal_authority_id'))
        batch_op.drop_index(batch_op.f('ix_audit_personal_audit_entry_id'))

    op.drop_table('audit_personal')
    op.drop_table('retention_run')
