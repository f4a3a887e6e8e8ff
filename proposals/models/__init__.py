from proposals.models.calls import Call, CallCriterion, CallQuerySet, CallResource, CallRole
from proposals.models.decisions import AuditEntry, AwardLine, Decision
from proposals.models.proposals import (
    Attachment,
    Proposal,
    ProposalQuerySet,
    ProposalVersion,
    ResourceRequest,
    ScalingPoint,
    TeamMember,
)
from proposals.models.reviews import Conflict, Reply, Review, ReviewScore, TechnicalRecommendation

__all__ = [
    "AuditEntry",
    "AwardLine",
    "Decision",
    "Attachment",
    "Call",
    "CallCriterion",
    "CallQuerySet",
    "CallResource",
    "CallRole",
    "Conflict",
    "Proposal",
    "ProposalQuerySet",
    "ProposalVersion",
    "Reply",
    "ResourceRequest",
    "Review",
    "ReviewScore",
    "ScalingPoint",
    "TeamMember",
    "TechnicalRecommendation",
]
