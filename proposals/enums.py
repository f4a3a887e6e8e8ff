from django.db import models
from django.utils.translation import gettext_lazy as _


class CallStatus(models.TextChoices):
    """Derived from the clock (PRODUCT §3); only ARCHIVED is set by hand."""

    UPCOMING = "upcoming", _("Upcoming")
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed (in review)")
    DECIDED = "decided", _("Decided")
    ARCHIVED = "archived", _("Archived")


PUBLIC_LISTED = {CallStatus.UPCOMING, CallStatus.OPEN}


class ReviewVisibility(models.TextChoices):
    """Whether a reviewer sees the other reviews of a proposal (PRODUCT §1.1)."""

    NEVER = "never", _("Never")
    AFTER_OWN = "after_own", _("After submitting their own")
    ALWAYS = "always", _("Always")


class CallRoleKind(models.TextChoices):
    COMMITTEE = "committee", _("Committee member")
    REVIEWER = "reviewer", _("Reviewer")


class ProposalStatus(models.TextChoices):
    """PRODUCT §4.2. Only the lifecycle services in ``proposals.services.lifecycle`` set it."""

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
