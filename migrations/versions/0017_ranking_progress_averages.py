"""ranking progress averages

A community's average reported and planned percent in each published month (and in each version a
correction replaced), for the board's progress charts.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 09:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

TABLES = ('monthly_ranking', 'superseded_ranking')


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('reported_percent', sa.Float(), nullable=True))
            batch.add_column(sa.Column('planned_percent', sa.Float(), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column('planned_percent')
            batch.drop_column('reported_percent')
