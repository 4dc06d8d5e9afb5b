"""equity

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import policyflow.models.base

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('equity_assessments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('version_number', sa.Integer(), nullable=False),
    sa.Column('definition_hash', sa.String(length=64), nullable=False),
    sa.Column('definition_source', sa.Text(), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('created_at', policyflow.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', policyflow.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('completed_at', policyflow.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('completed_by_id', sa.Integer(), nullable=True),
    sa.Column('changes_explained', sa.Text(), nullable=True),
    sa.Column('changes_explained_version', sa.Integer(), nullable=True),
    sa.Column('changes_explained_at', policyflow.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('changes_explained_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("(status = 'complete' AND completed_at IS NOT NULL) OR (status = 'in_progress' AND completed_at IS NULL AND completed_by_id IS NULL)", name=op.f('ck_equity_assessments_completion_recorded')),
    sa.CheckConstraint("status IN ('in_progress', 'complete')", name=op.f('ck_equity_assessments_known_status')),
    sa.CheckConstraint('(changes_explained IS NULL) = (changes_explained_version IS NULL)', name=op.f('ck_equity_assessments_explanation_has_version')),
    sa.CheckConstraint('changes_explained_version IS NULL OR changes_explained_version > version_number', name=op.f('ck_equity_assessments_explains_a_later_version')),
    sa.CheckConstraint('revision >= 0', name=op.f('ck_equity_assessments_revision_not_negative')),
    sa.CheckConstraint('version_number >= 1', name=op.f('ck_equity_assessments_version_positive')),
    sa.ForeignKeyConstraint(['changes_explained_by_id'], ['users.id'], name=op.f('fk_equity_assessments_changes_explained_by_id_users')),
    sa.ForeignKeyConstraint(['completed_by_id'], ['users.id'], name=op.f('fk_equity_assessments_completed_by_id_users')),
    sa.ForeignKeyConstraint(['review_id'], ['reviews.id'], name=op.f('fk_equity_assessments_review_id_reviews'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_equity_assessments')),
    sa.UniqueConstraint('review_id', name=op.f('uq_equity_assessments_review_id'))
    )
    op.create_table('equity_answer_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assessment_id', sa.Integer(), nullable=False),
    sa.Column('question_key', sa.String(length=200), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('value', sa.JSON(), nullable=True),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.Column('changed_at', policyflow.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('revision >= 1', name=op.f('ck_equity_answer_changes_revision_positive')),
    sa.ForeignKeyConstraint(['assessment_id'], ['equity_assessments.id'], name=op.f('fk_equity_answer_changes_assessment_id_equity_assessments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['changed_by_id'], ['users.id'], name=op.f('fk_equity_answer_changes_changed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_equity_answer_changes'))
    )
    with op.batch_alter_table('equity_answer_changes', schema=None) as batch_op:
        batch_op.create_index('ix_equity_answer_changes_assessment_key', ['assessment_id', 'question_key', 'revision'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('equity_answer_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_equity_answer_changes_assessment_key')

    op.drop_table('equity_answer_changes')
    op.drop_table('equity_assessments')
