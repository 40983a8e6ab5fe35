"""duplicates by meaning: duplicate_pair (suggestions, "Same problem"/"Different" decisions, resolved-ticket notes)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 07:20:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import models.types


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('duplicate_pair',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('other_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('margin', sa.Float(), nullable=False),
    sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decision', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('decided_by', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('decided_at', models.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['other_id'], ['ticket.id'], ),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ticket_id', 'other_id', name='uq_duplicate_pair')
    )
    with op.batch_alter_table('duplicate_pair', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_duplicate_pair_other_id'), ['other_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_duplicate_pair_ticket_id'), ['ticket_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('duplicate_pair', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_duplicate_pair_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_duplicate_pair_other_id'))
    op.drop_table('duplicate_pair')
