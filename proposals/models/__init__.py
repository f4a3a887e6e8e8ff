from proposals.models.calls import Call, CallCriterion, CallQuerySet, CallResource, CallRole
from proposals.models.proposals import (
    Attachment,
    Proposal,
    ProposalQuerySet,
    ProposalVersion,
    ResourceRequest,
    ScalingPoint,
    TeamMember,
)

__all__ = [
    "Attachment",
    "Call",
    "CallCriterion",
    "CallQuerySet",
    "CallResource",
    "CallRole",
    "Proposal",
    "ProposalQuerySet",
    "ProposalVersion",
    "ResourceRequest",
    "ScalingPoint",
    "TeamMember",
]
