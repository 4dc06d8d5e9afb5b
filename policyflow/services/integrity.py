"""The integrity check: every stored version rebuilt and verified, and the audit trail's hash chain.

Reading a version only rebuilds the links it needs, so damage to a version nobody opens would go
unnoticed until somebody does; this walks every link of every policy once (``policyflow check``
nightly after the backup, and ``policyflow restore`` before it commits).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
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
    A version rebuilt only through a damaged one cannot be read either, so it is reported as well.
    """
    broken: list[BrokenVersion] = []
    policies = versions = 0
    for policy_id, code in session.execute(select(Policy.id, Policy.code).order_by(Policy.code)).all():
        policies += 1
        rows = session.execute(
            select(PolicyVersion.number, PolicyVersion.sha256, PolicyVersion.patch, PolicyVersion.full_text)
            .where(PolicyVersion.policy_id == policy_id).order_by(PolicyVersion.number)
        ).all()
        previous: StoredVersion | None = None  # the version before, with its verified text as full text
        damaged_at: int | None = None  # the damaged version the patches since depend on
        for number, sha256, patch, full_text in rows:
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


def _check_patch(step: list[StoredVersion], code: str) -> None:
    try:
        reconstruct(step, code)
    except VersionIntegrityError as error:
        raise VersionIntegrityError(f"{error.message} Its stored full text is intact, but not the patch that "
                                    "rebuilds it once a later version takes that text over.") from None
