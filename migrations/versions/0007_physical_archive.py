"""physical archive: levels, locations, folders, document places, moves, loans (issue 8)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 16:29:02.167026

Seeds the four default levels (Depósito > Sala > Estante > Caja); an archive
with another layout renames them or adds one with «archivo fisico niveles».
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    levels = op.create_table('physical_levels',
    sa.Column('depth', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('code_prefix', sa.String(length=12), nullable=False),
    sa.CheckConstraint('depth >= 1', name=op.f('ck_physical_levels_depth_positive')),
    sa.PrimaryKeyConstraint('depth', name=op.f('pk_physical_levels'))
    )
    op.bulk_insert(levels, [
        {'depth': 1, 'name': 'Depósito', 'code_prefix': 'DEP'},
        {'depth': 2, 'name': 'Sala', 'code_prefix': 'SALA'},
        {'depth': 3, 'name': 'Estante', 'code_prefix': 'EST'},
        {'depth': 4, 'name': 'Caja', 'code_prefix': 'CAJA'},
    ])
    op.create_table('physical_locations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('depth', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.ForeignKeyConstraint(['depth'], ['physical_levels.depth'], name=op.f('fk_physical_locations_depth_physical_levels')),
    sa.ForeignKeyConstraint(['parent_id'], ['physical_locations.id'], name=op.f('fk_physical_locations_parent_id_physical_locations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_physical_locations')),
    sa.UniqueConstraint('code', name=op.f('uq_physical_locations_code'))
    )
    with op.batch_alter_table('physical_locations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_physical_locations_depth'), ['depth'], unique=False)
        batch_op.create_index(batch_op.f('ix_physical_locations_parent_id'), ['parent_id'], unique=False)

    op.create_table('physical_folders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('nis', sa.String(length=12), nullable=True),
    sa.Column('description', sa.String(length=300), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['location_id'], ['physical_locations.id'], name=op.f('fk_physical_folders_location_id_physical_locations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_physical_folders')),
    sa.UniqueConstraint('code', name=op.f('uq_physical_folders_code'))
    )
    with op.batch_alter_table('physical_folders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_physical_folders_location_id'), ['location_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_physical_folders_nis'), ['nis'], unique=False)

    op.create_table('physical_document_places',
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('folder_id', sa.Integer(), nullable=True),
    sa.Column('location_id', sa.Integer(), nullable=True),
    sa.Column('placed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('placed_by', sa.String(length=80), nullable=False),
    sa.CheckConstraint('(folder_id IS NULL) <> (location_id IS NULL)', name=op.f('ck_physical_document_places_one_place')),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_physical_document_places_document_id_documents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['folder_id'], ['physical_folders.id'], name=op.f('fk_physical_document_places_folder_id_physical_folders')),
    sa.ForeignKeyConstraint(['location_id'], ['physical_locations.id'], name=op.f('fk_physical_document_places_location_id_physical_locations')),
    sa.PrimaryKeyConstraint('document_id', name=op.f('pk_physical_document_places'))
    )
    with op.batch_alter_table('physical_document_places', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_physical_document_places_folder_id'), ['folder_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_physical_document_places_location_id'), ['location_id'], unique=False)

    op.create_table('physical_loans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('folder_id', sa.Integer(), nullable=False),
    sa.Column('borrower', sa.String(length=200), nullable=False),
    sa.Column('lent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lent_by', sa.String(length=80), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('returned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('returned_by', sa.String(length=80), nullable=False),
    sa.Column('return_note', sa.Text(), nullable=False),
    sa.Column('open_folder_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['folder_id'], ['physical_folders.id'], name=op.f('fk_physical_loans_folder_id_physical_folders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_physical_loans')),
    sa.UniqueConstraint('open_folder_id', name=op.f('uq_physical_loans_open_folder_id'))
    )
    with op.batch_alter_table('physical_loans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_physical_loans_due_date'), ['due_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_physical_loans_folder_id'), ['folder_id'], unique=False)

    op.create_table('physical_moves',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('folder_id', sa.Integer(), nullable=True),
    sa.Column('location_id', sa.Integer(), nullable=True),
    sa.Column('from_location_id', sa.Integer(), nullable=True),
    sa.Column('to_location_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=80), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.CheckConstraint('(folder_id IS NULL) <> (location_id IS NULL)', name=op.f('ck_physical_moves_one_subject')),
    sa.ForeignKeyConstraint(['folder_id'], ['physical_folders.id'], name=op.f('fk_physical_moves_folder_id_physical_folders')),
    sa.ForeignKeyConstraint(['from_location_id'], ['physical_locations.id'], name=op.f('fk_physical_moves_from_location_id_physical_locations')),
    sa.ForeignKeyConstraint(['location_id'], ['physical_locations.id'], name=op.f('fk_physical_moves_location_id_physical_locations')),
    sa.ForeignKeyConstraint(['to_location_id'], ['physical_locations.id'], name=op.f('fk_physical_moves_to_location_id_physical_locations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_physical_moves'))
    )
    with op.batch_alter_table('physical_moves', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_physical_moves_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_physical_moves_folder_id'), ['folder_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_physical_moves_location_id'), ['location_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('physical_moves', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_physical_moves_location_id'))
        batch_op.drop_index(batch_op.f('ix_physical_moves_folder_id'))
        batch_op.drop_index(batch_op.f('ix_physical_moves_at'))

    op.drop_table('physical_moves')
    with op.batch_alter_table('physical_loans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_physical_loans_folder_id'))
        batch_op.drop_index(batch_op.f('ix_physical_loans_due_date'))

    op.drop_table('physical_loans')
    with op.batch_alter_table('physical_document_places', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_physical_document_places_location_id'))
        batch_op.drop_index(batch_op.f('ix_physical_document_places_folder_id'))

    op.drop_table('physical_document_places')
    with op.batch_alter_table('physical_folders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_physical_folders_nis'))
        batch_op.drop_index(batch_op.f('ix_physical_folders_location_id'))

    op.drop_table('physical_folders')
    with op.batch_alter_table('physical_locations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_physical_locations_parent_id'))
        batch_op.drop_index(batch_op.f('ix_physical_locations_depth'))

    op.drop_table('physical_locations')
    op.drop_table('physical_levels')
