"""notice body

A notice's text and HTML move to a table of their own (`notice_body`, its id the notice's): SQLite
rewrites a whole row on any update, and each notice's row is updated when it is claimed and when it
is sent (a province's month: 5,360 bodies of ~25 KB rewritten twice).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 01:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('notice_body',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('html', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['id'], ['notice.id'], name=op.f('fk_notice_body_id_notice')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notice_body'))
    )
    op.execute("INSERT INTO notice_body (id, text, html, created_at, updated_at) "
               "SELECT id, body_text, body_html, created_at, updated_at FROM notice")
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.drop_column('body_text')
        batch_op.drop_column('body_html')


def downgrade() -> None:
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('body_text', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('body_html', sa.Text(), nullable=False, server_default=''))
    op.execute("UPDATE notice SET body_text = (SELECT text FROM notice_body WHERE notice_body.id = notice.id), "
               "body_html = (SELECT html FROM notice_body WHERE notice_body.id = notice.id)")
    op.drop_table('notice_body')
