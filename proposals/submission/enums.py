"""States and choices of proposals (PRODUCT §4): the lifecycle and its named groups."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ProposalStatus(models.TextChoices):
    """PRODUCT §4.2. Only services set it: ``proposals.services.lifecycle`` (draft to withdrawn)
    and ``proposals.services.decisions`` with ``allocations.publishing`` (the decided states)."""

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
