"""audit events: an HMAC seal made with a key kept outside the database

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 12:00:00.000000
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Events already written keep mac NULL: the key file records the first event that must
    # carry a seal (see archive/audit_key.py), so old events are verified by the plain chain.
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mac', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_column('mac')
