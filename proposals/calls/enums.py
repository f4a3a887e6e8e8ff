"""States and choices of calls (PRODUCT §3): derived from the clock but for archiving."""

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


class QuotaPolicy(models.TextChoices):
    """PRODUCT §8: the whole award for the whole period, or monthly shares as at JSC."""

    WHOLE_PERIOD = "whole_period", _("Whole period")
    MONTHLY = "monthly", _("Monthly (carry over one month, borrow one month ahead)")


class AuditAction(models.TextChoices):
    """Every kind of entry in the audit trail (PRODUCT §9), as the trail's filter offers them.

    A service records an action with ``audit_record(action=AuditAction.…)``; a value not
    listed here still shows, under its code."""

    PROPOSAL_SUBMITTED = "proposal.submitted", _("Proposal submitted")
    PROPOSAL_TAKEN_BACK = "proposal.taken_back", _("Proposal taken back to draft")
    PROPOSAL_WITHDRAWN = "proposal.withdrawn", _("Proposal withdrawn")
    REVIEW_SUGGESTED = "review.suggestion_applied", _("Reviewer assigned from the suggestion")
    REVIEW_ASSIGNED = "review.assigned", _("Reviewer assigned by hand")
    REVIEW_REMOVED = "review.removed", _("Reviewer removed")
    REVIEW_REOPENED = "review.reopened", _("Review reopened")
    CONFLICT_DETECTED = "conflict.detected", _("Conflict of interest detected")
    CONFLICT_DECLARED = "conflict.declared", _("Conflict of interest declared")
    CONFLICT_CONFIRMED = "conflict.confirmed", _("Conflict of interest confirmed")
    CONFLICT_DISMISSED = "conflict.dismissed", _("Conflict of interest dismissed")
    CONFLICT_DETECTED_AGAIN = "conflict.detected_again", _("Conflict of interest detected again")
    CONFLICT_WITHDRAWN = "conflict.withdrawn", _("Detected conflict withdrawn: its cause is gone")
    CONFLICT_CONFIRMATION_UNDONE = "conflict.confirmation_undone", _("Confirmation undone")
    CONFLICT_DISMISSAL_UNDONE = "conflict.dismissal_undone", _("Dismissal undone")
    CALL_CREATED = "call.created", _("Call created")
    CALL_EDITED = "call.edited", _("Call edited")
    CALL_NEXT_CYCLE = "call.next_cycle", _("Next cycle created")
    CALL_ARCHIVED = "call.archived", _("Call archived")
    CALL_UNARCHIVED = "call.unarchived", _("Call brought back from the archive")
    ROLE_ADDED = "role.added", _("Call role given")
    ROLE_REMOVED = "role.removed", _("Call role taken away")
    ROLE_CLAIMED = "role.claimed", _("Call role claimed by verifying an address")
    MANAGER_ADDED = "manager.added", _("Made a call manager")
    MANAGER_REMOVED = "manager.removed", _("No longer a call manager")
    SIGNED_IN = "sign_in", _("Signed in")
    DECISION_SAVED = "decision.saved", _("Decision saved")
    DECISIONS_PUBLISHED = "decisions.published", _("Decisions published")
    DECISION_PROMOTED = "decision.promoted", _("Promoted from the waitlist")
    AWARD_ACCEPTED = "award.accepted", _("Award accepted")
    AWARD_DECLINED = "award.declined", _("Award declined")
    ALLOCATION_CREATED = "allocation.created", _("Allocation created")
    ALLOCATION_ADJUSTED = "allocation.adjusted", _("Allocation adjusted")
    ALLOCATION_FORFEITED = "allocation.forfeited", _("Hours forfeited")
    MEMBER_ADDED = "allocation.member_added", _("Allocation member added")
    MEMBER_REMOVED = "allocation.member_removed", _("Allocation member removed")
    REQUEST_CREATED = "allocation.request_created", _("Request for more made")
    REQUEST_APPROVED = "allocation.request_approved", _("Request for more approved")
    REQUEST_DECLINED = "allocation.request_declined", _("Request for more declined")
    FINAL_REPORT_UPLOADED = "allocation.final_report_uploaded", _("Final report uploaded")
