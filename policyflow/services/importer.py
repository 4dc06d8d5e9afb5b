"""Importing policies from Markdown files with YAML front matter, all or nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from policyflow.core.errors import ImportProblem, PolicyflowError
from policyflow.core.versioning import sha256_text
from policyflow.models import Policy, PolicyVersion, User
from policyflow.services import policies
from policyflow.services.actors import Actor
from policyflow.services.policies import StoreSettings
from policyflow.services.texts import check_summary, check_text

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_KNOWN_KEYS = {"code", "title", "section", "owner", "author", "date", "summary", "published",
               "effective_date", "next_review_date"}


@dataclass
class ImportedFile:
    path: Path
    name: str
    meta: dict[str, Any]
    text: str

    @property
    def code(self) -> str:
        return policies.normalize_code(str(self.meta["code"]))


@dataclass
class ImportReport:
    created_policies: list[str] = field(default_factory=list)
    created_versions: list[tuple[str, int]] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def _natural_key(name: str) -> list[Any]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def read_directory(directory: Path, max_bytes: int) -> list[ImportedFile]:
    """Parse every ``*.md`` under ``directory``; raise :class:`ImportProblem` listing each bad file."""
    root = directory.resolve()
    if not root.is_dir():
        raise ImportProblem([(str(directory), "not a directory")])
    files: list[ImportedFile] = []
    problems: list[tuple[str, str]] = []
    for path in sorted(root.rglob("*.md"), key=lambda p: _natural_key(str(p.relative_to(root)))):
        name = str(path.relative_to(root))
        if path.is_symlink() or not path.resolve().is_relative_to(root):
            problems.append((name, "links outside the import folder; not read"))
            continue
        try:
            files.append(parse_file(path, name, max_bytes))
        except _BadFile as error:
            problems.append((name, str(error)))
    if not files and not problems:
        problems.append((str(directory), "no .md files found"))
    if problems:
        raise ImportProblem(problems)
    return files


class _BadFile(Exception):
    pass


def parse_file(path: Path, name: str, max_bytes: int) -> ImportedFile:
    raw = path.read_bytes()
    if len(raw) > max_bytes:
        raise _BadFile(f"{len(raw):,} bytes is over the {max_bytes:,}-byte limit")
    try:
        content = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise _BadFile(f"not valid UTF-8 (byte {error.start})") from None
    content = content.removeprefix("\ufeff").replace("\r\n", "\n")
    match = _FRONT_MATTER.match(content)
    if not match:
        raise _BadFile("no YAML front matter: the file must start with '---', the fields, and '---'")
    try:
        meta = yaml.safe_load(match.group(1))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark is not None else ""
        raise _BadFile(f"front matter is not valid YAML{where}: {getattr(error, 'problem', error)}") from None
    if not isinstance(meta, dict):
        raise _BadFile("front matter must be a mapping of fields (code: ..., title: ...)")
    unknown = sorted(set(map(str, meta)) - _KNOWN_KEYS)
    if unknown:
        raise _BadFile(f"unknown field(s) {', '.join(unknown)}; known: {', '.join(sorted(_KNOWN_KEYS))}")
    for key in ("code", "title"):
        if not str(meta.get(key) or "").strip():
            raise _BadFile(f"the field '{key}' is required")
    for key in ("date", "effective_date", "next_review_date"):
        if key in meta and meta[key] is not None and not isinstance(meta[key], date):
            raise _BadFile(f"'{key}' must be a date written as YYYY-MM-DD, not {meta[key]!r}")
    text = content[match.end():].lstrip("\n")
    try:
        check_text(text, max_bytes)
        if "summary" in meta:
            check_summary(str(meta["summary"]))
    except PolicyflowError as error:
        raise _BadFile(error.message) from None
    return ImportedFile(path, name, meta, text)


def import_files(session: Session, actor: Actor, settings: StoreSettings, files: list[ImportedFile]) -> ImportReport:
    """Apply parsed files in order; a file whose text a policy already has is skipped."""
    report = ImportReport()
    users = {user.username: user for user in session.scalars(select(User))}
    for item in files:
        try:
            _import_one(session, actor, settings, item, users, report)
        except PolicyflowError as error:
            raise ImportProblem([(item.name, error.message)]) from None
    return report


def _import_one(session: Session, actor: Actor, settings: StoreSettings, item: ImportedFile,
                users: dict[str, User], report: ImportReport) -> None:
    meta = item.meta
    author = users.get(str(meta.get("author") or ""))
    acting = Actor.of(author) if author is not None and Actor.of(author).can_edit_policies else actor
    summary = str(meta.get("summary") or f"Imported from {item.path.name}.")
    policy = session.scalar(select(Policy).where(Policy.code == item.code))
    if policy is None:
        version = policies.create_policy(
            session, acting, settings, code=item.code, title=str(meta["title"]), text=item.text,
            summary=summary, section=str(meta.get("section") or ""), owner_department=str(meta.get("owner") or ""),
        )
        policy = version.policy
        report.created_policies.append(item.code)
    else:
        known = set(session.scalars(select(PolicyVersion.sha256).where(PolicyVersion.policy_id == policy.id)))
        if sha256_text(item.text) in known:
            report.unchanged.append(item.name)
            return
        version = policies.save_version(
            session, acting, settings, policy, text=item.text, summary=summary,
            base_version=policy.head_version_number,
        ).version
        policy.title = " ".join(str(meta["title"]).split())
        if meta.get("section"):
            policy.section = str(meta["section"])
        if meta.get("owner"):
            policy.owner_department = str(meta["owner"])
    if isinstance(meta.get("date"), date):
        version.created_at = datetime.combine(meta["date"], time(12), tzinfo=UTC)
    report.created_versions.append((item.code, version.number))
    if meta.get("published"):
        policies.publish_version(session, acting, policy, version.number,
                                 effective_date=meta.get("effective_date"),
                                 next_review_date=meta.get("next_review_date"))
        if isinstance(meta.get("date"), date):
            version.published_at = datetime.combine(meta["date"], time(12), tzinfo=UTC)
