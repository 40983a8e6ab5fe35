"""trackers: tracker_link (a ticket's issue in GitHub/Jira/Linear), tracker_carried (events it has), tracker_channel (/hc tracker)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 07:20:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import models.types


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('tracker_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('tracker', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('target', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('external_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('external_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('pushed_by', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ticket_id', name='uq_tracker_link_ticket')
    )
    op.create_index('ix_tracker_link_external', 'tracker_link', ['tracker', 'external_id'], unique=False)
    op.create_table('tracker_carried',
    sa.Column('link_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['ticket_event.id'], ),
    sa.ForeignKeyConstraint(['link_id'], ['tracker_link.id'], ),
    sa.PrimaryKeyConstraint('link_id', 'event_id')
    )
    op.create_table('tracker_channel',
    sa.Column('team_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('tracker', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('target', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('auto', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('auto_since', models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('comments', sa.Boolean(), nullable=False),
    sa.Column('updated_by', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('updated_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('team_id', 'channel')
    )


def downgrade() -> None:
    op.drop_table('tracker_channel')
    op.drop_table('tracker_carried')
    op.drop_index('ix_tracker_link_external', table_name='tracker_link')
    op.drop_table('tracker_link')
