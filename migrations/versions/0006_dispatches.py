"""dispatches: couriers, transit days, dispatches, items, events (issue 7)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 15:56:25.053393
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('dispatch_couriers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dispatch_couriers')),
    sa.UniqueConstraint('name', name=op.f('uq_dispatch_couriers_name'))
    )
    op.create_table('dispatch_transit_days',
    sa.Column('regional_unit_id', sa.Integer(), nullable=False),
    sa.Column('days', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=80), nullable=False),
    sa.CheckConstraint('days >= 0 AND days <= 365', name=op.f('ck_dispatch_transit_days_days_range')),
    sa.ForeignKeyConstraint(['regional_unit_id'], ['regional_units.id'], name=op.f('fk_dispatch_transit_days_regional_unit_id_regional_units'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('regional_unit_id', name=op.f('pk_dispatch_transit_days'))
    )
    op.create_table('dispatches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('state', sa.Enum('borrador', 'preparado', 'enviado', 'recibido', 'recibido_con_observaciones', 'devuelto', 'anulado', name='dispatch_state', native_enum=False, length=40), nullable=False),
    sa.Column('origin', sa.String(length=200), nullable=False),
    sa.Column('regional_unit_id', sa.Integer(), nullable=False),
    sa.Column('return_of_id', sa.Integer(), nullable=True),
    sa.Column('courier_id', sa.Integer(), nullable=True),
    sa.Column('guide_number', sa.String(length=60), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('annul_reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.Column('prepared_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('expected_delivery', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['courier_id'], ['dispatch_couriers.id'], name=op.f('fk_dispatches_courier_id_dispatch_couriers')),
    sa.ForeignKeyConstraint(['regional_unit_id'], ['regional_units.id'], name=op.f('fk_dispatches_regional_unit_id_regional_units')),
    sa.ForeignKeyConstraint(['return_of_id'], ['dispatches.id'], name=op.f('fk_dispatches_return_of_id_dispatches')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dispatches')),
    sa.UniqueConstraint('number', name=op.f('uq_dispatches_number'))
    )
    with op.batch_alter_table('dispatches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dispatches_courier_id'), ['courier_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dispatches_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_dispatches_expected_delivery'), ['expected_delivery'], unique=False)
        batch_op.create_index(batch_op.f('ix_dispatches_regional_unit_id'), ['regional_unit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dispatches_return_of_id'), ['return_of_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dispatches_sent_at'), ['sent_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_dispatches_state'), ['state'], unique=False)

    op.create_table('dispatch_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dispatch_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=80), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('from_state', sa.Enum('borrador', 'preparado', 'enviado', 'recibido', 'recibido_con_observaciones', 'devuelto', 'anulado', name='dispatch_state', native_enum=False, length=40), nullable=True),
    sa.Column('to_state', sa.Enum('borrador', 'preparado', 'enviado', 'recibido', 'recibido_con_observaciones', 'devuelto', 'anulado', name='dispatch_state', native_enum=False, length=40), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['dispatch_id'], ['dispatches.id'], name=op.f('fk_dispatch_events_dispatch_id_dispatches'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dispatch_events'))
    )
    with op.batch_alter_table('dispatch_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dispatch_events_dispatch_id'), ['dispatch_id'], unique=False)

    op.create_table('dispatch_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dispatch_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('documento', 'carpeta', 'texto', name='dispatch_item_kind', native_enum=False, length=40), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('label_code', sa.String(length=60), nullable=True),
    sa.Column('description', sa.String(length=300), nullable=False),
    sa.Column('sheets', sa.Integer(), nullable=True),
    sa.Column('is_original', sa.Boolean(), nullable=False),
    sa.Column('hold_key', sa.String(length=80), nullable=True),
    sa.Column('outcome', sa.Enum('recibido', 'faltante', 'danado', name='dispatch_item_outcome', native_enum=False, length=40), nullable=True),
    sa.Column('outcome_note', sa.Text(), nullable=False),
    sa.Column('resolved', sa.Boolean(), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_by', sa.String(length=80), nullable=False),
    sa.Column('resolution_note', sa.Text(), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('added_by', sa.String(length=80), nullable=False),
    sa.CheckConstraint("(kind <> 'carpeta') OR (label_code IS NOT NULL)", name=op.f('ck_dispatch_items_label_set')),
    sa.CheckConstraint("(kind <> 'documento') OR (document_id IS NOT NULL)", name=op.f('ck_dispatch_items_document_set')),
    sa.CheckConstraint('sheets IS NULL OR sheets >= 0', name=op.f('ck_dispatch_items_sheets_positive')),
    sa.ForeignKeyConstraint(['dispatch_id'], ['dispatches.id'], name=op.f('fk_dispatch_items_dispatch_id_dispatches'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_dispatch_items_document_id_documents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dispatch_items')),
    sa.UniqueConstraint('dispatch_id', 'document_id', name='uq_dispatch_items_document'),
    sa.UniqueConstraint('dispatch_id', 'label_code', name='uq_dispatch_items_label'),
    sa.UniqueConstraint('hold_key', name=op.f('uq_dispatch_items_hold_key'))
    )
    with op.batch_alter_table('dispatch_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dispatch_items_dispatch_id'), ['dispatch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dispatch_items_document_id'), ['document_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dispatch_items_label_code'), ['label_code'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('dispatch_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dispatch_items_label_code'))
        batch_op.drop_index(batch_op.f('ix_dispatch_items_document_id'))
        batch_op.drop_index(batch_op.f('ix_dispatch_items_dispatch_id'))

    op.drop_table('dispatch_items')
    with op.batch_alter_table('dispatch_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dispatch_events_dispatch_id'))

    op.drop_table('dispatch_events')
    with op.batch_alter_table('dispatches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dispatches_state'))
        batch_op.drop_index(batch_op.f('ix_dispatches_sent_at'))
        batch_op.drop_index(batch_op.f('ix_dispatches_return_of_id'))
        batch_op.drop_index(batch_op.f('ix_dispatches_regional_unit_id'))
        batch_op.drop_index(batch_op.f('ix_dispatches_expected_delivery'))
        batch_op.drop_index(batch_op.f('ix_dispatches_created_at'))
        batch_op.drop_index(batch_op.f('ix_dispatches_courier_id'))

    op.drop_table('dispatches')
    op.drop_table('dispatch_transit_days')
    op.drop_table('dispatch_couriers')
