"""The ``policyflow`` command (DESIGN.md section 5). Each command is one transaction."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import click
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from policyflow import __version__, migrate
from policyflow.config import Settings
from policyflow.core.errors import PolicyflowError
from policyflow.db import make_engine, make_session_factory, transaction
from policyflow.models import ROLES, User
from policyflow.models.base import utcnow
from policyflow.services import accounts, audit, demo, importer, search
from policyflow.services.actors import Actor
from policyflow.services.policies import StoreSettings


class _Context:
    def __init__(self) -> None:
        self.settings = Settings.from_env()
        self._engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            if self.settings.database_url.startswith("sqlite"):
                self.settings.instance_path.mkdir(parents=True, exist_ok=True)
            self._engine = make_engine(self.settings.database_url)
        return self._engine

    @property
    def store(self) -> StoreSettings:
        return StoreSettings(self.settings.keyframe_interval, self.settings.max_text_bytes)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with reported_errors(), transaction(make_session_factory(self.engine)) as session:
            yield session


@contextmanager
def reported_errors() -> Iterator[None]:
    """A domain error becomes the command's message and exit code 1, not a traceback."""
    try:
        yield
    except PolicyflowError as error:
        raise click.ClickException(error.message) from None


pass_context = click.make_pass_decorator(_Context, ensure=True)


@click.group(help="policyflow: district policy reviews, versions and redlines.")
@click.version_option(__version__, prog_name="policyflow")
def main() -> None:
    pass


@main.command(help="Serve the web app (development server; use gunicorn in production).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@pass_context
def serve(ctx: _Context, host: str, port: int) -> None:
    from policyflow.web import create_app

    if migrate.current_revision(ctx.engine) != migrate.head_revision():
        raise click.ClickException("The database is not up to date: run 'policyflow db upgrade' first.")
    app = create_app()
    url = f"http://{host}:{port}/"
    click.echo(f"policyflow is serving on {url}")
    with ctx.session() as session:
        demo_users = session.scalars(select(User.username).where(User.username.in_([u.username for u in demo.DEMO_USERS]))).all()
    if demo_users:
        click.echo(f"Demo logins (password '{demo.DEMO_PASSWORD}'):")
        for user in demo.DEMO_USERS:
            if user.username in demo_users:
                click.echo(f"  {user.username:<12} {', '.join(user.roles)}")
    click.echo("Press Ctrl+C to stop.")
    from policyflow.web.serving import AddresslessRequestHandler

    app.run(host=host, port=port, threaded=True, use_reloader=False, request_handler=AddresslessRequestHandler)


@main.group(help="Database schema.")
def db() -> None:
    pass


@db.command("upgrade", help="Create or migrate the database schema to the newest revision.")
@pass_context
def db_upgrade(ctx: _Context) -> None:
    migrate.upgrade(ctx.engine)
    click.echo(f"Database at revision {migrate.current_revision(ctx.engine)}.")


@db.command("current", help="Show the database's schema revision.")
@pass_context
def db_current(ctx: _Context) -> None:
    click.echo(migrate.current_revision(ctx.engine) or "empty (run 'policyflow db upgrade')")


@main.command("demo", help="Load the demo users and policies, if the database is empty.")
@pass_context
def demo_command(ctx: _Context) -> None:
    migrate.upgrade(ctx.engine)
    with ctx.session() as session:
        if not demo.is_empty(session):
            click.echo("The database already has data; demo data not loaded.")
            return
        report = demo.load(session, ctx.store)
    click.echo(f"Loaded {len(report.created_policies)} policies with {len(report.created_versions)} versions.")
    click.echo(f"Demo logins, all with the password '{demo.DEMO_PASSWORD}':")
    for user in demo.DEMO_USERS:
        click.echo(f"  {user.username:<12} {', '.join(user.roles)}")


@main.group(help="Accounts.")
def users() -> None:
    pass


@users.command("create", help="Create an account; the password is asked for unless given.")
@click.argument("name")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(ROLES))
@click.option("--display-name", default=None)
@click.option("--email", default=None)
@click.option("--position", default=None, help='e.g. "Chief Equity and Social Justice Officer" (a workflow may require its approval)')
@click.password_option(envvar="POLICYFLOW_NEW_PASSWORD")
@pass_context
def users_create(ctx: _Context, name: str, roles: tuple[str, ...], display_name: str | None,
                 email: str | None, position: str | None, password: str) -> None:
    with ctx.session() as session:
        user = accounts.create_user(session, Actor.system(), name, password, list(roles),
                                    display_name=display_name, email=email, position=position)
        click.echo(f"Created {user.username} ({', '.join(sorted(user.roles))}).")


@users.command("reset-password", help="Set a new password for NAME (asked for unless given); every session and API "
                                       "token of theirs ends.")
@click.argument("name")
@click.password_option(envvar="POLICYFLOW_NEW_PASSWORD")
@pass_context
def users_reset_password(ctx: _Context, name: str, password: str) -> None:
    with ctx.session() as session:
        user = accounts.reset_password(session, Actor.system(), name, password)
        click.echo(f"New password set for {user.username}; their other sessions and API tokens no longer work.")


@main.group(help="API tokens.")
def tokens() -> None:
    pass


@tokens.command("create", help="Create an API token for the user NAME; it is shown once.")
@click.argument("name")
@click.option("--label", default="CLI token", show_default=True)
@pass_context
def tokens_create(ctx: _Context, name: str, label: str) -> None:
    with ctx.session() as session:
        user = session.scalar(select(User).where(User.username == name.lower()))
        if user is None:
            raise click.ClickException(f"No user named {name!r}.")
        _row, token = accounts.create_token(session, user, label)
    click.echo(token)


@tokens.command("list", help="List tokens (never the tokens themselves).")
@pass_context
def tokens_list(ctx: _Context) -> None:
    with ctx.session() as session:
        for row in accounts.list_tokens(session):
            state = "revoked" if row.revoked_at else "active"
            click.echo(f"{row.id}\t{row.user.username}\t{row.prefix}…\t{row.name}\t{state}")


@tokens.command("revoke", help="Revoke the token with this id.")
@click.argument("token_id", type=int)
@pass_context
def tokens_revoke(ctx: _Context, token_id: int) -> None:
    with ctx.session() as session:
        accounts.revoke_token(session, Actor.system(), token_id)
    click.echo(f"Token {token_id} revoked.")


@main.command("import", help="Import Markdown policies with YAML front matter from DIR (all or nothing).")
@click.argument("directory", type=click.Path(path_type=Path))
@pass_context
def import_command(ctx: _Context, directory: Path) -> None:
    try:
        files = importer.read_directory(directory, ctx.store.max_text_bytes)
        with transaction(make_session_factory(ctx.engine)) as session:
            report = importer.import_files(session, Actor.system(), ctx.store, files)
    except PolicyflowError as error:
        click.echo(error.message, err=True)
        sys.exit(1)
    click.echo(f"Imported {len(report.created_versions)} version(s) "
               f"({len(report.created_policies)} new policies); {len(report.unchanged)} file(s) unchanged.")
    for code, number in report.created_versions:
        click.echo(f"  {code} version {number}")


@main.group(help="Workflow definitions.")
def workflows() -> None:
    pass


@workflows.command("check", help="Validate workflow files (default: the configured folder); exit 1 on any problem.")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@pass_context
def workflows_check(ctx: _Context, paths: tuple[Path, ...]) -> None:
    from policyflow.core.assessment import FILE_NAME as ASSESSMENT
    from policyflow.core.assessment import load_assessment_text
    from policyflow.core.vocabulary import FILE_NAME as VOCABULARIES
    from policyflow.core.vocabulary import load_vocabularies_text
    from policyflow.core.workflow import WorkflowDefinitionError, check_folder, load_workflow, workflow_names

    # The folder's other files, each checked by its own loader (they are not workflows).
    others = {VOCABULARIES: load_vocabularies_text, ASSESSMENT: load_assessment_text}
    problems: list[str] = []
    checked = 0
    for path in paths or (ctx.settings.workflows_dir,):
        if path.is_dir():
            problems.extend(check_folder(path))
            checked += len(workflow_names(path))
            for name, loader in others.items():
                if (path / name).is_file():
                    problems.extend(_other_file_problems(path / name, loader))
                    checked += 1
            continue
        if path.name in others:
            problems.extend(_other_file_problems(path, others[path.name]))
            checked += 1
            continue
        checked += 1
        try:
            load_workflow(path)
        except WorkflowDefinitionError as error:
            problems.extend(error.problems)
        except OSError as error:
            problems.append(f"{path}: cannot be read ({error.strerror})")
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        sys.exit(1)
    click.echo(f"{checked} file(s) valid.")


def _other_file_problems(path: Path, loader: Callable[[str, str], object]) -> list[str]:
    """Problems of a non-workflow file of the folder (word lists, assessment questions), by file and line."""
    from policyflow.core.workflow import WorkflowDefinitionError

    try:
        loader(path.read_text(encoding="utf-8"), str(path))
    except WorkflowDefinitionError as error:
        return list(error.problems)
    except UnicodeDecodeError:
        return [f"{path}:1: the file is not UTF-8 text"]
    except OSError as error:
        return [f"{path}:1: cannot be read ({error.strerror})"]
    return []


@workflows.command("diagram", help="Print the workflow NAME as a Mermaid state diagram.")
@click.argument("name")
@click.option("--current", default=None, help="Highlight this stage.")
@pass_context
def workflows_diagram(ctx: _Context, name: str, current: str | None) -> None:
    from policyflow.core.workflow import to_mermaid
    from policyflow.services.reviews import load_named_workflow

    with reported_errors():
        definition = load_named_workflow(ctx.settings.workflows_dir, name)
    click.echo(to_mermaid(definition, current))


@main.command("worker", help="Deliver e-mail and run deadline jobs from the outbox; SIGTERM or Ctrl+C stops it "
                              "after the message in hand.")
@click.option("--once", is_flag=True, help="Process what is due now, print a summary and exit.")
@click.option("--interval", default=30.0, show_default=True, type=click.FloatRange(min=0.05),
              help="Seconds between polls of the outbox.")
@click.option("--batch", default=20, show_default=True, type=click.IntRange(min=1), help="Messages claimed at a time.")
@click.option("--now", "as_of", default=None, hidden=True,
              help="Run as if the time were this (ISO 8601, UTC if no offset); the clock moves on from there. For tests.")
@pass_context
def worker_command(ctx: _Context, once: bool, interval: float, batch: int, as_of: str | None) -> None:
    from policyflow import worker

    if migrate.current_revision(ctx.engine) != migrate.head_revision():
        raise click.ClickException("The database is not up to date: run 'policyflow db upgrade' first.")
    smtp_url, base_url = ctx.settings.smtp_url, ctx.settings.base_url
    if smtp_url:
        try:
            worker.parse_smtp_url(smtp_url)
        except ValueError as error:
            raise click.ClickException(str(error)) from None
    else:
        click.echo("POLICYFLOW_SMTP_URL is not set: e-mails wait in the outbox until it is; other jobs run.", err=True)
    clock = utcnow
    if as_of is not None:
        try:
            start = datetime.fromisoformat(as_of)
        except ValueError:
            raise click.ClickException(f"--now must be an ISO 8601 date and time, not {as_of!r}") from None
        start = start.replace(tzinfo=UTC) if start.tzinfo is None else start.astimezone(UTC)
        offset = start - utcnow()

        def clock() -> datetime:
            return utcnow() + offset

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    factory = make_session_factory(ctx.engine)
    periodic = worker.PeriodicReviews(ctx.settings.workflows_dir, ctx.settings.periodic_review_lead_days)
    if once:
        report = worker.run_once(factory, now=clock(), smtp_url=smtp_url, base_url=base_url, batch=batch, periodic=periodic,
                                 concern_retention_days=ctx.settings.concern_retention_days)
        click.echo(report.summary())
        return
    worker.run_forever(factory, smtp_url=smtp_url, base_url=base_url, interval=interval, batch=batch, clock=clock,
                       periodic=periodic, concern_retention_days=ctx.settings.concern_retention_days)


@main.group("audit", help="The audit trail.")
def audit_group() -> None:
    pass


@audit_group.command("verify", help="Check the audit trail's hash chain; exit 1 if it is broken.")
@pass_context
def audit_verify(ctx: _Context) -> None:
    with ctx.session() as session:
        checked, broken = audit.verify(session)
    _report_audit(checked, broken)
    if broken is not None:
        sys.exit(1)


def _report_audit(checked: int, broken: int | None) -> None:
    if broken is not None:
        click.echo(f"Audit trail BROKEN at event {broken} (after {checked} good events).", err=True)
    else:
        click.echo(f"Audit trail intact: {checked} events verified.")


@main.command("backup", help="Back up the whole database to PATH: .jsonl.gz or .jsonl (portable JSON lines, restorable "
                              "into SQLite or PostgreSQL), .sqlite3 or .db (SQLite's own copy of the embedded database).")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Replace PATH if it exists.")
@pass_context
def backup_command(ctx: _Context, path: Path, force: bool) -> None:
    from policyflow import backup

    with reported_errors():
        report = backup.backup(ctx.engine, path, force=force)
    for name in report.skipped_tables:
        click.echo(f"Not backed up: table {name} is not policyflow's.", err=True)
    click.echo(f"Backed up {report.total_rows:,} rows of {len(report.rows)} tables to {report.path} "
               f"({report.size:,} bytes).")


@main.command("restore", help="Restore a backup made by 'policyflow backup' into the configured database, which must be "
                               "empty: checks the whole file first, loads it in one transaction and verifies it.")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Replace everything the database holds with the backup.")
@pass_context
def restore_command(ctx: _Context, path: Path, force: bool) -> None:
    from policyflow import backup

    with reported_errors():
        report = backup.restore(ctx.engine, path, force=force)
    click.echo(f"Restored {report.total_rows:,} rows of {len(report.rows)} tables from {path} "
               f"(a {report.source_dialect} database at revision {report.revision}).")
    click.echo(f"Verified: {report.versions_checked:,} policy versions and {report.events_checked:,} audit events intact.")


@main.command("check", help="Rebuild every version of every policy and check its SHA-256, and check the audit trail's "
                             "hash chain; exit 1 naming whatever is damaged.")
@pass_context
def check_command(ctx: _Context) -> None:
    from policyflow.services import integrity

    with ctx.session() as session:
        report = integrity.check(session)
    for broken in report.broken:
        click.echo(f"BROKEN {broken.policy_code} version {broken.number}: {broken.problem}", err=True)
    click.echo(f"{report.versions:,} versions of {report.policies:,} policies checked: "
               + (f"{len(report.broken)} damaged." if report.broken else "all intact."))
    _report_audit(report.events, report.audit_broken_at)
    if not report.intact:
        sys.exit(1)


@main.group("search", help="The full-text search index.")
def search_group() -> None:
    pass


@search_group.command("rebuild", help="Index every policy text, note and comment again (after loading data around "
                                      "the services, e.g. with SQL); the index is otherwise kept current by itself.")
@pass_context
def search_rebuild(ctx: _Context) -> None:
    with ctx.session() as session:
        counts = search.rebuild(session)
    click.echo("Search index rebuilt: " + ", ".join(f"{counts.get(kind, 0):,} {kind} entries"
                                                     for kind in ("policy", "annotation", "comment")) + ".")


if __name__ == "__main__":  # pragma: no cover
    main()
