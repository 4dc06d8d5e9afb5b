"""comments

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import policyflow.models.base

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('comments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('policy_id', sa.Integer(), nullable=False),
    sa.Column('version_number', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=True),
    sa.Column('exact', sa.Text(), nullable=True),
    sa.Column('prefix', sa.String(length=64), nullable=True),
    sa.Column('suffix', sa.String(length=64), nullable=True),
    sa.Column('start', sa.Integer(), nullable=True),
    sa.Column('end', sa.Integer(), nullable=True),
    sa.Column('identity_mode', sa.String(length=16), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('disclosure_permitted', sa.Boolean(), nullable=False),
    sa.Column('filed_by_id', sa.Integer(), nullable=True),
    sa.Column('filed_via', sa.String(length=16), nullable=True),
    sa.Column('receipt_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', policyflow.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('band0', sa.Integer(), nullable=False),
    sa.Column('band1', sa.Integer(), nullable=False),
    sa.Column('band2', sa.Integer(), nullable=False),
    sa.Column('band3', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.Column('hidden_at', policyflow.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('hidden_by_id', sa.Integer(), nullable=True),
    sa.Column('hidden_reason', sa.Text(), nullable=True),
    sa.Column('disposition', sa.String(length=32), nullable=True),
    sa.Column('response', sa.Text(), nullable=True),
    sa.Column('changed_in_version', sa.Integer(), nullable=True),
    sa.Column('dispositioned_at', policyflow.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('dispositioned_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("disclosure_permitted = false OR identity_mode = 'confidential'", name=op.f('ck_comments_disclosure_only_for_confidential')),
    sa.CheckConstraint("disposition IS NULL OR disposition IN ('accepted', 'partially_accepted', 'not_accepted', 'out_of_scope')", name=op.f('ck_comments_known_disposition')),
    sa.CheckConstraint("filed_via IS NULL OR filed_via IN ('phone', 'email', 'letter', 'in_person', 'meeting')", name=op.f('ck_comments_known_channel')),
    sa.CheckConstraint("identity_mode <> 'anonymous' OR (author_id IS NULL AND name IS NULL AND email IS NULL)", name=op.f('ck_comments_anonymous_keeps_no_identity')),
    sa.CheckConstraint("identity_mode = 'anonymous' OR name IS NOT NULL", name=op.f('ck_comments_named_modes_have_a_name')),
    sa.CheckConstraint("identity_mode IN ('public', 'confidential', 'anonymous')", name=op.f('ck_comments_known_identity_mode')),
    sa.CheckConstraint('("start" IS NULL AND "end" IS NULL AND exact IS NULL) OR ("start" >= 0 AND "end" > "start" AND exact IS NOT NULL)', name=op.f('ck_comments_target_complete')),
    sa.CheckConstraint('hidden_at IS NULL OR hidden_reason IS NOT NULL', name=op.f('ck_comments_hidden_needs_reason')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_comments_author_id_users')),
    sa.ForeignKeyConstraint(['dispositioned_by_id'], ['users.id'], name=op.f('fk_comments_dispositioned_by_id_users')),
    sa.ForeignKeyConstraint(['filed_by_id'], ['users.id'], name=op.f('fk_comments_filed_by_id_users')),
    sa.ForeignKeyConstraint(['hidden_by_id'], ['users.id'], name=op.f('fk_comments_hidden_by_id_users')),
    sa.ForeignKeyConstraint(['policy_id'], ['policies.id'], name=op.f('fk_comments_policy_id_policies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['review_id'], ['reviews.id'], name=op.f('fk_comments_review_id_reviews'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comments')),
    sa.UniqueConstraint('receipt_hash', name=op.f('uq_comments_receipt_hash'))
    )
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_comments_policy_id'), ['policy_id'], unique=False)
        batch_op.create_index('ix_comments_review_band0', ['review_id', 'band0'], unique=False)
        batch_op.create_index('ix_comments_review_band1', ['review_id', 'band1'], unique=False)
        batch_op.create_index('ix_comments_review_band2', ['review_id', 'band2'], unique=False)
        batch_op.create_index('ix_comments_review_band3', ['review_id', 'band3'], unique=False)
        batch_op.create_index('ix_comments_review_category', ['review_id', 'category'], unique=False)
        batch_op.create_index('ix_comments_review_disposition', ['review_id', 'disposition'], unique=False)
        batch_op.create_index('ix_comments_review_group', ['review_id', 'group_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_comments_review_id'), ['review_id'], unique=False)

    op.create_table('comment_consents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.Column('granted', sa.Boolean(), nullable=False),
    sa.Column('recorded_at', policyflow.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], name=op.f('fk_comment_consents_comment_id_comments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_comment_consents_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comment_consents'))
    )
    with op.batch_alter_table('comment_consents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_comment_consents_comment_id'), ['comment_id'], unique=False)

    op.create_table('comment_placements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.Column('version_number', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('start', sa.Integer(), nullable=True),
    sa.Column('end', sa.Integer(), nullable=True),
    sa.Column('score', sa.Double(), nullable=False),
    sa.CheckConstraint("status IN ('exact', 'moved', 'edited', 'orphaned')", name=op.f('ck_comment_placements_known_status')),
    sa.CheckConstraint('(status = \'orphaned\' AND "start" IS NULL AND "end" IS NULL) OR (status <> \'orphaned\' AND "start" IS NOT NULL AND "end" IS NOT NULL)', name=op.f('ck_comment_placements_orphans_have_no_span')),
    sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], name=op.f('fk_comment_placements_comment_id_comments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comment_placements')),
    sa.UniqueConstraint('comment_id', 'version_number', name=op.f('uq_comment_placements_comment_id_version_number'))
    )
    with op.batch_alter_table('comment_placements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_comment_placements_comment_id'), ['comment_id'], unique=False)

    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.add_column(sa.Column('public_summary', sa.Text(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_column('public_summary')

    with op.batch_alter_table('comment_placements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_comment_placements_comment_id'))

    op.drop_table('comment_placements')
    with op.batch_alter_table('comment_consents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_comment_consents_comment_id'))

    op.drop_table('comment_consents')
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_comments_review_id'))
        batch_op.drop_index('ix_comments_review_group')
        batch_op.drop_index('ix_comments_review_disposition')
        batch_op.drop_index('ix_comments_review_category')
        batch_op.drop_index('ix_comments_review_band3')
        batch_op.drop_index('ix_comments_review_band2')
        batch_op.drop_index('ix_comments_review_band1')
        batch_op.drop_index('ix_comments_review_band0')
        batch_op.drop_index(batch_op.f('ix_comments_policy_id'))

    op.drop_table('comments')
