"""SQLAlchemy models, one module per aggregate; importing this registers them all."""

from policyflow.models.base import Base
from policyflow.models.events import Event
from policyflow.models.policies import Policy, PolicyVersion
from policyflow.models.reviews import Review, ReviewTransition
from policyflow.models.users import ROLES, ApiToken, User, UserRole

__all__ = ["ROLES", "ApiToken", "Base", "Event", "Policy", "PolicyVersion", "Review", "ReviewTransition", "User", "UserRole"]
