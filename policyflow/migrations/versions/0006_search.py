"""search

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30

The full-text search index: the ``search_entries`` table (in the model) and, per database, the
full-text structures over it that the model does not describe (``migrate.include_name`` leaves them
out of comparisons):

- SQLite: an FTS5 table with external content (``content='search_entries'``: the words are stored
  once, in ``search_entries``; FTS5 keeps only the index and reads snippets from there), kept in step
  by triggers, so every insert, update and delete of an entry updates the index in the same
  transaction. Tokenizer ``porter unicode61 remove_diacritics 2``: English stemming like
  PostgreSQL's ``english`` configuration, accents folded.
  Note for later migrations: a batch ``ALTER`` of ``search_entries`` on SQLite recreates the table
  and drops these triggers; recreate them (see ``_sqlite_triggers``) and ``rebuild`` the index.
- PostgreSQL: ``tsvector`` columns generated from the entry's columns (so they cannot drift from
  the words) with GIN indexes. Configuration ``english``: the district writes its policies, notes
  and responses in English, and stemming lets "suspensions" find "suspension" (``simple`` would not);
  words in other languages are kept as written (only English stop words go), so a comment in Spanish
  is still found by its own words. ``document`` holds what anyone allowed to see the entry may match
  (heading or tags weighted A, the text B, the response C); ``document_private`` adds the commenter's
  name and e-mail (weight D) and exists only for named comments: only ombuds staff's searches read it.

Existing rows are indexed here (backfill): the head and published text of every policy, every note
not deleted, every comment with its response.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from policyflow.core.textsearch import MARK_START, MARK_STOP, chunk_markdown
from policyflow.core.versioning import StoredVersion, reconstruct

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

_PG_DOCUMENT = ("setweight(to_tsvector('english'::regconfig, title), 'A') || "
                "setweight(to_tsvector('english'::regconfig, body), 'B') || "
                "setweight(to_tsvector('english'::regconfig, extra), 'C')")

_entries = sa.table(
    'search_entries',
    sa.column('kind', sa.String), sa.column('policy_id', sa.Integer), sa.column('version_number', sa.Integer),
    sa.column('annotation_id', sa.Integer), sa.column('comment_id', sa.Integer), sa.column('review_id', sa.Integer),
    sa.column('position', sa.Integer), sa.column('anchor', sa.String), sa.column('title', sa.Text),
    sa.column('body', sa.Text), sa.column('extra', sa.Text), sa.column('private', sa.Text),
)


def upgrade() -> None:
    op.create_table('search_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('policy_id', sa.Integer(), nullable=False),
    sa.Column('version_number', sa.Integer(), nullable=True),
    sa.Column('annotation_id', sa.Integer(), nullable=True),
    sa.Column('comment_id', sa.Integer(), nullable=True),
    sa.Column('review_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('anchor', sa.String(length=200), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('extra', sa.Text(), nullable=False),
    sa.Column('private', sa.Text(), nullable=False),
    sa.CheckConstraint("kind IN ('policy', 'annotation', 'comment')", name=op.f('ck_search_entries_known_kind')),
    sa.CheckConstraint("(kind = 'policy' AND version_number IS NOT NULL AND annotation_id IS NULL AND comment_id IS NULL) OR "
                       "(kind = 'annotation' AND annotation_id IS NOT NULL AND comment_id IS NULL) OR "
                       "(kind = 'comment' AND comment_id IS NOT NULL AND annotation_id IS NULL)",
                       name=op.f('ck_search_entries_one_source')),
    sa.ForeignKeyConstraint(['annotation_id'], ['annotations.id'], name=op.f('fk_search_entries_annotation_id_annotations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], name=op.f('fk_search_entries_comment_id_comments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['policy_id'], ['policies.id'], name=op.f('fk_search_entries_policy_id_policies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['review_id'], ['reviews.id'], name=op.f('fk_search_entries_review_id_reviews'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_entries')),
    sa.UniqueConstraint('annotation_id', name=op.f('uq_search_entries_annotation_id')),
    sa.UniqueConstraint('comment_id', name=op.f('uq_search_entries_comment_id'))
    )
    with op.batch_alter_table('search_entries', schema=None) as batch_op:
        batch_op.create_index('ix_search_entries_policy_version', ['policy_id', 'version_number'], unique=False)
    # Searches by anyone but ombuds staff leave out hidden comments: a small set, read from this partial index.
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.create_index('ix_comments_hidden', ['id'], unique=False, sqlite_where=sa.text('hidden_at IS NOT NULL'),
                              postgresql_where=sa.text('hidden_at IS NOT NULL'))

    dialect = op.get_bind().dialect.name
    if dialect == 'postgresql':
        op.execute(f"ALTER TABLE search_entries ADD COLUMN document tsvector GENERATED ALWAYS AS ({_PG_DOCUMENT}) STORED")
        op.execute("ALTER TABLE search_entries ADD COLUMN document_private tsvector GENERATED ALWAYS AS ("
                   f"CASE WHEN private = '' THEN NULL ELSE {_PG_DOCUMENT} || "
                   "setweight(to_tsvector('english'::regconfig, private), 'D') END) STORED")
    _backfill()
    if dialect == 'sqlite':
        op.execute("CREATE VIRTUAL TABLE search_fts USING fts5(title, body, extra, private, content='search_entries', "
                   "content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')")
        op.execute("INSERT INTO search_fts(search_fts) VALUES ('rebuild')")
        _sqlite_triggers()
    elif dialect == 'postgresql':
        # Built after the backfill: one pass over the rows instead of an index update per row.
        op.execute("CREATE INDEX ix_search_entries_document ON search_entries USING gin (document)")
        op.execute("CREATE INDEX ix_search_entries_document_private ON search_entries USING gin (document_private) "
                   "WHERE document_private IS NOT NULL")


def _sqlite_triggers() -> None:
    columns = "title, body, extra, private"
    old = "old.id, old.title, old.body, old.extra, old.private"
    new = "new.id, new.title, new.body, new.extra, new.private"
    op.execute(f"CREATE TRIGGER search_entries_ai AFTER INSERT ON search_entries BEGIN "
               f"INSERT INTO search_fts(rowid, {columns}) VALUES ({new}); END")
    op.execute(f"CREATE TRIGGER search_entries_ad AFTER DELETE ON search_entries BEGIN "
               f"INSERT INTO search_fts(search_fts, rowid, {columns}) VALUES ('delete', {old}); END")
    op.execute(f"CREATE TRIGGER search_entries_au AFTER UPDATE ON search_entries BEGIN "
               f"INSERT INTO search_fts(search_fts, rowid, {columns}) VALUES ('delete', {old}); "
               f"INSERT INTO search_fts(rowid, {columns}) VALUES ({new}); END")


def _clean(value: str | None) -> str:
    return (value or '').replace(MARK_START, ' ').replace(MARK_STOP, ' ')


def _backfill() -> None:
    """Index what the database already holds, as ``services.search`` would have (without importing it:
    this migration must keep working when that module changes)."""
    bind = op.get_bind()
    policies = sa.table('policies', sa.column('id', sa.Integer), sa.column('code', sa.String),
                        sa.column('head_version_number', sa.Integer), sa.column('published_version_number', sa.Integer))
    versions = sa.table('policy_versions', sa.column('policy_id', sa.Integer), sa.column('number', sa.Integer),
                        sa.column('sha256', sa.String), sa.column('patch', sa.Text), sa.column('full_text', sa.Text))
    for policy_id, code, head, published in bind.execute(sa.select(policies)).all():
        chain = [StoredVersion(number, sha, patch, full)
                 for number, sha, patch, full in bind.execute(
                     sa.select(versions.c.number, versions.c.sha256, versions.c.patch, versions.c.full_text)
                     .where(versions.c.policy_id == policy_id).order_by(versions.c.number))]
        for number in sorted({head, published} - {None, 0}):
            start = max(i for i, v in enumerate(chain) if v.number <= number and v.full_text is not None)
            end = next(i for i, v in enumerate(chain) if v.number == number)
            text = reconstruct(chain[start:end + 1], code)
            rows = [{'kind': 'policy', 'policy_id': policy_id, 'version_number': number, 'annotation_id': None,
                     'comment_id': None, 'review_id': None, 'position': chunk.position, 'anchor': chunk.anchor[:200],
                     'title': _clean(chunk.heading), 'body': _clean(chunk.text), 'extra': '', 'private': ''}
                    for chunk in chunk_markdown(text)]
            if rows:
                bind.execute(sa.insert(_entries), rows)

    annotations = sa.table('annotations', sa.column('id', sa.Integer), sa.column('policy_id', sa.Integer),
                           sa.column('version_number', sa.Integer), sa.column('body', sa.Text), sa.column('tags', sa.JSON),
                           sa.column('deleted_at', sa.DateTime))
    rows = [{'kind': 'annotation', 'policy_id': policy_id, 'version_number': number, 'annotation_id': annotation_id,
             'comment_id': None, 'review_id': None, 'position': 0, 'anchor': '', 'title': _clean(' '.join(tags or [])),
             'body': _clean(body), 'extra': '', 'private': ''}
            for annotation_id, policy_id, number, body, tags in bind.execute(
                sa.select(annotations.c.id, annotations.c.policy_id, annotations.c.version_number, annotations.c.body,
                          annotations.c.tags).where(annotations.c.deleted_at.is_(None)))]
    if rows:
        bind.execute(sa.insert(_entries), rows)

    # Comments may number in the hundreds of thousands: one INSERT ... SELECT.
    comments = sa.table('comments', sa.column('id', sa.Integer), sa.column('policy_id', sa.Integer),
                        sa.column('review_id', sa.Integer), sa.column('version_number', sa.Integer),
                        sa.column('body', sa.Text), sa.column('response', sa.Text), sa.column('identity_mode', sa.String),
                        sa.column('name', sa.String), sa.column('email', sa.String))

    def cleaned(value: sa.ColumnElement[str]) -> sa.ColumnElement[str]:
        return sa.func.replace(sa.func.replace(sa.func.coalesce(value, ''), MARK_START, ' '), MARK_STOP, ' ')

    name, email = sa.func.coalesce(comments.c.name, ''), sa.func.coalesce(comments.c.email, '')
    private = sa.case((comments.c.identity_mode == 'anonymous', ''),
                      else_=cleaned(name + ' ' + email + ' ' + sa.func.replace(sa.func.replace(email, '@', ' '), '.', ' ')))
    bind.execute(sa.insert(_entries).from_select(
        ['kind', 'policy_id', 'version_number', 'annotation_id', 'comment_id', 'review_id', 'position', 'anchor', 'title',
         'body', 'extra', 'private'],
        sa.select(sa.literal('comment'), comments.c.policy_id, comments.c.version_number, sa.null(), comments.c.id,
                  comments.c.review_id, sa.literal(0), sa.literal(''), sa.literal(''), cleaned(comments.c.body),
                  cleaned(comments.c.response), private)))


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        for trigger in ('search_entries_ai', 'search_entries_ad', 'search_entries_au'):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS search_fts")
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index('ix_comments_hidden')
    with op.batch_alter_table('search_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_search_entries_policy_version')

    op.drop_table('search_entries')
