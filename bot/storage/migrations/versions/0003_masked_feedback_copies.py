"""masked copies of feedback texts and survey comments; unanswered questions redacted again

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05 10:00:00.000000

Staff without the `pii` scope read feedback texts and survey comments with phone numbers, long digit runs and
e-mail addresses masked. The masked copy is now stored once, when the text is stored, instead of being computed
on every request; existing rows are filled in here with the same function (bot.privacy.masking.mask_text).

The unanswered-questions log kept short digit runs (the four phone digits, a birth year) and names; the rows
already stored are redacted again with today's rules (bot.insights.gaps.redact), which a downgrade cannot undo.
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

from bot.insights.gaps import redact
from bot.privacy.masking import mask_text


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

BATCH = 500


def _backfill(table: str, source: str, target: str, function=mask_text) -> None:
    """`target` = function(`source`) for every row whose source is set (target may be the source itself)."""
    rows = sa.table(table, *(sa.column(name) for name in dict.fromkeys(['id', source, target])))
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
            [{'row_id': row_id, 'masked': function(text)} for row_id, text in batch],
        )
        last = batch[-1][0]


def upgrade() -> None:
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.add_column(sa.Column('text_masked', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    with op.batch_alter_table('surveyresponse', schema=None) as batch_op:
        batch_op.add_column(sa.Column('comment_masked', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    _backfill('feedback', 'text', 'text_masked')
    _backfill('surveyresponse', 'comment', 'comment_masked')
    _backfill('unansweredquestion', 'text', 'text', redact)


def downgrade() -> None:
    with op.batch_alter_table('surveyresponse', schema=None) as batch_op:
        batch_op.drop_column('comment_masked')
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.drop_column('text_masked')
