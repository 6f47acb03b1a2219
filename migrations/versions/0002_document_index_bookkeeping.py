"""document index bookkeeping

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 13:49:40.482317
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('index_due', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('indexed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_documents_index_due'), ['index_due'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_documents_index_due'))
        batch_op.drop_column('indexed_at')
        batch_op.drop_column('index_due')

