"""decisions, recusals, policy followers; leaders' positions; policy owners; an index for the comment report

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import policyflow.models.base

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

NOTIFICATION_KINDS_BEFORE = "kind IN ('stage_changed', 'decision_needed', 'deadline_near', 'overdue', 'assigned')"
NOTIFICATION_KINDS_NOW = ("kind IN ('stage_changed', 'decision_needed', 'deadline_near', 'overdue', 'assigned', "
                          "'quorum_reached', 'policy_published', 'periodic_review')")


def upgrade() -> None:
    op.create_table('policy_subscriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('policy_id', sa.Integer(), nullable=False),
    sa.Column('created_at', policyflow.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['policy_id'], ['policies.id'], name=op.f('fk_policy_subscriptions_policy_id_policies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_policy_subscriptions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_policy_subscriptions')),
    sa.UniqueConstraint('user_id', 'policy_id', name=op.f('uq_policy_subscriptions_user_id_policy_id'))
    )
    with op.batch_alter_table('policy_subscriptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_policy_subscriptions_policy_id'), ['policy_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_policy_subscriptions_user_id'), ['user_id'], unique=False)

    op.create_table('decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('decision', sa.String(length=32), nullable=False),
    sa.Column('version_number', sa.Integer(), nullable=False),
    sa.Column('version_sha256', sa.String(length=64), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('position', sa.String(length=200), nullable=True),
    sa.Column('decided_at', policyflow.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('dismissed_at', policyflow.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('dismissed_because', sa.String(length=32), nullable=True),
    sa.CheckConstraint("decision = 'approve' OR length(note) > 0", name=op.f('ck_decisions_changes_and_rejections_say_why')),
    sa.CheckConstraint("decision IN ('approve', 'request_changes', 'reject')", name=op.f('ck_decisions_known_decision')),
    sa.CheckConstraint("dismissed_because IS NULL OR dismissed_because IN ('new_version', 'superseded', 'recused')", name=op.f('ck_decisions_known_dismissal')),
    sa.CheckConstraint('(dismissed_at IS NULL) = (dismissed_because IS NULL)', name=op.f('ck_decisions_dismissal_has_a_reason')),
    sa.ForeignKeyConstraint(['review_id'], ['reviews.id'], name=op.f('fk_decisions_review_id_reviews'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_decisions_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_decisions'))
    )
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.create_index('ix_decisions_review_active', ['review_id', 'dismissed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_decisions_review_id'), ['review_id'], unique=False)

    op.create_table('recusals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('recused_at', policyflow.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('length(reason) > 0', name=op.f('ck_recusals_recusal_says_why')),
    sa.ForeignKeyConstraint(['review_id'], ['reviews.id'], name=op.f('fk_recusals_review_id_reviews'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_recusals_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recusals')),
    sa.UniqueConstraint('review_id', 'user_id', name=op.f('uq_recusals_review_id_user_id'))
    )
    with op.batch_alter_table('recusals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recusals_review_id'), ['review_id'], unique=False)

    with op.batch_alter_table('policies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_policies_owner_id_users'), 'users', ['owner_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('position', sa.String(length=200), nullable=True))

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_notifications_known_kind'), type_='check')
        batch_op.create_check_constraint('known_kind', NOTIFICATION_KINDS_NOW)

    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.create_index('ix_comments_review_changes', ['review_id', 'dispositioned_at', 'hidden_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index('ix_comments_review_changes')
    op.execute(sa.text(f"DELETE FROM notifications WHERE NOT ({NOTIFICATION_KINDS_BEFORE})"))
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_notifications_known_kind'), type_='check')
        batch_op.create_check_constraint('known_kind', NOTIFICATION_KINDS_BEFORE)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('position')

    with op.batch_alter_table('policies', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_policies_owner_id_users'), type_='foreignkey')
        batch_op.drop_column('owner_id')

    with op.batch_alter_table('recusals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recusals_review_id'))

    op.drop_table('recusals')
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_decisions_review_id'))
        batch_op.drop_index('ix_decisions_review_active')

    op.drop_table('decisions')
    with op.batch_alter_table('policy_subscriptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_policy_subscriptions_user_id'))
        batch_op.drop_index(batch_op.f('ix_policy_subscriptions_policy_id'))

    op.drop_table('policy_subscriptions')
