"""verification guards and alerts, API key expiry

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 16:00:00.000000

The escalating attempt limits per receipt code (bot/cases/verification.py) remember more than a day of failures and
the lock until staff unlock a code: `codeguard`, one row per code tried. Alerts for staff when a code collects
failures from several chats or days, or locks: `verificationalert`. API keys expire: `apikey.expires_at`; keys made
before it get a year from their creation, but no less than 30 days from this upgrade, so that their holders have
time to be given new ones.
"""
import datetime as dt

from alembic import op
import sqlalchemy as sa
import sqlmodel
import bot.storage.models


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

KEY_DAYS = 365
GRACE_DAYS = 30


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _expire_existing_keys() -> None:
    keys = sa.table(
        'apikey',
        sa.column('id', sa.Integer()),
        sa.column('created_at', bot.storage.models.UTCDateTime(timezone=True)),
        sa.column('expires_at', bot.storage.models.UTCDateTime(timezone=True)),
    )
    conn = op.get_bind()
    earliest = dt.datetime.now(dt.UTC) + dt.timedelta(days=GRACE_DAYS)
    rows = conn.execute(sa.select(keys.c.id, keys.c.created_at)).all()  # a handful of keys: no batching needed
    for key_id, created in rows:
        expires = max(_utc(created) + dt.timedelta(days=KEY_DAYS), earliest)
        conn.execute(keys.update().where(keys.c.id == key_id).values(expires_at=expires))


def upgrade() -> None:
    op.create_table('codeguard',
    sa.Column('code_key', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('days', sa.JSON(), nullable=True),
    sa.Column('chats', sa.JSON(), nullable=True),
    sa.Column('alerted', sa.JSON(), nullable=True),
    sa.Column('locked_at', bot.storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', bot.storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], ),
    sa.PrimaryKeyConstraint('code_key')
    )
    with op.batch_alter_table('codeguard', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_codeguard_case_id'), ['case_id'], unique=False)

    op.create_table('verificationalert',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('code_key', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('chats', sa.Integer(), nullable=False),
    sa.Column('days', sa.Integer(), nullable=False),
    sa.Column('created_at', bot.storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', bot.storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolved_by', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('verificationalert', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_verificationalert_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_verificationalert_code_key'), ['code_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_verificationalert_created_at'), ['created_at'], unique=False)

    with op.batch_alter_table('apikey', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', bot.storage.models.UTCDateTime(timezone=True), nullable=True))
    _expire_existing_keys()
    with op.batch_alter_table('apikey', schema=None) as batch_op:
        batch_op.alter_column('expires_at', existing_type=bot.storage.models.UTCDateTime(timezone=True), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('apikey', schema=None) as batch_op:
        batch_op.drop_column('expires_at')

    with op.batch_alter_table('verificationalert', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_verificationalert_created_at'))
        batch_op.drop_index(batch_op.f('ix_verificationalert_code_key'))
        batch_op.drop_index(batch_op.f('ix_verificationalert_case_id'))
    op.drop_table('verificationalert')

    with op.batch_alter_table('codeguard', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_codeguard_case_id'))
    op.drop_table('codeguard')
