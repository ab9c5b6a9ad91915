"""notice claims: a deliverer takes the notices it sends

A deliverer sets claimed_until on the queued notices it is about to send; another deliverer
running at the same time skips them, so no notice is sent twice. A claim left by a killed
deliverer lapses at claimed_until.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 07:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('notice') as batch_op:
        batch_op.add_column(sa.Column('claimed_until', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('notice') as batch_op:
        batch_op.drop_column('claimed_until')
