"""notes_stamp on policies and comments_stamp on reviews (per-process page caches key on them); indexes of the
comments still waiting for an answer and of unread notifications

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

UNDECIDED = "disposition IS NULL AND hidden_at IS NULL"
UNREAD = "read_at IS NULL"


def upgrade() -> None:
    with op.batch_alter_table('policies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notes_stamp', sa.String(length=32), server_default='0', nullable=False))
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.add_column(sa.Column('comments_stamp', sa.String(length=32), server_default='0', nullable=False))
    # A random stamp per existing row: a shared '0' could match what a process had cached before the upgrade
    # (or from another database restored in place).
    random_stamp = "lower(hex(randomblob(16)))" if op.get_bind().dialect.name == "sqlite" else "md5(random()::text)"
    op.execute(f"UPDATE policies SET notes_stamp = {random_stamp}")
    op.execute(f"UPDATE reviews SET comments_stamp = {random_stamp}")
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.create_index('ix_comments_review_undecided', ['review_id'], unique=False,
                              sqlite_where=sa.text(UNDECIDED), postgresql_where=sa.text(UNDECIDED))
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_unread', ['user_id'], unique=False,
                              sqlite_where=sa.text(UNREAD), postgresql_where=sa.text(UNREAD))


def downgrade() -> None:
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_unread', sqlite_where=sa.text(UNREAD), postgresql_where=sa.text(UNREAD))
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index('ix_comments_review_undecided', sqlite_where=sa.text(UNDECIDED),
                            postgresql_where=sa.text(UNDECIDED))
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_column('comments_stamp')
    with op.batch_alter_table('policies', schema=None) as batch_op:
        batch_op.drop_column('notes_stamp')
