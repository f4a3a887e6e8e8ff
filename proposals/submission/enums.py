"""States and choices of proposals (PRODUCT §4): the lifecycle and its named groups."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.lifecycle import Lifecycle


class ProposalStatus(models.TextChoices):
    """PRODUCT §4.2. Changed only by ``PROPOSAL_LIFECYCLE`` (below), from the services of
    ``proposals.submission.services.lifecycle`` (draft to under review, withdrawn) and
    ``proposals.decisions.services`` (the decided states, at publication and promotion)."""

    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    UNDER_REVIEW = "under_review", _("Under review")
    AWARDED = "awarded", _("Awarded")
    PARTIALLY_AWARDED = "partially_awarded", _("Partially awarded")
    WAITLISTED = "waitlisted", _("Waitlisted")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


EDITABLE = frozenset({ProposalStatus.DRAFT})


DECIDED = frozenset(
    {
        ProposalStatus.AWARDED,
        ProposalStatus.PARTIALLY_AWARDED,
        ProposalStatus.WAITLISTED,
        ProposalStatus.REJECTED,
    }
)


WITHDRAWABLE = frozenset(
    {ProposalStatus.DRAFT, ProposalStatus.SUBMITTED, ProposalStatus.UNDER_REVIEW}
)


IN_COMPETITION = frozenset({ProposalStatus.SUBMITTED, ProposalStatus.UNDER_REVIEW} | DECIDED)


class TeamStatus(models.TextChoices):
    INVITED = "invited", _("Invited")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")


class AttachmentKind(models.TextChoices):
    DESCRIPTION = "description", _("Project description")
    CV = "cv", _("CV")


class ProposalSection(models.TextChoices):
    """The parts of the proposal form a researcher moves between (PRODUCT §4.1)."""

    GENERAL = "general", _("General")
    TEAM = "team", _("Team")
    RESOURCES = "resources", _("Resources")
    TECHNICAL = "technical", _("Technical data")
    ATTACHMENTS = "attachments", _("Attachments")


# PRODUCT §4.2: draft → submitted → under review (from the call's deadline) → decided, and
# withdrawn by the PI at any time before the decision. Back to draft only before the deadline.
PROPOSAL_LIFECYCLE = Lifecycle(
    "proposal",
    "status",
    {
        ProposalStatus.DRAFT: frozenset({ProposalStatus.SUBMITTED, ProposalStatus.WITHDRAWN}),
        ProposalStatus.SUBMITTED: frozenset(
            {ProposalStatus.DRAFT, ProposalStatus.UNDER_REVIEW, ProposalStatus.WITHDRAWN}
        ),
        ProposalStatus.UNDER_REVIEW: DECIDED | {ProposalStatus.WITHDRAWN},
        # A waitlisted proposal is promoted when an awardee declines (PRODUCT §6).
        ProposalStatus.WAITLISTED: frozenset(
            {ProposalStatus.AWARDED, ProposalStatus.PARTIALLY_AWARDED}
        ),
    },
)

# An invitation to join a team is answered once.
TEAM_LIFECYCLE = Lifecycle(
    "team member",
    "status",
    {TeamStatus.INVITED: frozenset({TeamStatus.ACCEPTED, TeamStatus.DECLINED})},
)
