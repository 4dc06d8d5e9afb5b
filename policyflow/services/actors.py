"""Who is acting: a signed-in user, an anonymous visitor, or the system (CLI, imports)."""

from __future__ import annotations

from dataclasses import dataclass

from policyflow.models import User

STAFF_ROLES = frozenset({"admin", "ombuds", "reviewer", "leadership"})
EDITOR_ROLES = frozenset({"admin", "ombuds"})


@dataclass(frozen=True)
class Actor:
    user: User | None
    is_system: bool = False

    @classmethod
    def anonymous(cls) -> Actor:
        return cls(None)

    @classmethod
    def system(cls) -> Actor:
        return cls(None, is_system=True)

    @classmethod
    def of(cls, user: User | None) -> Actor:
        return cls(user)

    @property
    def roles(self) -> frozenset[str]:
        return self.user.roles if self.user is not None else frozenset()

    @property
    def label(self) -> str:
        if self.is_system:
            return "system"
        return self.user.username if self.user is not None else "anonymous"

    @property
    def is_staff(self) -> bool:
        return self.is_system or bool(self.roles & STAFF_ROLES)

    @property
    def can_edit_policies(self) -> bool:
        return self.is_system or bool(self.roles & EDITOR_ROLES)
