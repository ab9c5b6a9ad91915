"""ranking corrections per district

Each district of a province publishes and corrects its months on its own: a correction belongs to
a district, and its number counts that district's corrections of the month. A correction made
before holds the district of the rows it replaced (the database's first district if none).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 08:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ranking_correction', schema=None) as batch_op:
        batch_op.add_column(sa.Column('district_id', sa.Integer(), nullable=True))
    op.execute("""
        UPDATE ranking_correction SET district_id = (
            SELECT street.district_id FROM superseded_ranking
            JOIN community ON community.id = superseded_ranking.community_id
            JOIN street ON street.id = community.street_id
            WHERE superseded_ranking.correction_id = ranking_correction.id
            ORDER BY community.code LIMIT 1)""")
    op.execute("UPDATE ranking_correction SET district_id = (SELECT min(id) FROM district) WHERE district_id IS NULL")
    with op.batch_alter_table('ranking_correction', schema=None) as batch_op:
        batch_op.alter_column('district_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_constraint('uq_ranking_correction_cycle_id_month_number', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_ranking_correction_cycle_id_district_id_month_number'),
                                          ['cycle_id', 'district_id', 'month', 'number'])
        batch_op.create_foreign_key(batch_op.f('fk_ranking_correction_district_id_district'), 'district',
                                    ['district_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('ranking_correction', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_ranking_correction_district_id_district'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_ranking_correction_cycle_id_district_id_month_number'), type_='unique')
        batch_op.create_unique_constraint('uq_ranking_correction_cycle_id_month_number', ['cycle_id', 'month', 'number'])
        batch_op.drop_column('district_id')
