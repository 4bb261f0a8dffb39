"""cluster mode: inbox of updates, chat claims, leases, job runs

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 10:00:00.000000

Used only when CLUSTER=true (PostgreSQL); on SQLite the tables exist unused. See bot/cluster and docs/deployment.md.
"""
from alembic import op
import sqlalchemy as sa
import bot.storage.models


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    ts = bot.storage.models.UTCDateTime(timezone=True)
    op.create_table(
        'inboxupdate',
        sa.Column('update_id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('chat_id', sa.BigInteger(), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=True),
        sa.Column('received_at', ts, nullable=False),
        sa.Column('handled_at', ts, nullable=True),
        sa.Column('replies', sa.JSON(), nullable=True),
        sa.Column('replied_at', ts, nullable=True),
        sa.Column('handled_by', sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint('update_id'),
    )
    op.create_index('ix_inboxupdate_chat_id', 'inboxupdate', ['chat_id'], unique=False)
    op.create_index('ix_inboxupdate_replied_at', 'inboxupdate', ['replied_at'], unique=False)
    # what the consumers scan: the updates not answered yet, per chat in update_id order
    op.create_index(
        'ix_inboxupdate_open',
        'inboxupdate',
        ['chat_id', 'update_id'],
        unique=False,
        postgresql_where=sa.text('replied_at IS NULL'),
        sqlite_where=sa.text('replied_at IS NULL'),
    )
    op.create_table(
        'chatclaim',
        sa.Column('chat_id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('holder', sa.String(length=100), nullable=False),
        sa.Column('lease_until', ts, nullable=False),
        sa.PrimaryKeyConstraint('chat_id'),
    )
    op.create_table(
        'clusterlease',
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('holder', sa.String(length=100), nullable=False),
        sa.Column('lease_until', ts, nullable=False),
        sa.PrimaryKeyConstraint('name'),
    )
    op.create_table(
        'jobrun',
        sa.Column('job', sa.String(length=40), nullable=False),
        sa.Column('due_at', ts, nullable=False),
        sa.Column('holder', sa.String(length=100), nullable=False),
        sa.Column('ran_at', ts, nullable=False),
        sa.PrimaryKeyConstraint('job', 'due_at'),
    )


def downgrade() -> None:
    op.drop_table('jobrun')
    op.drop_table('clusterlease')
    op.drop_table('chatclaim')
    op.drop_index('ix_inboxupdate_open', table_name='inboxupdate')
    op.drop_index('ix_inboxupdate_replied_at', table_name='inboxupdate')
    op.drop_index('ix_inboxupdate_chat_id', table_name='inboxupdate')
    op.drop_table('inboxupdate')
