"""objection answers

An objection is answered (response, which existed unused), on a day, by someone, and upheld or not.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 06:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('objection', schema=None) as batch_op:
        batch_op.add_column(sa.Column('upheld', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('answered_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('answered_by', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('objection', schema=None) as batch_op:
        batch_op.drop_column('answered_by')
        batch_op.drop_column('answered_on')
        batch_op.drop_column('upheld')
