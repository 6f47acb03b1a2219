"""page derivative checksums (sha256 and size) and indexed derivative keys

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 18:32:26.860320
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('pages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('image_sha256', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('image_size', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('thumb_sha256', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('thumb_size', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('words_sha256', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('words_size', sa.BigInteger(), nullable=True))
        batch_op.create_index(batch_op.f('ix_pages_image_key'), ['image_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_pages_thumb_key'), ['thumb_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_pages_words_key'), ['words_key'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('pages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pages_words_key'))
        batch_op.drop_index(batch_op.f('ix_pages_thumb_key'))
        batch_op.drop_index(batch_op.f('ix_pages_image_key'))
        batch_op.drop_column('words_size')
        batch_op.drop_column('words_sha256')
        batch_op.drop_column('thumb_size')
        batch_op.drop_column('thumb_sha256')
        batch_op.drop_column('image_size')
        batch_op.drop_column('image_sha256')
