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
    TECHNICAL = "technical", _("Technical reviewer (centre staff)")


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


class ReviewKind(models.TextChoices):
    SCIENTIFIC = "scientific", _("Scientific review")
    TECHNICAL = "technical", _("Technical review")


class ReviewState(models.TextChoices):
    """An assignment and its review in one row (PRODUCT §5.1, §5.2)."""

    INVITED = "invited", _("Invited")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    SUBMITTED = "submitted", _("Submitted")
    REMOVED = "removed", _("Removed by a manager")


ACTIVE_REVIEW_STATES = frozenset({ReviewState.INVITED, ReviewState.ACCEPTED, ReviewState.SUBMITTED})


class Recommendation(models.TextChoices):
    FUND = "fund", _("Fund")
    FUND_REDUCED = "fund_reduced", _("Fund with a reduced amount")
    DO_NOT_FUND = "do_not_fund", _("Do not fund")


class TechnicalVerdict(models.TextChoices):
    FEASIBLE = "feasible", _("Feasible")
    FEASIBLE_WITH_CHANGES = "feasible_with_changes", _("Feasible with changes")
    NOT_FEASIBLE = "not_feasible", _("Not feasible")


class ConflictReason(models.TextChoices):
    TEAM = "team", _("On the proposal's team")
    AFFILIATION = "affiliation", _("Same affiliation as the PI or a team member")
    EXCLUDED = "excluded", _("The applicant asked to exclude them")
    DECLARED = "declared", _("Declared by the reviewer")


class ConflictStatus(models.TextChoices):
    DETECTED = "detected", _("Detected, to be checked")
    CONFIRMED = "confirmed", _("Confirmed")
    DISMISSED = "dismissed", _("Dismissed")
    DECLARED = "declared", _("Declared by the reviewer")


BLOCKING_CONFLICTS = frozenset({ConflictStatus.CONFIRMED, ConflictStatus.DECLARED})


class DecisionOutcome(models.TextChoices):
    """The committee's decision on a proposal (PRODUCT §6)."""

    AWARDED = "awarded", _("Awarded")
    PARTIALLY_AWARDED = "partially_awarded", _("Partially awarded")
    WAITLISTED = "waitlisted", _("Waitlisted")
    REJECTED = "rejected", _("Rejected")


AWARDING = frozenset({DecisionOutcome.AWARDED, DecisionOutcome.PARTIALLY_AWARDED})


class AwardResponse(models.TextChoices):
    PENDING = "pending", _("Waiting for the PI's answer")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")


class QuotaPolicy(models.TextChoices):
    """PRODUCT §8: the whole award for the whole period, or monthly shares as at JSC."""

    WHOLE_PERIOD = "whole_period", _("Whole period")
    MONTHLY = "monthly", _("Monthly (carry over one month, borrow one month ahead)")
