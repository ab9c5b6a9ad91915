"""evaluation closed per district

Each district closes the year's evaluation on its own day, with its own objection period: the
close moves from the cycle to district_evaluation. A year closed before is closed, on that day,
in every district.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26 09:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('district_evaluation',
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=False),
    sa.Column('objection_deadline', sa.Date(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycle.id'], name=op.f('fk_district_evaluation_cycle_id_cycle')),
    sa.ForeignKeyConstraint(['district_id'], ['district.id'], name=op.f('fk_district_evaluation_district_id_district')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_district_evaluation')),
    sa.UniqueConstraint('cycle_id', 'district_id', name=op.f('uq_district_evaluation_cycle_id_district_id'))
    )
    op.execute("""
        INSERT INTO district_evaluation (cycle_id, district_id, closed_on, objection_deadline)
        SELECT cycle.id, district.id, cycle.evaluation_closed_on, coalesce(cycle.objection_deadline, cycle.evaluation_closed_on)
        FROM cycle CROSS JOIN district WHERE cycle.evaluation_closed_on IS NOT NULL""")
    with op.batch_alter_table('cycle', schema=None) as batch_op:
        batch_op.drop_column('objection_deadline')
        batch_op.drop_column('evaluation_closed_on')


def downgrade() -> None:
    with op.batch_alter_table('cycle', schema=None) as batch_op:
        batch_op.add_column(sa.Column('evaluation_closed_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('objection_deadline', sa.Date(), nullable=True))
    op.execute("""
        UPDATE cycle SET evaluation_closed_on = (SELECT min(closed_on) FROM district_evaluation WHERE cycle_id = cycle.id),
                         objection_deadline = (SELECT max(objection_deadline) FROM district_evaluation WHERE cycle_id = cycle.id)""")
    op.drop_table('district_evaluation')
