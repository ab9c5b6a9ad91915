"""reporting month of progress reports

A report is for a month (the month reported on), no longer the month of its date. Reports kept
before this revision count for the month they are dated in, as they did; those dated after the
cycle's year get 13, so they still count for no month of that year.

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('progress_report', schema=None) as batch_op:
        batch_op.add_column(sa.Column('month', sa.Integer(), nullable=True))
    report = sa.table('progress_report', sa.column('task_id', sa.Integer), sa.column('reported_on', sa.Date),
                      sa.column('month', sa.Integer))
    task = sa.table('task', sa.column('id', sa.Integer), sa.column('cycle_id', sa.Integer))
    cycle = sa.table('cycle', sa.column('id', sa.Integer), sa.column('year', sa.Integer))
    cycle_year = (sa.select(cycle.c.year).select_from(task.join(cycle, task.c.cycle_id == cycle.c.id))
                  .where(task.c.id == report.c.task_id).scalar_subquery())
    in_year = sa.extract('year', report.c.reported_on) == cycle_year
    op.execute(report.update().values(month=sa.case((in_year, sa.cast(sa.extract('month', report.c.reported_on), sa.Integer)),
                                                    else_=13)))
    with op.batch_alter_table('progress_report', schema=None) as batch_op:
        batch_op.alter_column('month', nullable=False)
        batch_op.create_index(batch_op.f('ix_progress_report_month'), ['month'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('progress_report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_progress_report_month'))
        batch_op.drop_column('month')
