"""Reviewer assignment (PRODUCT §5.1): the optimal suggestion, applying it, manual changes.

``suggestion.assignment_suggest`` only reads: it returns what the solver proposes for the whole
call. Nothing changes until a manager confirms it through ``assignment_apply``, which checks every
pair again under a lock, because the call may have moved on since the suggestion was shown.
``review_assign`` and ``review_remove`` are a manager's changes by hand.

A declined or overdue assignment is refilled by suggesting again: only active reviews (invited,
accepted, submitted) are kept as fixed, and a reviewer who declined a proposal, or whom a
manager removed from it, is never suggested for it again. An overdue review stays until a
manager removes it, which frees its place for the next suggestion.

The services that create reviews lock the call row: assignments of one call are made one at a
time, so two managers cannot push a reviewer past their load together. The database triggers of
migration 0005 remain the last line against a review of a pair in conflict.
"""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import dateformat
from django.utils.translation import gettext as _

from accounts.formatting import format_instant
from accounts.models import User
from notifications.enums import EmailKind
from notifications.services import Outgoing, outbox_queue_many
from proposals.calls.audit import audit_entry, audit_record
from proposals.calls.enums import AuditAction, CallRoleKind
from proposals.calls.models import AuditEntry, Call, CallRole
from proposals.review.enums import (
    ACTIVE_REVIEW_STATES,
    BLOCKING_CONFLICTS,
    REVIEW_LIFECYCLE,
    SETTLED_CONFLICTS,
    ConflictStatus,
    ReviewKind,
    ReviewState,
)
from proposals.review.models import Conflict, Review
from proposals.review.selectors.assignment import (
    DEFAULT_MAX_LOAD,
    OUTSTANDING,
    REVIEWABLE,
    AssignmentInputs,
    assignment_inputs,
    reviewer_load,
)
from proposals.review.services.conflict_detection import conflicts_refresh
from proposals.submission.models import Proposal
from proposals.submission.services.lifecycle import call_local


@dataclass(frozen=True)
class SkippedPair:
    """A pair of the confirmed suggestion that was no longer valid when it was applied."""

    proposal_id: int
    reviewer_id: int
    label: str
    reason: str

    @property
    def message(self) -> str:
        return f"{self.label}: {self.reason}"


@dataclass(frozen=True)
class AppliedSuggestion:
    invited: list[Review]
    skipped: list[SkippedPair]


def _lock_call(call: Call) -> Call:
    return Call.objects.select_for_update().get(pk=call.pk)


def due_date_local(review: Review, call: Call) -> str:
    """The due date as the call's time zone reads it: "28 Feb 2027"."""
    return dateformat.format(review.due_at.astimezone(call.tz), "j M Y")


def _invitation(review: Review, proposal: Proposal, call: Call) -> Outgoing:
    reviewer = review.reviewer
    return Outgoing(
        kind=EmailKind.REVIEW_ASSIGNED,
        event=f"review-assigned:{review.pk}",
        recipient=reviewer.email,
        user=reviewer,
        context={
            "review": review,
            "proposal": proposal,
            "call": call,
            "reviewer": reviewer,
            "due_date": due_date_local(review, call),
            "due_local": call_local(review.due_at, call),
        },
    )


def _conflict_error() -> ValidationError:
    return ValidationError(
        _(
            "A conflict of interest was recorded for one of these pairs in the meantime; "
            "nothing was assigned. Please ask for a new suggestion."
        ),
        code="conflict",
    )


def assignment_apply(
    *, call: Call, pairs: Sequence[tuple[int, int]], by: User
) -> AppliedSuggestion:
    """Invite the reviewers of a confirmed suggestion: (proposal_id, reviewer_id) pairs.

    Under a lock of the call row, conflicts of interest of the suggestion's proposals are
    detected again (``conflicts_refresh``); then each pair is checked again in order and
    skipped, with the reason, when it is no longer valid: the proposal is no longer submitted
    or under review (or not of this call), the reviewer left the pool, a conflict of interest
    blocks the pair, the pair already has a review (active, declined or removed), the
    proposal already has its reviewers, or the reviewer has no load left.

    Side effects: one Review per valid pair (scientific, invited, due at the call's
    ``review_due_at``, assigned by ``by``); an email (``review-assigned``) to each invited
    reviewer, once per review; an audit entry per review. Raises ValidationError, assigning
    nothing, if the database refuses a pair for a conflict recorded in the meantime.
    """
    with transaction.atomic():
        call = _lock_call(call)
        conflicts_refresh(call=call, proposal_ids={pair[0] for pair in pairs}, by=by)
        inputs = assignment_inputs(call=call)
        proposals = {p.pk: p for p in inputs.proposals}
        pool = {m.user.pk: m for m in inputs.pool}
        loads = Counter({m.user.pk: m.load for m in inputs.pool})
        staffed = Counter(pair[0] for pair in inputs.fixed)
        taken = inputs.existing
        reviews: list[Review] = []
        stale: list[tuple[int, int, str]] = []

        for proposal_id, reviewer_id in pairs:
            proposal, member = proposals.get(proposal_id), pool.get(reviewer_id)
            reason = _stale_reason(
                proposal=proposal,
                member=member,
                pair=(proposal_id, reviewer_id),
                inputs=inputs,
                taken=taken,
                staffed=staffed[proposal_id],
                load=loads[reviewer_id],
                need=call.reviewers_per_proposal,
            )
            if reason:
                stale.append((proposal_id, reviewer_id, reason))
                continue
            assert proposal is not None and member is not None  # else a reason above
            taken.add((proposal_id, reviewer_id))
            staffed[proposal_id] += 1
            loads[reviewer_id] += 1
            reviews.append(
                Review(
                    proposal=proposal,
                    reviewer=member.user,
                    kind=ReviewKind.SCIENTIFIC,
                    state=ReviewState.INVITED,
                    due_at=call.review_due_at,
                    assigned_by=by,
                )
            )
        try:
            with transaction.atomic():
                Review.objects.bulk_create(reviews)
        except IntegrityError as exc:
            raise _conflict_error() from exc
        AuditEntry.objects.bulk_create(
            audit_entry(
                subject=review,
                action=AuditAction.REVIEW_SUGGESTED,
                actor=by,
                call=call,
                person=review.reviewer,
                after=_assignment_values(review),
            )
            for review in reviews
        )
        outbox_queue_many(_invitation(review, review.proposal, call) for review in reviews)
    return AppliedSuggestion(invited=reviews, skipped=_label(stale, call))


def _label(stale: list[tuple[int, int, str]], call: Call) -> list[SkippedPair]:
    """Name the proposals and reviewers of skipped pairs. Two queries at most."""
    if not stale:
        return []
    references = dict(
        Proposal.objects.filter(call=call, pk__in={row[0] for row in stale}).values_list(
            "pk", "reference"
        )
    )
    people = {u.pk: u for u in User.objects.filter(pk__in={row[1] for row in stale})}
    return [
        SkippedPair(
            proposal_id,
            reviewer_id,
            " × ".join(
                [
                    references.get(proposal_id) or _("proposal #%(id)s") % {"id": proposal_id},
                    people[reviewer_id].display_name
                    if reviewer_id in people
                    else _("reviewer #%(id)s") % {"id": reviewer_id},
                ]
            ),
            reason,
        )
        for proposal_id, reviewer_id, reason in stale
    ]


def _stale_reason(
    *,
    proposal: Proposal | None,
    member,
    pair: tuple[int, int],
    inputs: AssignmentInputs,
    taken: set[tuple[int, int]],
    staffed: int,
    load: int,
    need: int,
) -> str:
    """Why a pair of a suggestion can no longer be applied; "" when it still can."""
    if proposal is None:
        return _("the proposal is no longer waiting for reviewers")
    if member is None:
        return _("the reviewer is no longer in the call's reviewer pool")
    if pair in inputs.conflicts:
        return _("a conflict of interest blocks this pair")
    if pair in inputs.ended:
        return _("the reviewer declined this proposal or was removed from it")
    if pair in taken:
        return _("the reviewer is already assigned to this proposal")
    if staffed >= need:
        return _("the proposal already has its reviewers")
    if load >= member.capacity:
        return _("the reviewer has no load left")
    return ""


def _conflict_refusal(proposal: Proposal, reviewer: User) -> ValidationError | None:
    """Why a conflict of interest stops ``reviewer`` from reviewing ``proposal``, with what
    detection found ("Paula Investigator is the principal investigator."); None when none
    does."""
    conflicts = list(
        Conflict.objects.filter(proposal=proposal, reviewer=reviewer)
        .exclude(status__in=SETTLED_CONFLICTS)
        .order_by("reason")
    )
    if not conflicts:
        return None
    values = {"reviewer": reviewer.display_name, "proposal": proposal.reference}
    if {c.status for c in conflicts} & BLOCKING_CONFLICTS:
        message = _(
            "%(reviewer)s has a conflict of interest with %(proposal)s and cannot review it."
        )
    else:
        message = _(
            "%(reviewer)s may have a conflict of interest with %(proposal)s: confirm or dismiss "
            "the detected conflict first."
        )
    message %= values
    found = " ".join(c.detail for c in conflicts if c.status == ConflictStatus.DETECTED)
    return ValidationError(f"{message} {found}".strip(), code="conflict")


def _existing_refusal(review: Review, reviewer: User, call: Call) -> ValidationError:
    values = {"reviewer": reviewer.display_name, "proposal": review.proposal.reference}
    if review.state in ACTIVE_REVIEW_STATES:
        message = _("%(reviewer)s is already assigned to %(proposal)s (%(state)s).")
        values["state"] = review.get_state_display().lower()
    elif review.state == ReviewState.DECLINED:
        message = _("%(reviewer)s declined to review %(proposal)s on %(date)s.")
        values["date"] = call_local(review.responded_at or review.assigned_at, call)
    else:
        message = _("%(reviewer)s was removed from %(proposal)s and cannot be assigned again.")
    return ValidationError(message % values, code="exists")


def _pool_role(call: Call, reviewer: User, kind: str) -> CallRole:
    """The reviewer's role in the call's pool for ``kind`` (reviewer pool for a scientific
    review, technical reviewers for a technical one); ValidationError when they are not in
    it."""
    role_kind = CallRoleKind.REVIEWER if kind == ReviewKind.SCIENTIFIC else CallRoleKind.TECHNICAL
    role = CallRole.objects.filter(call=call, role=role_kind, user=reviewer).order_by("pk").first()
    if role is None:
        message = (
            _("%(reviewer)s is not in the reviewer pool of %(call)s.")
            if kind == ReviewKind.SCIENTIFIC
            else _("%(reviewer)s is not a technical reviewer of %(call)s.")
        )
        raise ValidationError(
            message % {"reviewer": reviewer.display_name, "call": call.code}, code="pool"
        )
    return role


def _check_load(call: Call, reviewer: User, role: CallRole) -> None:
    """ValidationError when the reviewer already has as many scientific reviews in the call as
    their role allows."""
    capacity = DEFAULT_MAX_LOAD if role.max_load is None else role.max_load
    load = reviewer_load(call=call, reviewer=reviewer)
    if load >= capacity:
        raise ValidationError(
            _("%(reviewer)s already has %(load)d of at most %(capacity)d reviews in %(call)s.")
            % {
                "reviewer": reviewer.display_name,
                "load": load,
                "capacity": capacity,
                "call": call.code,
            },
            code="load",
        )


def review_assign(
    *,
    proposal: Proposal,
    reviewer: User,
    kind: str,
    by: User,
    due_at: datetime | None = None,
) -> Review:
    """A manager assigns ``reviewer`` to ``proposal`` by hand, after detecting the proposal's
    conflicts of interest again (``conflicts_refresh``).

    Refused (ValidationError, with a message saying why) when the proposal is not submitted or
    under review; the reviewer is not in the call's pool for ``kind`` (reviewer pool for a
    scientific review, technical reviewers for a technical one); a conflict of interest that is
    not dismissed stands between them (confirmed or declared: for good; detected: until a
    manager decides it); the pair already has a review of this kind, in any state; or, for a
    scientific review, the reviewer has no load left. A manager may give a proposal more
    scientific reviewers than the call's ``reviewers_per_proposal``; the load is a promise to
    the reviewer and is kept. The database triggers refuse a pair in conflict as a last line.

    Side effects: one Review (invited, due at ``due_at`` or the call's ``review_due_at``,
    assigned by ``by``); an email (``review-assigned``) to the reviewer; an audit entry.
    """
    if kind not in ReviewKind.values:
        raise ValidationError(_("Choose a kind of review."), code="kind")
    # Detection first, in its own transaction: what it finds is kept even when the assignment
    # is refused for it (PRODUCT §5.1).
    conflicts_refresh(call=proposal.call, proposal_ids=[proposal.pk], by=by)
    with transaction.atomic():
        # The proposal row first, then the call: the order of the other review services.
        proposal = Proposal.objects.select_for_update(of=("self",)).get(pk=proposal.pk)
        call = Call.objects.select_for_update().get(pk=proposal.call_id)
        proposal.call = call
        if proposal.status not in REVIEWABLE:
            raise ValidationError(
                _("Only submitted proposals get reviewers; %(proposal)s is %(status)s.")
                % {
                    "proposal": proposal.reference or proposal,
                    "status": proposal.get_status_display().lower(),
                },
                code="status",
            )
        role = _pool_role(call, reviewer, kind)
        refusal = _conflict_refusal(proposal, reviewer)
        if refusal:
            raise refusal
        existing = Review.objects.filter(proposal=proposal, reviewer=reviewer, kind=kind).first()
        if existing:
            existing.proposal = proposal
            raise _existing_refusal(existing, reviewer, call)
        if kind == ReviewKind.SCIENTIFIC:
            _check_load(call, reviewer, role)
        try:
            with transaction.atomic():
                review = Review.objects.create(
                    proposal=proposal,
                    reviewer=reviewer,
                    kind=kind,
                    state=ReviewState.INVITED,
                    due_at=due_at or call.review_due_at,
                    assigned_by=by,
                )
        except IntegrityError as exc:
            raise ValidationError(
                _("%(reviewer)s has a conflict of interest with %(proposal)s and cannot review it.")
                % {"reviewer": reviewer.display_name, "proposal": proposal.reference},
                code="conflict",
            ) from exc
        audit_record(
            subject=review,
            action=AuditAction.REVIEW_ASSIGNED,
            actor=by,
            call=call,
            person=reviewer,
            after=_assignment_values(review),
        )
        outbox_queue_many([_invitation(review, proposal, call)])
    return review


def _assignment_values(review: Review) -> dict[str, str]:
    return {
        "proposal": str(review.proposal),
        "reviewer": review.reviewer.display_name,
        "kind": str(review.get_kind_display()),
        "state": str(review.get_state_display()),
        "due": format_instant(review.due_at, review.proposal.call.tz) if review.due_at else "",
    }


def review_remove(*, review: Review, by: User) -> None:
    """A manager takes an invited or accepted review off its reviewer (for instance when it is
    overdue); the next suggestion fills the place, never with the same reviewer.

    Refused (ValidationError) for a submitted review: it is part of the proposal's assessment
    and the reviewer's work; a manager reopens it if it must change. Refused as well for a
    review already declined or removed.

    Side effects: state removed; an audit entry. No email.
    """
    with transaction.atomic():
        # The proposal row first, then the review: the order of the other review services.
        # No call lock: taking a review off never pushes anyone past a limit.
        Proposal.objects.select_for_update(of=("self",)).filter(pk=review.proposal_id).first()
        locked = (
            Review.objects.select_for_update(of=("self",))
            .select_related("proposal__call", "reviewer")
            .get(pk=review.pk)
        )
        if locked.state == ReviewState.SUBMITTED:
            raise ValidationError(
                _(
                    "A submitted review cannot be removed: it is part of the proposal's "
                    "assessment. Reopen it if it must change."
                ),
                code="submitted",
            )
        if locked.state not in OUTSTANDING:
            raise ValidationError(
                _("This review is %(state)s already; there is nothing to remove.")
                % {"state": locked.get_state_display().lower()},
                code="not_active",
            )
        before = str(locked.get_state_display())
        REVIEW_LIFECYCLE.move(locked, ReviewState.REMOVED)
        audit_record(
            subject=locked,
            action=AuditAction.REVIEW_REMOVED,
            actor=by,
            call=locked.proposal.call,
            person=locked.reviewer,
            before={"state": before},
            after={"state": str(locked.get_state_display())},
        )
    review.state = locked.state  # lifecycle: the caller sees the locked row
