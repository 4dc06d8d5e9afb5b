"""reviews

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import policyflow.models.base

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('policy_id', sa.Integer(), nullable=False),
    sa.Column('workflow_name', sa.String(length=100), nullable=False),
    sa.Column('workflow_hash', sa.String(length=64), nullable=False),
    sa.Column('workflow_source', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=64), nullable=False),
    sa.Column('state_version', sa.Integer(), nullable=False),
    sa.Column('version_number', sa.Integer(), nullable=False),
    sa.Column('started_by_id', sa.Integer(), nullable=True),
    sa.Column('started_at', policyflow.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('stage_entered_at', policyflow.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('stage_due_at', policyflow.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ended_at', policyflow.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('comment_opens_on', sa.Date(), nullable=True),
    sa.Column('comment_closes_on', sa.Date(), nullable=True),
    sa.Column('legal_basis', sa.Text(), nullable=True),
    sa.CheckConstraint('comment_closes_on IS NULL OR comment_opens_on IS NULL OR comment_closes_on >= comment_opens_on', name=op.f('ck_reviews_comment_period_ordered')),
    sa.CheckConstraint('state_version >= 1', name=op.f('ck_reviews_state_version_positive')),
    sa.ForeignKeyConstraint(['policy_id'], ['policies.id'], name=op.f('fk_reviews_policy_id_policies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['started_by_id'], ['users.id'], name=op.f('fk_reviews_started_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reviews'))
    )
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reviews_policy_id'), ['policy_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reviews_state'), ['state'], unique=False)
        batch_op.create_index('uq_reviews_one_active_per_policy', ['policy_id'], unique=True, sqlite_where=sa.text('ended_at IS NULL'), postgresql_where=sa.text('ended_at IS NULL'))

    op.create_table('review_transitions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=100), nullable=True),
    sa.Column('from_state', sa.String(length=64), nullable=True),
    sa.Column('to_state', sa.String(length=64), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('occurred_at', policyflow.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['review_id'], ['reviews.id'], name=op.f('fk_review_transitions_review_id_reviews'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_transitions'))
    )
    with op.batch_alter_table('review_transitions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_transitions_review_id'), ['review_id'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('review_transitions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_transitions_review_id'))

    op.drop_table('review_transitions')
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_index('uq_reviews_one_active_per_policy', sqlite_where=sa.text('ended_at IS NULL'), postgresql_where=sa.text('ended_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_reviews_state'))
        batch_op.drop_index(batch_op.f('ix_reviews_policy_id'))

    op.drop_table('reviews')

