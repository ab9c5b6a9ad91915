"""committed steps

A task's steps as they stood when its community's commitments were published (the baseline the
board shows beside later changes). Communities already published take their steps of today.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 05:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('committed_milestone',
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('due_month', sa.Integer(), nullable=False),
    sa.Column('target_percent', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['task.id'], name=op.f('fk_committed_milestone_task_id_task'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_committed_milestone')),
    sa.UniqueConstraint('task_id', 'due_month', name=op.f('uq_committed_milestone_task_id_due_month'))
    )
    op.execute("""
        INSERT INTO committed_milestone (task_id, title, due_month, target_percent)
        SELECT milestone.task_id, milestone.title, milestone.due_month, milestone.target_percent
        FROM milestone JOIN task ON task.id = milestone.task_id
        WHERE EXISTS (SELECT 1 FROM commitment WHERE commitment.cycle_id = task.cycle_id
                      AND commitment.community_id = task.community_id AND commitment.published_on IS NOT NULL)""")


def downgrade() -> None:
    op.drop_table('committed_milestone')
