"""anonymous ballots, hashed codes

The ballot box keeps no evaluator: a ballot carries an anonymous sitting (a random token shared by
the ballots cast with one code). Evaluators' codes are kept only as a salted hash (per cycle).
Existing ballots get one random sitting per former evaluator; existing codes are hashed, so codes
already sent keep working.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 03:50:00
"""
import hashlib
import secrets

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    connection = op.get_bind()
    with op.batch_alter_table('cycle', schema=None) as batch_op:
        batch_op.add_column(sa.Column('code_salt', sa.String(length=32), nullable=True))
    with op.batch_alter_table('evaluator', schema=None) as batch_op:
        batch_op.add_column(sa.Column('code_hash', sa.String(length=64), nullable=True))
    with op.batch_alter_table('ballot', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sitting', sa.String(length=32), nullable=True))

    cycle = sa.table('cycle', sa.column('id', sa.Integer), sa.column('code_salt', sa.String))
    evaluator = sa.table('evaluator', sa.column('id', sa.Integer), sa.column('cycle_id', sa.Integer),
                         sa.column('code', sa.String), sa.column('code_hash', sa.String))
    ballot = sa.table('ballot', sa.column('evaluator_id', sa.Integer), sa.column('sitting', sa.String))
    salts = {}
    for (cycle_id,) in connection.execute(sa.select(cycle.c.id)):
        salts[cycle_id] = secrets.token_hex(16)
        connection.execute(cycle.update().where(cycle.c.id == cycle_id).values(code_salt=salts[cycle_id]))
    for evaluator_id, cycle_id, code in connection.execute(sa.select(evaluator.c.id, evaluator.c.cycle_id, evaluator.c.code)):
        digest = hashlib.sha256(f"{salts[cycle_id]}:{code}".encode()).hexdigest()
        connection.execute(evaluator.update().where(evaluator.c.id == evaluator_id).values(code_hash=digest))
    for (evaluator_id,) in connection.execute(sa.select(ballot.c.evaluator_id).distinct()):
        connection.execute(ballot.update().where(ballot.c.evaluator_id == evaluator_id).values(sitting=secrets.token_hex(8)))

    with op.batch_alter_table('evaluator', schema=None) as batch_op:
        batch_op.drop_constraint('uq_evaluator_code', type_='unique')
        batch_op.drop_column('code')
        batch_op.create_unique_constraint(batch_op.f('uq_evaluator_code_hash'), ['code_hash'])
    with op.batch_alter_table('ballot', schema=None) as batch_op:
        batch_op.drop_constraint('uq_ballot_evaluator_id_task_id', type_='unique')
        batch_op.drop_constraint('fk_ballot_evaluator_id_evaluator', type_='foreignkey')
        batch_op.drop_column('evaluator_id')
        batch_op.alter_column('sitting', existing_type=sa.String(length=32), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_ballot_sitting_task_id'), ['sitting', 'task_id'])


def downgrade() -> None:
    raise NotImplementedError("the ballot box no longer knows its evaluators: there is no way back")
