"""SQLAlchemy models, one module per aggregate; importing this registers them all."""

from policyflow.models.annotations import (
    PLACEMENT_STATUSES,
    VISIBILITIES,
    Annotation,
    AnnotationEdit,
    AnnotationPlacement,
    AnnotationReply,
)
from policyflow.models.base import Base
from policyflow.models.comments import DISPOSITIONS, FILING_CHANNELS, IDENTITY_MODES, Comment, CommentConsent, CommentPlacement
from policyflow.models.concerns import (
    CONCERN_CHANNELS,
    CONCERN_RAISERS,
    CONCERN_STATUSES,
    DISCLOSURE_GROUNDS,
    Concern,
    ConcernConsent,
    ConcernDisclosure,
    ConcernIdentity,
    ConcernNote,
    ConcernPlacement,
    ConcernPolicy,
    ReviewConcern,
)
from policyflow.models.decisions import DECISIONS, DISMISSALS, Decision, PolicySubscription, Recusal
from policyflow.models.equity import ASSESSMENT_STATUSES, EquityAnswerChange, EquityAssessment
from policyflow.models.events import Event
from policyflow.models.outbox import NOTIFICATION_KINDS, OUTBOX_KINDS, Notification, OutboxMessage
from policyflow.models.policies import Policy, PolicyVersion
from policyflow.models.reviews import Review, ReviewTransition
from policyflow.models.search import SEARCH_KINDS, SearchEntry
from policyflow.models.users import ROLES, ApiToken, User, UserRole

__all__ = [
    "ASSESSMENT_STATUSES",
    "CONCERN_CHANNELS",
    "CONCERN_RAISERS",
    "CONCERN_STATUSES",
    "DECISIONS",
    "DISCLOSURE_GROUNDS",
    "DISMISSALS",
    "DISPOSITIONS",
    "FILING_CHANNELS",
    "IDENTITY_MODES",
    "NOTIFICATION_KINDS",
    "OUTBOX_KINDS",
    "PLACEMENT_STATUSES",
    "ROLES",
    "SEARCH_KINDS",
    "VISIBILITIES",
    "Annotation",
    "AnnotationEdit",
    "AnnotationPlacement",
    "AnnotationReply",
    "ApiToken",
    "Base",
    "Comment",
    "CommentConsent",
    "CommentPlacement",
    "Concern",
    "ConcernConsent",
    "ConcernDisclosure",
    "ConcernIdentity",
    "ConcernNote",
    "ConcernPlacement",
    "ConcernPolicy",
    "Decision",
    "EquityAnswerChange",
    "EquityAssessment",
    "Event",
    "Notification",
    "OutboxMessage",
    "Policy",
    "PolicySubscription",
    "PolicyVersion",
    "Recusal",
    "Review",
    "ReviewConcern",
    "ReviewTransition",
    "SearchEntry",
    "User",
    "UserRole",
]
