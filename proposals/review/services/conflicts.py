"""Conflicts of interest (PRODUCT §5.1): decided by managers, undone, declared by reviewers.
Their detection is in ``proposals.review.services.conflict_detection``.

A confirmed or declared conflict and an active review of the same pair cannot exist together:
the database refuses it (triggers of migration 0005). So the services here end the review
first (removed, or declined for a declaration) and then block the pair, in one transaction.
"""

import logging
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from proposals.calls.audit import audit_record
from proposals.calls.enums import AuditAction
from proposals.calls.models import Call
from proposals.calls.rules import can_manage_call, is_committee_member
from proposals.review.enums import (
    ACTIVE_REVIEW_STATES,
    CONFLICT_LIFECYCLE,
    REVIEW_LIFECYCLE,
    ConflictReason,
    ConflictStatus,
    ReviewState,
)
from proposals.review.models import Conflict, Review
from proposals.submission.models import Proposal

log = logging.getLogger(__name__)

# What a declared conflict writes into the reviewer's declined review (stored, not shown
# through gettext: it is data, like the reasons reviewers type themselves).
DECLINE_REASON = "Conflict of interest declared"
DETAIL_MAX_LENGTH = 2000


def _described(conflict: Conflict) -> dict[str, object]:
    return {
        "conflict": conflict.pk,
        "proposal": conflict.proposal_id,
        "person": conflict.reviewer_id,
        "reason": conflict.reason,
        "detail": conflict.detail,
    }


def _audit(conflict: Conflict, action: str, by: User | None, *, call: Call, **before) -> None:
    """One audit entry for a change of ``conflict``; ``before`` holds what it was."""
    audit_record(
        subject=conflict,
        action=action,
        actor=by,
        call=call,
        before=before,
        after={**_described(conflict), "status": conflict.status},
    )


def _lock_pair(proposal_id: int, reviewer_id: int) -> list[Review]:
    """The pair's reviews, locked: the proposal row first (the order the other review
    services use), then the reviews."""
    Proposal.objects.select_for_update(of=("self",)).filter(pk=proposal_id).first()
    return list(
        Review.objects.select_for_update(of=("self",))
        .filter(proposal_id=proposal_id, reviewer_id=reviewer_id)
        .order_by("pk")
    )


def conflict_decide(
    *, conflict: Conflict, by: User, confirm: bool, now: datetime | None = None
) -> int:
    """A call manager confirms (``confirm=True``) or dismisses a detected conflict; returns
    how many active reviews of the pair were removed to confirm it.

    Refusals: PermissionDenied unless ``by`` manages the proposal's call; ValidationError when
    the conflict is no longer detected (decided by someone else, or declared), or when a
    review of the pair became active at the same moment (try again).

    Side effects: when confirming, each active review (invited, accepted, submitted) of the
    pair is set to removed first, since the database refuses a blocking conflict beside an
    active review; the conflict's status, ``decided_by`` and ``decided_at``; the caller's
    object is updated; an audit entry; a log entry. Dismissing never touches a review.
    """
    now = now or timezone.now()
    try:
        with transaction.atomic():
            reviews = _lock_pair(conflict.proposal_id, conflict.reviewer_id)
            locked = (
                Conflict.objects.select_for_update(of=("self",))
                .select_related("proposal__call")
                .get(pk=conflict.pk)
            )
            if not can_manage_call(by, locked.proposal.call):
                raise PermissionDenied(_("Only call managers decide conflicts of interest."))
            if locked.status != ConflictStatus.DETECTED:
                raise ValidationError(
                    _("This conflict of interest is already %(status)s.")
                    % {"status": locked.get_status_display().lower()},
                    code="decided",
                )
            removed = [r for r in reviews if r.state in ACTIVE_REVIEW_STATES] if confirm else []
            for review in removed:
                REVIEW_LIFECYCLE.move(review, ReviewState.REMOVED)
            locked.decided_by = by
            locked.decided_at = now
            CONFLICT_LIFECYCLE.move(
                locked,
                ConflictStatus.CONFIRMED if confirm else ConflictStatus.DISMISSED,
                also=("decided_by", "decided_at"),
            )
            audit_record(
                subject=locked,
                action=AuditAction.CONFLICT_CONFIRMED
                if confirm
                else AuditAction.CONFLICT_DISMISSED,
                actor=by,
                call=locked.proposal.call,
                person=locked.reviewer,
                before={"status": ConflictStatus.DETECTED.label},
                after={
                    "status": str(locked.get_status_display()),
                    "reviews removed": str(len(removed)),
                },
                at=now,
            )
    except IntegrityError as error:
        raise ValidationError(
            _("A review of this pair was assigned at the same moment. Please try again."),
            code="race",
        ) from error
    # lifecycle: the caller sees the locked row
    conflict.status, conflict.decided_by, conflict.decided_at = locked.status, by, now
    log.info(
        "conflict decided",
        extra={
            "ctx_conflict": conflict.pk,
            "ctx_status": locked.status,
            "ctx_by": by.pk,
            "ctx_reviews_removed": [r.pk for r in removed],
        },
    )
    return len(removed)


def conflict_undo(*, conflict: Conflict, by: User) -> None:
    """A call manager undoes the confirmation or the dismissal of a detected conflict: it is
    detected again, to be decided anew (PRODUCT §5.1).

    Refusals: PermissionDenied unless ``by`` manages the proposal's call; ValidationError
    unless the conflict is confirmed or dismissed (a declared one is the reviewer's word).

    Side effects: status detected, ``decided_by`` and ``decided_at`` emptied; reviews removed
    when it was confirmed stay removed (the pair is never suggested again); the caller's object
    updated; an audit entry (``conflict_confirmation_undone`` or ``conflict_dismissal_undone``)
    with who decided it and when; a log entry.
    """
    with transaction.atomic():
        locked = (
            Conflict.objects.select_for_update(of=("self",))
            .select_related("proposal__call")
            .get(pk=conflict.pk)
        )
        if not can_manage_call(by, locked.proposal.call):
            raise PermissionDenied(_("Only call managers decide conflicts of interest."))
        if locked.status not in (ConflictStatus.CONFIRMED, ConflictStatus.DISMISSED):
            raise ValidationError(
                _("Only a confirmed or dismissed conflict can be undone; this one is %(status)s.")
                % {"status": locked.get_status_display().lower()},
                code="not_decided",
            )
        before = {
            "status": locked.status,
            "decided_by": locked.decided_by_id,
            "decided_at": locked.decided_at.isoformat() if locked.decided_at else None,
        }
        action = (
            AuditAction.CONFLICT_CONFIRMATION_UNDONE
            if locked.status == ConflictStatus.CONFIRMED
            else AuditAction.CONFLICT_DISMISSAL_UNDONE
        )
        locked.decided_by = None
        locked.decided_at = None
        CONFLICT_LIFECYCLE.move(locked, ConflictStatus.DETECTED, also=("decided_by", "decided_at"))
        _audit(locked, action, by, call=locked.proposal.call, **before)
    # lifecycle: the caller sees the locked row
    conflict.status, conflict.decided_by, conflict.decided_at = locked.status, None, None
    log.info(
        "conflict decision undone",
        extra={"ctx_conflict": conflict.pk, "ctx_by": by.pk, "ctx_was": before["status"]},
    )


def conflict_declare(
    *, proposal: Proposal, reviewer: User, detail: str, now: datetime | None = None
) -> Conflict:
    """A reviewer declares a conflict of interest with a proposal they were asked to review, or
    a committee member with a proposal of their call; returns the declared conflict.

    Refusals: PermissionDenied unless ``reviewer`` has a review of the proposal that a
    manager has not removed, or is on the call's committee; ValidationError when ``detail``
    is blank or longer than DETAIL_MAX_LENGTH, or when a review of the pair became active at
    the same moment.
    Declaring again returns the existing declaration unchanged.

    Side effects: each active review of the pair becomes declined, with ``decline_reason``
    DECLINE_REASON and ``responded_at``, first (the database refuses a declared conflict
    beside an active review); then a Conflict row with reason and status declared and the
    reviewer's ``detail``; an audit entry; a log entry. The reviewer can no longer see the proposal.
    """
    now = now or timezone.now()
    detail = detail.strip()
    if not detail:
        raise ValidationError(
            _("Please say briefly why you are in conflict with this proposal."), code="required"
        )
    if len(detail) > DETAIL_MAX_LENGTH:
        raise ValidationError(
            _("Please keep the explanation under %(limit)d characters.")
            % {"limit": DETAIL_MAX_LENGTH},
            code="max_length",
        )
    try:
        with transaction.atomic():
            reviews = [
                r for r in _lock_pair(proposal.pk, reviewer.pk) if r.state != ReviewState.REMOVED
            ]
            if not reviews and not is_committee_member(reviewer, proposal.call):
                raise PermissionDenied(_("You are not a reviewer of this proposal."))
            declined = [r for r in reviews if r.state in ACTIVE_REVIEW_STATES]
            for review in declined:
                review.decline_reason = DECLINE_REASON
                review.responded_at = now
                REVIEW_LIFECYCLE.move(
                    review, ReviewState.DECLINED, also=("decline_reason", "responded_at")
                )
            conflict, created = Conflict.objects.get_or_create(
                proposal=proposal,
                reviewer=reviewer,
                reason=ConflictReason.DECLARED,
                defaults={"status": ConflictStatus.DECLARED, "detail": detail},
            )
            if created:
                audit_record(
                    subject=conflict,
                    action=AuditAction.CONFLICT_DECLARED,
                    actor=reviewer,
                    call=proposal.call,
                    person=reviewer,
                    after={"detail": detail, "reviews declined": str(len(declined))},
                    at=now,
                )
    except IntegrityError as error:
        raise ValidationError(
            _("You were assigned to this proposal at the same moment. Please try again."),
            code="race",
        ) from error
    if created:
        log.info(
            "conflict declared",
            extra={
                "ctx_conflict": conflict.pk,
                "ctx_reviewer": reviewer.pk,
                "ctx_reviews_declined": [r.pk for r in declined],
            },
        )
    return conflict
