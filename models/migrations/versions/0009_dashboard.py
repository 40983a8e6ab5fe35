"""dashboard: dashboard_link (signed links), ticket_root_cause, exit_criteria, report_request; ticket indexes

Revision ID: 0009
Revises: 0006
Create Date: 2026-12-02 07:10:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import models.types


revision = '0009'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('dashboard_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('nonce', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_by', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('dashboard_link', schema=None) as batch_op:
        batch_op.create_index('ix_dashboard_link_team', ['team_id', 'kind', 'revoked_at'], unique=False)
    op.create_table('ticket_root_cause',
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('cause', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('set_by', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('set_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], ),
    sa.PrimaryKeyConstraint('ticket_id')
    )
    with op.batch_alter_table('ticket_root_cause', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_root_cause_team', ['team_id', 'cause'], unique=False)
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_team_channel', ['team_id', 'channel'], unique=False)
        batch_op.create_index('ix_ticket_team_assignee', ['team_id', 'assignee'], unique=False)
    op.create_index('ix_ticket_team_affected', 'ticket', ['team_id', sa.text('json_array_length(affected_users)')], unique=False)
    op.create_table('exit_criteria',
    sa.Column('team_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('criteria', sa.JSON(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('set_by', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('set_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('announced_at', models.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('team_id')
    )
    op.create_table('report_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('requested_by', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('fmt', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('since', models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('claimed_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('file_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('report_request', schema=None) as batch_op:
        batch_op.create_index('ix_report_request_state', ['state', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('report_request', schema=None) as batch_op:
        batch_op.drop_index('ix_report_request_state')
    op.drop_table('report_request')
    op.drop_table('exit_criteria')
    op.drop_index('ix_ticket_team_affected', table_name='ticket')
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_team_assignee')
        batch_op.drop_index('ix_ticket_team_channel')
    with op.batch_alter_table('ticket_root_cause', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_root_cause_team')
    op.drop_table('ticket_root_cause')
    with op.batch_alter_table('dashboard_link', schema=None) as batch_op:
        batch_op.drop_index('ix_dashboard_link_team')
    op.drop_table('dashboard_link')
