"""annotations

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import policyflow.models.base

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('annotations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('policy_id', sa.Integer(), nullable=False),
    sa.Column('version_number', sa.Integer(), nullable=False),
    sa.Column('exact', sa.Text(), nullable=False),
    sa.Column('prefix', sa.String(length=64), nullable=False),
    sa.Column('suffix', sa.String(length=64), nullable=False),
    sa.Column('start', sa.Integer(), nullable=False),
    sa.Column('end', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('visibility', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('blocking', sa.Boolean(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('created_at', policyflow.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', policyflow.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', policyflow.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('deleted_at', policyflow.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('open', 'resolved')", name=op.f('ck_annotations_known_status')),
    sa.CheckConstraint("visibility IN ('confidential', 'internal', 'public')", name=op.f('ck_annotations_known_visibility')),
    sa.CheckConstraint('"start" >= 0 AND "end" >= "start"', name=op.f('ck_annotations_span_ordered')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_annotations_author_id_users')),
    sa.ForeignKeyConstraint(['policy_id'], ['policies.id'], name=op.f('fk_annotations_policy_id_policies'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_annotations'))
    )
    with op.batch_alter_table('annotations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_annotations_policy_id'), ['policy_id'], unique=False)

    op.create_table('annotation_edits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('annotation_id', sa.Integer(), nullable=False),
    sa.Column('previous_body', sa.Text(), nullable=False),
    sa.Column('edited_at', policyflow.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['annotation_id'], ['annotations.id'], name=op.f('fk_annotation_edits_annotation_id_annotations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_annotation_edits'))
    )
    with op.batch_alter_table('annotation_edits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_annotation_edits_annotation_id'), ['annotation_id'], unique=False)

    op.create_table('annotation_placements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('annotation_id', sa.Integer(), nullable=False),
    sa.Column('version_number', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('start', sa.Integer(), nullable=True),
    sa.Column('end', sa.Integer(), nullable=True),
    sa.Column('score', sa.Double(), nullable=False),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', policyflow.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('exact', 'moved', 'edited', 'orphaned')", name=op.f('ck_annotation_placements_known_status')),
    sa.CheckConstraint('(status = \'orphaned\' AND "start" IS NULL AND "end" IS NULL) OR (status <> \'orphaned\' AND "start" IS NOT NULL AND "end" IS NOT NULL)', name=op.f('ck_annotation_placements_orphans_have_no_span')),
    sa.ForeignKeyConstraint(['annotation_id'], ['annotations.id'], name=op.f('fk_annotation_placements_annotation_id_annotations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['users.id'], name=op.f('fk_annotation_placements_confirmed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_annotation_placements')),
    sa.UniqueConstraint('annotation_id', 'version_number', name=op.f('uq_annotation_placements_annotation_id_version_number'))
    )
    with op.batch_alter_table('annotation_placements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_annotation_placements_annotation_id'), ['annotation_id'], unique=False)

    op.create_table('annotation_replies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('annotation_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', policyflow.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', policyflow.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['annotation_id'], ['annotations.id'], name=op.f('fk_annotation_replies_annotation_id_annotations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_annotation_replies_author_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_annotation_replies'))
    )
    with op.batch_alter_table('annotation_replies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_annotation_replies_annotation_id'), ['annotation_id'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('annotation_replies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_annotation_replies_annotation_id'))

    op.drop_table('annotation_replies')
    with op.batch_alter_table('annotation_placements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_annotation_placements_annotation_id'))

    op.drop_table('annotation_placements')
    with op.batch_alter_table('annotation_edits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_annotation_edits_annotation_id'))

    op.drop_table('annotation_edits')
    with op.batch_alter_table('annotations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_annotations_policy_id'))

    op.drop_table('annotations')

