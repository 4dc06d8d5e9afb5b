"""Domain exceptions: one place that names every way a use case can refuse.

The web layer maps each class once to an HTTP problem response (``status`` and ``slug``); the
CLI prints the message. Messages are written for the person who hit them.
"""

from __future__ import annotations

from typing import Any


class PolicyflowError(Exception):
    """Base of all domain errors."""

    status = 400
    slug = "bad-request"
    title = "Bad request"

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra


class InvalidInput(PolicyflowError):
    status, slug, title = 400, "invalid-input", "Invalid input"


class InvalidValue(PolicyflowError):
    status, slug, title = 422, "invalid-value", "Invalid value"


class NotAuthenticated(PolicyflowError):
    status, slug, title = 401, "not-authenticated", "Sign-in required"


class PermissionDenied(PolicyflowError):
    status, slug, title = 403, "forbidden", "Not allowed"


class NotFound(PolicyflowError):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(PolicyflowError):
    status, slug, title = 409, "conflict", "Conflict"


class VersionConflict(Conflict):
    """The author started from a version that is no longer the newest."""

    slug, title = "version-conflict", "The policy changed since you started editing"

    def __init__(self, message: str, *, current_version: int, base_version: int) -> None:
        super().__init__(message, current_version=current_version, base_version=base_version)
        self.current_version = current_version
        self.base_version = base_version


class TooLarge(PolicyflowError):
    status, slug, title = 413, "too-large", "Too large"


class PatchError(PolicyflowError):
    """A stored or supplied patch does not apply cleanly to its base text."""

    status, slug, title = 500, "patch-error", "Patch does not apply"


class VersionIntegrityError(PolicyflowError):
    """A reconstructed version does not match its recorded SHA-256: storage is damaged."""

    status, slug, title = 500, "integrity-error", "Stored version is damaged"


class BackupRefused(PolicyflowError):
    """A backup or restore that would overwrite, mix or lose data, or whose file cannot be trusted; nothing was written."""

    status, slug, title = 409, "backup-refused", "Backup or restore refused"


class BackupDamaged(BackupRefused):
    """A backup file that is truncated, altered or not a policyflow backup at all."""

    slug, title = "backup-damaged", "Backup file is damaged"


class ImportProblem(PolicyflowError):
    """One or more files of an import are unusable; nothing was imported."""

    status, slug, title = 422, "import-failed", "Import failed"

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        lines = "\n".join(f"{name}: {reason}" for name, reason in problems)
        super().__init__(f"Nothing was imported; {len(problems)} problem(s):\n{lines}")
        self.problems = problems
