"""app user

The database logins that act for one level of the tree (row-level security on PostgreSQL).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04 09:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('app_user',
    sa.Column('login', sa.String(length=63), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('role', sa.Enum('district', 'street', 'community', 'unit', name='userrole', native_enum=False, length=32), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=True),
    sa.Column('street_id', sa.Integer(), nullable=True),
    sa.Column('community_id', sa.Integer(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_app_user_community_id_community')),
    sa.ForeignKeyConstraint(['district_id'], ['district.id'], name=op.f('fk_app_user_district_id_district')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_app_user_person_id_person')),
    sa.ForeignKeyConstraint(['street_id'], ['street.id'], name=op.f('fk_app_user_street_id_street')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_app_user_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_app_user')),
    sa.UniqueConstraint('login', name=op.f('uq_app_user_login'))
    )


def downgrade() -> None:
    op.drop_table('app_user')
