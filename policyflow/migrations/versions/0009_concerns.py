"""concerns: de-identified facts, sealed identities, working notes, consent, disclosures, review rationale; the ombuds lead role

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import policyflow.models.base

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

ROLES_BEFORE = "role IN ('admin', 'ombuds', 'reviewer', 'leadership', 'stakeholder')"
ROLES_NOW = "role IN ('admin', 'ombuds', 'ombuds_lead', 'reviewer', 'leadership', 'stakeholder')"


def _roles(check: str) -> None:
    with op.batch_alter_table('user_roles', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_user_roles_known_role'), type_='check')
        batch_op.create_check_constraint('known_role', check)


NOTIFICATION_KINDS_BEFORE = ("kind IN ('stage_changed', 'decision_needed', 'deadline_near', 'overdue', 'assigned', "
                             "'quorum_reached', 'policy_published', 'periodic_review')")
NOTIFICATION_KINDS_NOW = ("kind IN ('stage_changed', 'decision_needed', 'deadline_near', 'overdue', 'assigned', "
                          "'quorum_reached', 'policy_published', 'periodic_review', 'concern_exception')")


def _notification_kinds(check: str) -> None:
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_notifications_known_kind'), type_='check')
        batch_op.create_check_constraint('known_kind', check)


def upgrade() -> None:
    _roles(ROLES_NOW)
    _notification_kinds(NOTIFICATION_KINDS_NOW)
    op.create_table('concerns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('raised_by', sa.String(length=32), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('themes', sa.JSON(), nullable=False),
    sa.Column('subgroups', sa.JSON(), nullable=False),
    sa.Column('school_or_department', sa.String(length=200), nullable=True),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('outcome', sa.Text(), nullable=True),
    sa.Column('handler_id', sa.Integer(), nullable=False),
    sa.Column('created_at', policyflow.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', policyflow.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('notes_purged_at', policyflow.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("(status IN ('resolved', 'referred')) = (closed_at IS NOT NULL)", name=op.f('ck_concerns_closed_when_done')),
    sa.CheckConstraint("channel IN ('phone', 'email', 'walk_in', 'feedback_platform', 'school_visit')", name=op.f('ck_concerns_known_channel')),
    sa.CheckConstraint("raised_by IN ('student', 'parent_guardian', 'employee', 'community_member', 'organization')", name=op.f('ck_concerns_known_raiser')),
    sa.CheckConstraint("status IN ('open', 'informal_resolution', 'resolved', 'referred')", name=op.f('ck_concerns_known_status')),
    sa.CheckConstraint('notes_purged_at IS NULL OR closed_at IS NOT NULL', name=op.f('ck_concerns_purged_only_when_closed')),
    sa.ForeignKeyConstraint(['handler_id'], ['users.id'], name=op.f('fk_concerns_handler_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_concerns'))
    )
    with op.batch_alter_table('concerns', schema=None) as batch_op:
        batch_op.create_index('ix_concerns_received_on', ['received_on'], unique=False)

    op.create_table('concern_consents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('concern_id', sa.Integer(), nullable=False),
    sa.Column('what', sa.Text(), nullable=False),
    sa.Column('with_whom', sa.Text(), nullable=False),
    sa.Column('given_on', sa.Date(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', policyflow.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', policyflow.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint('length(what) > 0 AND length(with_whom) > 0', name=op.f('ck_concern_consents_consent_says_what_and_whom')),
    sa.ForeignKeyConstraint(['concern_id'], ['concerns.id'], name=op.f('fk_concern_consents_concern_id_concerns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_concern_consents_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_concern_consents'))
    )
    with op.batch_alter_table('concern_consents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_concern_consents_concern_id'), ['concern_id'], unique=False)

    op.create_table('concern_identities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('concern_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('contact', sa.String(length=320), nullable=True),
    sa.ForeignKeyConstraint(['concern_id'], ['concerns.id'], name=op.f('fk_concern_identities_concern_id_concerns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_concern_identities')),
    sa.UniqueConstraint('concern_id', name=op.f('uq_concern_identities_concern_id'))
    )
    op.create_table('concern_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('concern_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', policyflow.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_concern_notes_author_id_users')),
    sa.ForeignKeyConstraint(['concern_id'], ['concerns.id'], name=op.f('fk_concern_notes_concern_id_concerns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_concern_notes'))
    )
    with op.batch_alter_table('concern_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_concern_notes_concern_id'), ['concern_id'], unique=False)

    op.create_table('concern_policies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('concern_id', sa.Integer(), nullable=False),
    sa.Column('policy_id', sa.Integer(), nullable=False),
    sa.Column('version_number', sa.Integer(), nullable=False),
    sa.Column('exact', sa.Text(), nullable=True),
    sa.Column('prefix', sa.String(length=64), nullable=True),
    sa.Column('suffix', sa.String(length=64), nullable=True),
    sa.Column('start', sa.Integer(), nullable=True),
    sa.Column('end', sa.Integer(), nullable=True),
    sa.CheckConstraint('(start IS NULL) = ("end" IS NULL)', name=op.f('ck_concern_policies_whole_span_or_none')),
    sa.ForeignKeyConstraint(['concern_id'], ['concerns.id'], name=op.f('fk_concern_policies_concern_id_concerns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['policy_id'], ['policies.id'], name=op.f('fk_concern_policies_policy_id_policies'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_concern_policies'))
    )
    with op.batch_alter_table('concern_policies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_concern_policies_concern_id'), ['concern_id'], unique=False)
        batch_op.create_index('ix_concern_policies_policy', ['policy_id'], unique=False)

    op.create_table('concern_disclosures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('concern_id', sa.Integer(), nullable=False),
    sa.Column('grounds', sa.String(length=32), nullable=False),
    sa.Column('consent_id', sa.Integer(), nullable=True),
    sa.Column('shared', sa.Text(), nullable=False),
    sa.Column('shared_with', sa.Text(), nullable=False),
    sa.Column('justification', sa.Text(), nullable=False),
    sa.Column('referral_target', sa.String(length=32), nullable=True),
    sa.Column('disclosed_by_id', sa.Integer(), nullable=False),
    sa.Column('disclosed_at', policyflow.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("grounds != 'consent' OR consent_id IS NOT NULL", name=op.f('ck_concern_disclosures_consent_disclosure_names_consent')),
    sa.CheckConstraint("grounds = 'consent' OR length(justification) > 0", name=op.f('ck_concern_disclosures_exception_is_justified')),
    sa.CheckConstraint("grounds IN ('consent', 'imminent_harm', 'required_by_law')", name=op.f('ck_concern_disclosures_known_grounds')),
    sa.ForeignKeyConstraint(['concern_id'], ['concerns.id'], name=op.f('fk_concern_disclosures_concern_id_concerns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['consent_id'], ['concern_consents.id'], name=op.f('fk_concern_disclosures_consent_id_concern_consents')),
    sa.ForeignKeyConstraint(['disclosed_by_id'], ['users.id'], name=op.f('fk_concern_disclosures_disclosed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_concern_disclosures'))
    )
    with op.batch_alter_table('concern_disclosures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_concern_disclosures_concern_id'), ['concern_id'], unique=False)

    op.create_table('review_concerns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('concern_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['concern_id'], ['concerns.id'], name=op.f('fk_review_concerns_concern_id_concerns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['review_id'], ['reviews.id'], name=op.f('fk_review_concerns_review_id_reviews'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_concerns')),
    sa.UniqueConstraint('review_id', 'concern_id', name=op.f('uq_review_concerns_review_id_concern_id'))
    )
    with op.batch_alter_table('review_concerns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_concerns_review_id'), ['review_id'], unique=False)


    op.create_table('concern_placements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('link_id', sa.Integer(), nullable=False),
    sa.Column('version_number', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('start', sa.Integer(), nullable=True),
    sa.Column('end', sa.Integer(), nullable=True),
    sa.Column('score', sa.Double(), nullable=False),
    sa.CheckConstraint("(status = 'orphaned' AND \"start\" IS NULL AND \"end\" IS NULL) OR (status <> 'orphaned' AND \"start\" IS NOT NULL AND \"end\" IS NOT NULL)", name=op.f('ck_concern_placements_orphans_have_no_span')),
    sa.CheckConstraint("status IN ('exact', 'moved', 'edited', 'orphaned')", name=op.f('ck_concern_placements_known_status')),
    sa.ForeignKeyConstraint(['link_id'], ['concern_policies.id'], name=op.f('fk_concern_placements_link_id_concern_policies'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_concern_placements')),
    sa.UniqueConstraint('link_id', 'version_number', name=op.f('uq_concern_placements_link_id_version_number'))
    )
    with op.batch_alter_table('concern_placements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_concern_placements_link_id'), ['link_id'], unique=False)


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM user_roles WHERE role = 'ombuds_lead'"))
    _roles(ROLES_BEFORE)
    op.execute(sa.text("DELETE FROM notifications WHERE kind = 'concern_exception'"))
    _notification_kinds(NOTIFICATION_KINDS_BEFORE)
    with op.batch_alter_table('concern_placements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_concern_placements_link_id'))
    op.drop_table('concern_placements')
    with op.batch_alter_table('review_concerns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_concerns_review_id'))

    op.drop_table('review_concerns')
    with op.batch_alter_table('concern_disclosures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_concern_disclosures_concern_id'))

    op.drop_table('concern_disclosures')
    with op.batch_alter_table('concern_policies', schema=None) as batch_op:
        batch_op.drop_index('ix_concern_policies_policy')
        batch_op.drop_index(batch_op.f('ix_concern_policies_concern_id'))

    op.drop_table('concern_policies')
    with op.batch_alter_table('concern_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_concern_notes_concern_id'))

    op.drop_table('concern_notes')
    op.drop_table('concern_identities')
    with op.batch_alter_table('concern_consents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_concern_consents_concern_id'))

    op.drop_table('concern_consents')
    with op.batch_alter_table('concerns', schema=None) as batch_op:
        batch_op.drop_index('ix_concerns_received_on')

    op.drop_table('concerns')
