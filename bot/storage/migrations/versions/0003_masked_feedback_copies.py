"""masked copies of feedback texts and survey comments

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05 10:00:00.000000

Staff without the `pii` scope read feedback texts and survey comments with phone numbers, long digit runs and
e-mail addresses masked. The masked copy is now stored once, when the text is stored, instead of being computed
on every request; existing rows are filled in here with the same function (bot.privacy.masking.mask_text).
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

from bot.privacy.masking import mask_text


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

BATCH = 500


def _backfill(table: str, source: str, target: str) -> None:
    rows = sa.table(table, sa.column('id', sa.Integer()), sa.column(source, sa.String()), sa.column(target, sa.String()))
    conn = op.get_bind()
    last = 0
    while True:  # in batches by id, so a large table is never held in memory at once
        batch = conn.execute(
            sa.select(rows.c.id, rows.c[source])
            .where(rows.c.id > last, rows.c[source].is_not(None))
            .order_by(rows.c.id)
            .limit(BATCH)
        ).all()
        if not batch:
            return
        conn.execute(
            rows.update().where(rows.c.id == sa.bindparam('row_id')).values({target: sa.bindparam('masked')}),
            [{'row_id': row_id, 'masked': mask_text(text)} for row_id, text in batch],
        )
        last = batch[-1][0]


def upgrade() -> None:
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.add_column(sa.Column('text_masked', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    with op.batch_alter_table('surveyresponse', schema=None) as batch_op:
        batch_op.add_column(sa.Column('comment_masked', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    _backfill('feedback', 'text', 'text_masked')
    _backfill('surveyresponse', 'comment', 'comment_masked')


def downgrade() -> None:
    with op.batch_alter_table('surveyresponse', schema=None) as batch_op:
        batch_op.drop_column('comment_masked')
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.drop_column('text_masked')
