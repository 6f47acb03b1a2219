"""supply registry imports and aliases

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 15:11:33.526001
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('supply_aliases',
    sa.Column('old_nis', sa.String(length=12), nullable=False),
    sa.Column('nis', sa.String(length=12), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.PrimaryKeyConstraint('old_nis', name=op.f('pk_supply_aliases'))
    )
    with op.batch_alter_table('supply_aliases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supply_aliases_nis'), ['nis'], unique=False)

    op.create_table('supply_imports',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('mapping_hash', sa.String(length=64), nullable=False),
    sa.Column('filename', sa.String(length=300), nullable=False),
    sa.Column('actor', sa.String(length=80), nullable=False),
    sa.Column('rows_done', sa.BigInteger(), nullable=False),
    sa.Column('inserted', sa.Integer(), nullable=False),
    sa.Column('updated', sa.Integer(), nullable=False),
    sa.Column('unchanged', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('sha256', name=op.f('pk_supply_imports'))
    )


def downgrade() -> None:
    op.drop_table('supply_imports')
    with op.batch_alter_table('supply_aliases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supply_aliases_nis'))

    op.drop_table('supply_aliases')
