"""The pinned demo accounts and the demo policy histories."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from policyflow.models import Policy, User
from policyflow.resources import demo_dir
from policyflow.services import accounts, importer
from policyflow.services.actors import Actor
from policyflow.services.importer import ImportReport
from policyflow.services.policies import StoreSettings

DEMO_PASSWORD = "demo-password"  # noqa: S105 - the pinned, documented demo password


@dataclass(frozen=True)
class DemoUser:
    username: str
    display_name: str
    roles: tuple[str, ...]


DEMO_USERS = (
    DemoUser("admin", "Alex Morgan (Administrator)", ("admin",)),
    DemoUser("ombuds", "Rosa Delgado (Ombuds)", ("ombuds",)),
    DemoUser("reviewer", "Sam Okafor (Legal Reviewer)", ("reviewer",)),
    DemoUser("leader1", "Dr. Priya Raman (Superintendent)", ("leadership",)),
    DemoUser("leader2", "Marcus Hill (Deputy Superintendent)", ("leadership",)),
    DemoUser("stakeholder", "Jordan Lee (Parent)", ("stakeholder",)),
)


def is_empty(session: Session) -> bool:
    users = session.scalar(select(func.count()).select_from(User)) or 0
    policy_count = session.scalar(select(func.count()).select_from(Policy)) or 0
    return users == 0 and policy_count == 0


def load(session: Session, settings: StoreSettings) -> ImportReport:
    """Create the demo users and import the demo policies (their full revision histories)."""
    system = Actor.system()
    for demo_user in DEMO_USERS:
        accounts.create_user(session, system, demo_user.username, DEMO_PASSWORD, list(demo_user.roles),
                             display_name=demo_user.display_name,
                             email=f"{demo_user.username}@riverbend.example.org")
    files = importer.read_directory(demo_dir() / "policies", settings.max_text_bytes)
    return importer.import_files(session, system, settings, files)
