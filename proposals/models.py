"""The models of the proposals app, gathered from its features for Django's app registry.

Code in the app imports each model from its feature (``proposals.calls.models`` …); this
module exists so that Django finds them all (and tests may import them in one line).
"""

from proposals.calls.models import AuditEntry, Call, CallCriterion, CallResource, CallRole
from proposals.decisions.models import AwardLine, Decision, PanelBook
from proposals.review.models import Conflict, Reply, Review, ReviewScore, TechnicalRecommendation
from proposals.submission.models import (
    Attachment,
    Proposal,
    ProposalVersion,
    ResourceRequest,
    ScalingPoint,
    TeamMember,
)

__all__ = [
    "Attachment",
    "AuditEntry",
    "AwardLine",
    "Call",
    "CallCriterion",
    "CallResource",
    "CallRole",
    "Conflict",
    "Decision",
    "PanelBook",
    "Proposal",
    "ProposalVersion",
    "Reply",
    "ResourceRequest",
    "Review",
    "ReviewScore",
    "ScalingPoint",
    "TeamMember",
    "TechnicalRecommendation",
]
