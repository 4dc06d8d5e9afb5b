"""The integrity check: every stored version rebuilt and verified, and the audit trail's hash chain.

Reading a version only rebuilds the links it needs, so damage to a version nobody opens would go
unnoticed until somebody does; this walks every link of every policy once (``policyflow check``
nightly after the backup, and ``policyflow restore`` before it commits).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from policyflow.core.errors import VersionIntegrityError
from policyflow.core.versioning import StoredVersion, reconstruct
from policyflow.models import Policy, PolicyVersion
from policyflow.services import audit


@dataclass(frozen=True)
class BrokenVersion:
    policy_code: str
    number: int
    problem: str


@dataclass(frozen=True)
class IntegrityReport:
    policies: int
    versions: int
    broken: list[BrokenVersion] = field(default_factory=list)
    events: int = 0
    audit_broken_at: int | None = None  # the first event whose hash no longer matches

    @property
    def intact(self) -> bool:
        return not self.broken and self.audit_broken_at is None


def check(session: Session) -> IntegrityReport:
    """Versions and audit trail together: what ``policyflow check`` reports."""
    policies, versions, broken = check_versions(session)
    events, audit_broken_at = audit.verify(session)
    return IntegrityReport(policies, versions, broken, events, audit_broken_at)


def check_versions(session: Session) -> tuple[int, int, list[BrokenVersion]]:
    """(policies, versions checked, broken versions): each version rebuilt from its predecessor's text.

    A version with stored full text is checked on its own and, if it also has a patch, that patch is
    checked too (the head's patch is what rebuilds it once the next version takes over its full text).
    A version rebuilt only through a damaged one cannot be read either, so it is reported as well, and
    so is a hole in the numbering, a broken parent link or a head without its full text.
    """
    broken: list[BrokenVersion] = []
    policies = versions = 0
    heads = select(Policy.id, Policy.code, Policy.head_version_number, Policy.published_version_number)
    for policy_id, code, head, published in session.execute(heads.order_by(Policy.code)).all():
        policies += 1
        rows = session.execute(
            select(PolicyVersion.number, PolicyVersion.sha256, PolicyVersion.patch, PolicyVersion.full_text,
                   PolicyVersion.id, PolicyVersion.parent_id)
            .where(PolicyVersion.policy_id == policy_id).order_by(PolicyVersion.number)
        ).all()
        broken.extend(_structure_problems(code, head, published, rows))
        previous: StoredVersion | None = None  # the version before, with its verified text as full text
        damaged_at: int | None = None  # the damaged version the patches since depend on
        for number, sha256, patch, full_text, _id, _parent in rows:
            versions += 1
            step = None
            if previous is not None and patch is not None and previous.number == number - 1:
                step = [previous, StoredVersion(number, sha256, patch, None)]
            try:
                if full_text is not None:
                    damaged_at = None
                    text = reconstruct([StoredVersion(number, sha256, None, full_text)], code)
                    previous = StoredVersion(number, sha256, None, text)
                    if step is not None:
                        _check_patch(step, code)
                    continue
                if step is None and damaged_at is not None:
                    raise VersionIntegrityError(f"Policy {code} version {number} cannot be rebuilt: "
                                                f"it is stored as changes to damaged version {damaged_at}.")
                text = reconstruct(step or [StoredVersion(number, sha256, patch, None)], code)
                previous = StoredVersion(number, sha256, None, text)
            except VersionIntegrityError as error:
                broken.append(BrokenVersion(code, number, error.message))
                if previous is None or previous.number != number:  # this version's own text is unreadable
                    damaged_at = damaged_at or number
                    previous = None
    return policies, versions, broken


def _structure_problems(code: str, head: int, published: int | None, rows: Sequence[Row[Any]]) -> list[BrokenVersion]:
    """Versions are numbered 1..head, each the child of the one before, and the head keeps its full text
    (every other version is rebuilt backwards from it)."""
    problems = [BrokenVersion(code, number, f"Policy {code} version {number} is missing.")
                for number in sorted(set(range(1, head + 1)) - {row.number for row in rows})]
    problems += [BrokenVersion(code, row.number, f"Policy {code} version {row.number} is beyond its head version {head}.")
                 for row in rows if row.number > head]
    parent_of = {row.number: row.id for row in rows}
    problems += [BrokenVersion(code, row.number, f"Policy {code} version {row.number} is not the child of version "
                                                 f"{row.number - 1}.")
                 for row in rows if row.parent_id != parent_of.get(row.number - 1)]
    if rows and rows[-1].full_text is None:
        problems.append(BrokenVersion(code, rows[-1].number, f"Policy {code} head version {rows[-1].number} "
                                                             "keeps no full text."))
    if published is not None and published not in parent_of:
        problems.append(BrokenVersion(code, published, f"Policy {code} is published at version {published}, "
                                                       "which does not exist."))
    return problems


def _check_patch(step: list[StoredVersion], code: str) -> None:
    try:
        reconstruct(step, code)
    except VersionIntegrityError as error:
        raise VersionIntegrityError(f"{error.message} Its stored full text is intact, but not the patch that "
                                    "rebuilds it once a later version takes that text over.") from None
