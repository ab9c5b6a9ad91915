"""notice secret

A notice names the one-time secret its text carries (an evaluation invitation's voting code), so
the outbox wipes it once sent and `outbox show` never shows it, without knowing what a voting code
looks like. Invitations still waiting to be sent get their code read from their text.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 02:30:00
"""
import re

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

_SHOWN_CODE = re.compile(r"\b(?:[2-9A-HJKMNP-Z]{4}-){3}[2-9A-HJKMNP-Z]\b")  # as the evaluation showed a code until now


def upgrade() -> None:
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('secret', sa.String(length=64), nullable=True))
    notice = sa.table('notice', sa.column('id', sa.Integer), sa.column('template', sa.String), sa.column('status', sa.String),
                      sa.column('body_text', sa.Text), sa.column('secret', sa.String))
    bind = op.get_bind()
    waiting = bind.execute(sa.select(notice.c.id, notice.c.body_text).where(
        notice.c.template == 'evaluation_invitation', notice.c.status.in_(['queued', 'failed']))).all()
    for notice_id, text in waiting:
        found = _SHOWN_CODE.search(text or '')
        if found:
            bind.execute(notice.update().where(notice.c.id == notice_id).values(secret=found.group()))


def downgrade() -> None:
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.drop_column('secret')
