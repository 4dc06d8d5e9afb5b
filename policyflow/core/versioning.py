"""Rebuilding stored versions from keyframes and patches, verified link by link.

A version row stores the patch from its parent; full text only on keyframes and the head. To
read version ``n`` we start from the nearest stored full text at or before ``n`` and apply the
patches forward, checking every intermediate text against its SHA-256, so damage is reported
at the version where it happened instead of surfacing as a subtly wrong policy.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from policyflow.core.diffing import apply_patch
from policyflow.core.errors import PatchError, VersionIntegrityError

DEFAULT_KEYFRAME_INTERVAL = 10


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def is_keyframe(number: int, interval: int) -> bool:
    """Versions 1, 1+N, 1+2N, ... keep their full text for good."""
    return (number - 1) % interval == 0


@dataclass(frozen=True)
class StoredVersion:
    number: int
    sha256: str
    patch: str | None  # from the parent; None for version 1
    full_text: str | None  # only keyframes and the head


def reconstruct(chain: list[StoredVersion], policy_code: str = "") -> str:
    """Text of the last version in ``chain``; the chain starts at a version with full text.

    Raises :class:`VersionIntegrityError` if a patch does not apply or a text's hash differs.
    """
    if not chain or chain[0].full_text is None:
        raise VersionIntegrityError(f"Policy {policy_code}: no stored full text to rebuild from.")
    label = f"Policy {policy_code} version" if policy_code else "Version"
    text = chain[0].full_text
    _verify(text, chain[0], label)
    for version in chain[1:]:
        if version.patch is None:
            raise VersionIntegrityError(f"{label} {version.number} has no stored patch.")
        try:
            text = apply_patch(text, version.patch)
        except PatchError as error:
            raise VersionIntegrityError(
                f"{label} {version.number} cannot be rebuilt: {error.message}"
            ) from None
        _verify(text, version, label)
    return text


def _verify(text: str, version: StoredVersion, label: str) -> None:
    actual = sha256_text(text)
    if actual != version.sha256:
        raise VersionIntegrityError(
            f"{label} {version.number} is damaged: its text hashes to {actual[:12]}…, "
            f"but {version.sha256[:12]}… was recorded when it was saved."
        )
