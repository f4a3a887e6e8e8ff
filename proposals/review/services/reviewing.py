"""The reviewer's side of peer review (PRODUCT §5.1, §5.2): accept or decline an assignment,
save the review as a draft, submit it once; a call manager reopens a submitted review.

These services (with ``conflicts`` and the assignment services) are the only ones that set
``Review.state``. Each runs in one transaction and locks, in this order, the proposal row,
the review and — only ``review_submit``, which must see every other submission of the call —
the call row: the order the other review services use (proposal before call).
Refusals a reviewer can act on are ``ValidationError`` (keyed by the form field's name when
they are about one field) or one of the subclasses below; acting in the wrong role is
``PermissionDenied``.

What a review holds, by kind:

- scientific: a score per criterion of the call (``ReviewScore`` rows, ``score-<id>`` in
  forms), ``comment_to_applicant`` (the applicant reads it), ``confidential_comment`` (the
  committee and the managers only) and ``recommendation``;
- technical: ``verdict``, a recommended amount per resource the proposal requested
  (``TechnicalRecommendation`` rows, ``recommended-<id>`` in forms) and comments, kept in
  ``confidential_comment``. A technical review's comments are written for the committee
  (frank notes on codes, job sizes and the machine) and never reach the applicant, so
  ``comment_to_applicant``, which the right of reply shows to applicants, stays empty on
  technical reviews and ``recommendation`` too.

Saving and submitting use optimistic locking like the proposals' editing: the form carries
the ``lock_version`` it loaded, a save based on an older one raises ``ReviewEditConflict`` and
writes nothing, and every write adds one to it.
"""

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import active_call_managers
from notifications.enums import EmailKind
from notifications.services import outbox_queue_each
from proposals.calls.audit import audit_record
from proposals.calls.enums import AuditAction
from proposals.calls.models import Call
from proposals.calls.rules import can_manage_call
from proposals.review.enums import REVIEW_LIFECYCLE, ReviewState
from proposals.review.models import Review
from proposals.review.rules import has_blocking_conflict
from proposals.review.selectors.reviewing import (
    call_reviews_complete,
    review_content,
    review_problems,
)
from proposals.review.services.content import write_review_content
from proposals.submission.enums import IN_COMPETITION
from proposals.submission.models import Proposal
from proposals.submission.services.lifecycle import call_local

DECLINE_REASON_MAX_LENGTH = 2000


class ReviewEditConflict(Exception):
    """The review was saved after the form was loaded (another tab); nothing was written.

    ``review`` is the review as it is now, with ``content`` (its scores or recommended
    amounts) read under the same lock, so the page can show what is saved.
    """

    def __init__(self, review: Review) -> None:
        self.review = review
        self.content = review_content(review)
        self.saved_at: datetime | None = review.saved_at
        super().__init__(
            f"Review {review.pk} is at version {review.lock_version}; "
            "the save was based on an older one."
        )


class ReviewLocked(ValidationError):
    """The review is submitted: it cannot change unless a call manager reopens it."""


class ReviewIncomplete(ValidationError):
    """Submitting found parts missing; ``problems`` lists every one, keyed by form field.

    What was sent was saved as a draft first: ``review`` is that saved draft (its new
    ``lock_version`` is what the form must carry next).
    """

    def __init__(self, problems: dict[str, list[str]], review: Review) -> None:
        self.problems = problems
        self.review = review
        super().__init__(problems, code="incomplete")


# --- Locks and checks ------------------------------------------------------------------------


def _lock(review: Review) -> Review:
    """The proposal row, then the review row, locked until the transaction ends."""
    Proposal.objects.select_for_update(of=("self",)).filter(pk=review.proposal_id).first()
    return (
        Review.objects.select_for_update(of=("self",))
        .select_related("proposal__call", "reviewer")
        .get(pk=review.pk)
    )


def _refresh(review: Review, source: Review) -> None:
    """Let the caller's object see what the service wrote."""
    for field in Review._meta.concrete_fields:
        setattr(review, field.attname, getattr(source, field.attname))


def _require_reviewer(by: User, locked: Review) -> None:
    if not (by.is_authenticated and locked.reviewer_id == by.pk):
        raise PermissionDenied(_("Only the reviewer it is assigned to can do this."))


def _require_in_review(locked: Review) -> None:
    proposal = locked.proposal
    if proposal.status not in IN_COMPETITION:
        raise ValidationError(
            _("This proposal is %(status)s; it no longer needs a review.")
            % {"status": proposal.get_status_display().lower()},
            code="not_in_review",
        )


def _locked_error(locked: Review) -> ReviewLocked:
    assert locked.submitted_at is not None  # only a submitted review is locked
    return ReviewLocked(
        _(
            "This review was submitted on %(when)s and is locked; nothing was changed. "
            "A call manager can reopen it if it must change."
        )
        % {"when": call_local(locked.submitted_at, locked.proposal.call)},
        code="locked",
    )


def _state_error(locked: Review) -> ValidationError:
    """Why a review in ``locked.state`` cannot be answered or written."""
    call = locked.proposal.call
    if locked.state == ReviewState.SUBMITTED:
        return _locked_error(locked)
    if locked.state == ReviewState.ACCEPTED:
        message = _("You already accepted this review.")
    elif locked.state == ReviewState.INVITED:
        message = _("Accept the invitation first; then you can write the review.")
    elif locked.state == ReviewState.DECLINED:
        message = _("You declined this invitation on %(when)s.") % {
            "when": call_local(locked.responded_at or locked.assigned_at, call)
        }
    else:
        message = _("A call manager withdrew this assignment; it needs no review from you.")
    return ValidationError(message, code="state")


def _locked_for_writing(*, review: Review, by: User, expected_version: int) -> Review:
    """The review locked, once ``by`` may write it: its reviewer, accepted, not submitted,
    its proposal still in review, and ``expected_version`` the current one."""
    locked = _lock(review)
    _require_reviewer(by, locked)
    if locked.state != ReviewState.ACCEPTED:
        raise _state_error(locked)
    _require_in_review(locked)
    if expected_version != locked.lock_version:
        raise ReviewEditConflict(locked)
    return locked


# --- The services ---------------------------------------------------------------------------


def review_accept(*, review: Review, by: User, now: datetime | None = None) -> None:
    """The reviewer accepts an invitation, declaring that they have no conflict of interest.

    Refusals: PermissionDenied unless ``by`` is the review's reviewer; ValidationError unless
    the review is invited, when the proposal is no longer in review (withdrawn), or when a
    confirmed or declared conflict of interest exists between ``by`` and the proposal.

    Side effects: state accepted, ``responded_at`` and ``no_conflict_declared_at`` now, the
    next ``lock_version``; the caller's object is updated. No email.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock(review)
        _require_reviewer(by, locked)
        if locked.state != ReviewState.INVITED:
            raise _state_error(locked)
        _require_in_review(locked)
        if has_blocking_conflict(by, locked.proposal):
            raise ValidationError(
                _(
                    "A conflict of interest between you and this proposal is on record; you "
                    "cannot review it."
                ),
                code="conflict",
            )
        locked.responded_at = now
        locked.no_conflict_declared_at = now
        locked.lock_version += 1
        REVIEW_LIFECYCLE.move(
            locked,
            ReviewState.ACCEPTED,
            also=("responded_at", "no_conflict_declared_at", "lock_version"),
        )
    _refresh(review, locked)


def review_decline(*, review: Review, by: User, reason: str, now: datetime | None = None) -> None:
    """The reviewer declines an invitation, saying why.

    Refusals: PermissionDenied unless ``by`` is the review's reviewer; ValidationError (key
    ``reason``) when the reason is blank or longer than DECLINE_REASON_MAX_LENGTH; a
    ValidationError unless the review is invited.

    Side effects: state declined, ``decline_reason``, ``responded_at`` now, the next
    ``lock_version``; the caller's object is updated. The reviewer no longer sees the
    proposal. No email (the managers' assignment page shows declined reviews to replace).
    """
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            {"reason": _("Please say briefly why you decline, so a replacement can be found.")},
            code="required",
        )
    if len(reason) > DECLINE_REASON_MAX_LENGTH:
        raise ValidationError(
            {
                "reason": _("Please keep the reason under %(limit)d characters.")
                % {"limit": DECLINE_REASON_MAX_LENGTH}
            },
            code="max_length",
        )
    with transaction.atomic():
        locked = _lock(review)
        _require_reviewer(by, locked)
        if locked.state != ReviewState.INVITED:
            raise _state_error(locked)
        locked.decline_reason = reason
        locked.responded_at = now
        locked.lock_version += 1
        REVIEW_LIFECYCLE.move(
            locked, ReviewState.DECLINED, also=("decline_reason", "responded_at", "lock_version")
        )
    _refresh(review, locked)


def review_save(
    *,
    review: Review,
    by: User,
    expected_version: int,
    data: Mapping[str, str],
    scores: Mapping[int, int | None] | None = None,
    recommended: Mapping[int, Decimal | None] | None = None,
    now: datetime | None = None,
) -> Review:
    """Save a review as a draft; returns the saved review.

    ``data`` holds text fields of the review's kind (see ``content.TEXT_FIELDS``); ``scores`` maps a
    criterion id of the call to a score on its scale (None clears it); ``recommended`` maps a
    call resource the proposal requested to an amount (None clears it). A mapping left None
    is not touched. A draft may be incomplete.

    Refusals: PermissionDenied unless ``by`` is the reviewer; ReviewLocked once submitted;
    ValidationError unless accepted or when the proposal is no longer in review;
    ReviewEditConflict when ``expected_version`` is not the current one; ValidationError
    keyed by field for a score off its scale, an unknown recommendation or verdict, or an
    amount below zero or above the request. A refusal writes nothing.

    Side effects: the fields, the score and recommended-amount rows (created, changed,
    deleted), ``saved_at`` now and the next ``lock_version``; the caller's object is updated.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked_for_writing(review=review, by=by, expected_version=expected_version)
        write_review_content(locked, data=data, scores=scores, recommended=recommended, now=now)
    _refresh(review, locked)
    return locked


def review_submit(
    *,
    review: Review,
    by: User,
    expected_version: int,
    data: Mapping[str, str],
    scores: Mapping[int, int | None] | None = None,
    recommended: Mapping[int, Decimal | None] | None = None,
    now: datetime | None = None,
) -> Review:
    """Save what was sent (as ``review_save``), then check everything at once and submit.

    Submitting after the due date is allowed (the pages call it late).

    Refusals: those of ``review_save`` (nothing written); ReviewIncomplete listing every
    missing part (see ``review_problems``): the draft sent is saved and kept, and the review
    stays accepted.

    Side effects on success: the save's, then state submitted and ``submitted_at`` now; the
    call row is locked for the transaction and, when no review of the call is outstanding any more
    (``call_reviews_complete``), the ``reviews-complete`` email (event
    ``reviews-complete:<call id>``, so once per call) to every active member of the call
    managers' group. The caller's object is updated.
    """
    now = now or timezone.now()
    problems: dict[str, list[str]] = {}
    with transaction.atomic():
        locked = _locked_for_writing(review=review, by=by, expected_version=expected_version)
        write_review_content(locked, data=data, scores=scores, recommended=recommended, now=now)
        problems = review_problems(locked)
        if not problems:
            locked.submitted_at = now
            REVIEW_LIFECYCLE.move(locked, ReviewState.SUBMITTED, also=("submitted_at",))
            # Submissions to one call take turns here, after their own writes: the check
            # below then sees every submission of the call that committed before, so of two
            # last reviews submitted at once the second one sends the email.
            call = Call.objects.select_for_update().get(pk=locked.proposal.call_id)
            if call_reviews_complete(call):
                _queue_reviews_complete(call)
    _refresh(review, locked)
    if problems:
        raise ReviewIncomplete(problems, review=locked)
    return locked


def _queue_reviews_complete(call: Call) -> None:
    context = {
        "call": call,
        "proposals": Proposal.objects.filter(call=call, status__in=IN_COMPETITION).count(),
        "reviews": Review.objects.filter(
            proposal__call=call,
            proposal__status__in=IN_COMPETITION,
            state=ReviewState.SUBMITTED,
        ).count(),
    }
    outbox_queue_each(
        kind=EmailKind.REVIEWS_COMPLETE,
        event=f"reviews-complete:{call.pk}",
        people=active_call_managers(),
        context=context,
    )


def review_reopen(*, review: Review, by: User, now: datetime | None = None) -> None:
    """A call manager reopens a submitted review so its reviewer can change it and submit it
    again.

    Refusals: PermissionDenied unless ``by`` manages the proposal's call; ValidationError
    unless the review is submitted.

    Side effects: state accepted, ``reopened_at`` now, ``reopened_by``, the next
    ``lock_version`` (``submitted_at`` keeps the first submission until the next one); an
    audit entry; the caller's object is updated. No email: the managers tell the reviewer
    why. The call's ``reviews-complete`` email, if already sent, is not sent again.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock(review)
        if not can_manage_call(by, locked.proposal.call):
            raise PermissionDenied(_("Only call managers can reopen a review."))
        if locked.state != ReviewState.SUBMITTED:
            raise ValidationError(
                _("Only a submitted review can be reopened; this one is %(state)s.")
                % {"state": locked.get_state_display().lower()},
                code="not_submitted",
            )
        locked.reopened_at = now
        locked.reopened_by = by
        locked.lock_version += 1
        REVIEW_LIFECYCLE.move(
            locked, ReviewState.ACCEPTED, also=("reopened_at", "reopened_by", "lock_version")
        )
        audit_record(
            subject=locked,
            action=AuditAction.REVIEW_REOPENED,
            actor=by,
            call=locked.proposal.call,
            person=locked.reviewer,
            before={"state": ReviewState.SUBMITTED.label},
            after={"state": ReviewState.ACCEPTED.label},
            at=now,
        )
    _refresh(review, locked)
