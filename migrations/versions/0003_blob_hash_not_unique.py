"""blob hash not unique

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 14:32:29.397856
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('blobs', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_blobs_sha256'), type_='unique')
        batch_op.create_index(batch_op.f('ix_blobs_sha256'), ['sha256'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('blobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_blobs_sha256'))
        batch_op.create_unique_constraint(batch_op.f('uq_blobs_sha256'), ['sha256'])

