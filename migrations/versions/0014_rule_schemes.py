"""rule schemes

Each district's rules for a year, versioned (rule_scheme); every published ranking row and award
result names the version it used (0: the defaults, which everything before this used).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 05:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

VERSIONED = ('monthly_ranking', 'superseded_ranking', 'award_result')


def upgrade() -> None:
    op.create_table('rule_scheme',
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('rules', sa.Text(), nullable=False),
    sa.Column('adopted_at', sa.DateTime(), nullable=False),
    sa.Column('adopted_by', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=255), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['district_id'], ['district.id'], name=op.f('fk_rule_scheme_district_id_district')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rule_scheme')),
    sa.UniqueConstraint('district_id', 'year', 'version', name=op.f('uq_rule_scheme_district_id_year_version'))
    )
    for table in VERSIONED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('rules_version', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    for table in VERSIONED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('rules_version')
    op.drop_table('rule_scheme')
