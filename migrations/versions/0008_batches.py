"""batches: scanned stacks split at separator sheets (issue 8)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 16:45:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('source_blob_id', sa.Integer(), nullable=False),
    sa.Column('page_count', sa.Integer(), nullable=False),
    sa.Column('separator_pages', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_batches_document_id_documents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['source_blob_id'], ['blobs.id'], name=op.f('fk_batches_source_blob_id_blobs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_batches')),
    sa.UniqueConstraint('document_id', name=op.f('uq_batches_document_id'))
    )
    op.create_table('batch_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('separator_page', sa.Integer(), nullable=True),
    sa.Column('payload', sa.String(length=200), nullable=False),
    sa.Column('nis', sa.String(length=12), nullable=True),
    sa.Column('doc_type', sa.Enum('contrato', 'croquis', 'expediente', 'nota_escribania', 'certificado_estado_cuenta', 'orden_trabajo', 'reclamo_electrodomestico', 'denuncia_robo_medidor', 'devolucion_garantia', 'acuerdo_pago', 'bonificacion_personal', 'alta_baja', 'otro', name='document_type', native_enum=False, length=40), nullable=True),
    sa.Column('problem', sa.String(length=200), nullable=True),
    sa.Column('pages', sa.JSON(), nullable=False),
    sa.Column('rebuild_due', sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], name=op.f('fk_batch_documents_batch_id_batches'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_batch_documents_document_id_documents'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_batch_documents')),
    sa.UniqueConstraint('batch_id', 'seq', name='uq_batch_documents_batch_seq')
    )
    with op.batch_alter_table('batch_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_batch_documents_document_id'), ['document_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('batch_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_batch_documents_document_id'))

    op.drop_table('batch_documents')
    op.drop_table('batches')
