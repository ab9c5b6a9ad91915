"""ranking audit

The integrity findings (数据核查) kept with each district's published month and year end.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 05:45:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ranking_audit',
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Integer(), nullable=False),
    sa.Column('findings', sa.Text(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycle.id'], name=op.f('fk_ranking_audit_cycle_id_cycle')),
    sa.ForeignKeyConstraint(['district_id'], ['district.id'], name=op.f('fk_ranking_audit_district_id_district')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ranking_audit')),
    sa.UniqueConstraint('cycle_id', 'district_id', 'month', name=op.f('uq_ranking_audit_cycle_id_district_id_month'))
    )


def downgrade() -> None:
    op.drop_table('ranking_audit')
