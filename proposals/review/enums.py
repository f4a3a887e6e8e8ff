"""States and choices of peer review (PRODUCT §5): assignments, reviews, conflicts."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.lifecycle import Lifecycle


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
    CLOSED = "closed", _("Closed: the decisions were published")


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
    WITHDRAWN = "withdrawn", _("Withdrawn: its cause is gone")


BLOCKING_CONFLICTS = frozenset({ConflictStatus.CONFIRMED, ConflictStatus.DECLARED})
# Conflicts that stand in nobody's way: dismissed by a manager, or withdrawn (cause gone).
SETTLED_CONFLICTS = frozenset({ConflictStatus.DISMISSED, ConflictStatus.WITHDRAWN})
# The reasons detection finds (and withdraws when their cause is gone); declared ones stand.
DETECTED_REASONS = frozenset(
    {ConflictReason.TEAM, ConflictReason.AFFILIATION, ConflictReason.EXCLUDED}
)


# PRODUCT §5.1, §5.2: an invitation is accepted or declined; an accepted review is submitted
# and locked, until a manager reopens it. A manager removes an outstanding review (or any
# active one when confirming a conflict); declaring a conflict declines every active review of
# the pair. Publishing the decisions closes every invitation and draft still open (§6).
REVIEW_LIFECYCLE = Lifecycle(
    "review",
    "state",
    {
        ReviewState.INVITED: frozenset(
            {ReviewState.ACCEPTED, ReviewState.DECLINED, ReviewState.REMOVED, ReviewState.CLOSED}
        ),
        ReviewState.ACCEPTED: frozenset(
            {ReviewState.SUBMITTED, ReviewState.DECLINED, ReviewState.REMOVED, ReviewState.CLOSED}
        ),
        ReviewState.SUBMITTED: frozenset(
            {ReviewState.ACCEPTED, ReviewState.DECLINED, ReviewState.REMOVED}
        ),
    },
)

# A detected conflict is confirmed or dismissed by a manager, who can undo either (back to
# detected); detection withdraws a detected one whose cause is gone, and brings a withdrawn one
# back when its cause returns. A declared one stands.
CONFLICT_LIFECYCLE = Lifecycle(
    "conflict",
    "status",
    {
        ConflictStatus.DETECTED: frozenset(
            {ConflictStatus.CONFIRMED, ConflictStatus.DISMISSED, ConflictStatus.WITHDRAWN}
        ),
        ConflictStatus.CONFIRMED: frozenset({ConflictStatus.DETECTED}),
        ConflictStatus.DISMISSED: frozenset({ConflictStatus.DETECTED}),
        ConflictStatus.WITHDRAWN: frozenset({ConflictStatus.DETECTED}),
    },
)
