"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-28 13:27:51.562414
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=80), nullable=False),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('object_type', sa.String(length=40), nullable=False),
    sa.Column('object_id', sa.String(length=60), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events')),
    sa.UniqueConstraint('hash', name=op.f('uq_audit_events_hash'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_at'), ['at'], unique=False)
        batch_op.create_index('ix_audit_events_object', ['object_type', 'object_id'], unique=False)

    op.create_table('blobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('media_type', sa.String(length=100), nullable=False),
    sa.Column('storage_key', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_blobs')),
    sa.UniqueConstraint('sha256', name=op.f('uq_blobs_sha256')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_blobs_storage_key'))
    )
    op.create_table('regional_units',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('city', sa.String(length=120), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('contact', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_regional_units')),
    sa.UniqueConstraint('code', name=op.f('uq_regional_units_code'))
    )
    op.create_table('sequences',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_sequences'))
    )
    op.create_table('documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('archive_number', sa.String(length=20), nullable=False),
    sa.Column('doc_type', sa.Enum('contrato', 'croquis', 'expediente', 'nota_escribania', 'certificado_estado_cuenta', 'orden_trabajo', 'reclamo_electrodomestico', 'denuncia_robo_medidor', 'devolucion_garantia', 'acuerdo_pago', 'bonificacion_personal', 'alta_baja', 'otro', name='document_type', native_enum=False, length=40), nullable=False),
    sa.Column('doc_type_confidence', sa.Float(), nullable=True),
    sa.Column('doc_type_fixed', sa.Boolean(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('status', sa.Enum('recibido', 'procesando', 'listo', 'revisar', 'error', name='document_status', native_enum=False, length=40), nullable=False),
    sa.Column('expediente', sa.String(length=40), nullable=True),
    sa.Column('ot_number', sa.String(length=40), nullable=True),
    sa.Column('document_date', sa.Date(), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_by', sa.String(length=80), nullable=False),
    sa.Column('original_blob_id', sa.Integer(), nullable=False),
    sa.Column('original_filename', sa.String(length=300), nullable=False),
    sa.Column('pdf_blob_id', sa.Integer(), nullable=True),
    sa.Column('page_count', sa.Integer(), nullable=False),
    sa.Column('ocr_confidence', sa.Float(), nullable=True),
    sa.Column('review_reasons', sa.String(length=300), nullable=False),
    sa.Column('error_code', sa.String(length=30), nullable=True),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.Column('claim_token', sa.String(length=36), nullable=True),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['original_blob_id'], ['blobs.id'], name=op.f('fk_documents_original_blob_id_blobs')),
    sa.ForeignKeyConstraint(['pdf_blob_id'], ['blobs.id'], name=op.f('fk_documents_pdf_blob_id_blobs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_documents')),
    sa.UniqueConstraint('archive_number', name=op.f('uq_documents_archive_number')),
    sa.UniqueConstraint('original_blob_id', name=op.f('uq_documents_original_blob_id'))
    )
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_documents_doc_type'), ['doc_type'], unique=False)
        batch_op.create_index(batch_op.f('ix_documents_document_date'), ['document_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_documents_expediente'), ['expediente'], unique=False)
        batch_op.create_index(batch_op.f('ix_documents_ot_number'), ['ot_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_documents_received_at'), ['received_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_documents_status'), ['status'], unique=False)

    op.create_table('supplies',
    sa.Column('nis', sa.String(length=12), nullable=False),
    sa.Column('holder_name', sa.String(length=200), nullable=False),
    sa.Column('holder_document', sa.String(length=30), nullable=False),
    sa.Column('address', sa.String(length=250), nullable=False),
    sa.Column('city', sa.String(length=120), nullable=False),
    sa.Column('regional_unit_id', sa.Integer(), nullable=True),
    sa.Column('tariff', sa.String(length=80), nullable=False),
    sa.Column('status', sa.Enum('activo', 'cancelado', name='supply_status', native_enum=False, length=40), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("nis <> ''", name=op.f('ck_supplies_nis_not_empty')),
    sa.ForeignKeyConstraint(['regional_unit_id'], ['regional_units.id'], name=op.f('fk_supplies_regional_unit_id_regional_units')),
    sa.PrimaryKeyConstraint('nis', name=op.f('pk_supplies'))
    )
    with op.batch_alter_table('supplies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supplies_holder_document'), ['holder_document'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=300), nullable=False),
    sa.Column('role', sa.Enum('admin', 'archivista', 'consulta', 'despacho', 'regional', name='user_role', native_enum=False, length=40), nullable=False),
    sa.Column('regional_unit_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['regional_unit_id'], ['regional_units.id'], name=op.f('fk_users_regional_unit_id_regional_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('document_identifiers',
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('value', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_document_identifiers_document_id_documents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('document_id', 'kind', 'value', name=op.f('pk_document_identifiers'))
    )
    with op.batch_alter_table('document_identifiers', schema=None) as batch_op:
        batch_op.create_index('ix_document_identifiers_kind_value', ['kind', 'value'], unique=False)

    op.create_table('document_supplies',
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('nis', sa.String(length=12), nullable=False),
    sa.Column('source', sa.Enum('manual', 'ocr', 'codigo', name='link_source', native_enum=False, length=40), nullable=False),
    sa.Column('confidence', sa.Float(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_document_supplies_document_id_documents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('document_id', 'nis', name=op.f('pk_document_supplies'))
    )
    with op.batch_alter_table('document_supplies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_supplies_nis'), ['nis'], unique=False)

    op.create_table('pages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('text_source', sa.String(length=10), nullable=False),
    sa.Column('ocr_confidence', sa.Float(), nullable=True),
    sa.Column('rotation', sa.Integer(), nullable=False),
    sa.Column('skew', sa.Float(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('dpi', sa.Integer(), nullable=False),
    sa.Column('image_key', sa.String(length=300), nullable=True),
    sa.Column('thumb_key', sa.String(length=300), nullable=True),
    sa.Column('words_key', sa.String(length=300), nullable=True),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_pages_document_id_documents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pages')),
    sa.UniqueConstraint('document_id', 'number', name='uq_pages_document_number')
    )


def downgrade() -> None:
    op.drop_table('pages')
    with op.batch_alter_table('document_supplies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_supplies_nis'))

    op.drop_table('document_supplies')
    with op.batch_alter_table('document_identifiers', schema=None) as batch_op:
        batch_op.drop_index('ix_document_identifiers_kind_value')

    op.drop_table('document_identifiers')
    op.drop_table('users')
    with op.batch_alter_table('supplies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supplies_holder_document'))

    op.drop_table('supplies')
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_documents_status'))
        batch_op.drop_index(batch_op.f('ix_documents_received_at'))
        batch_op.drop_index(batch_op.f('ix_documents_ot_number'))
        batch_op.drop_index(batch_op.f('ix_documents_expediente'))
        batch_op.drop_index(batch_op.f('ix_documents_document_date'))
        batch_op.drop_index(batch_op.f('ix_documents_doc_type'))

    op.drop_table('documents')
    op.drop_table('sequences')
    op.drop_table('regional_units')
    op.drop_table('blobs')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_object')
        batch_op.drop_index(batch_op.f('ix_audit_events_at'))
        batch_op.drop_index(batch_op.f('ix_audit_events_action'))

    op.drop_table('audit_events')
